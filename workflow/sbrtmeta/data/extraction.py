"""Extraction cleanup: raw sheets as printed → one tidy table of outcomes.

The raw sheet keeps each arm or subgroup as the source prints it, with its local
control (LC) and overall survival (OS) cells. The cleanup applies the corrections
ledger, parses counts, doses and rates, and writes one row per
study × arm × endpoint × time point. It refuses what it cannot read, naming the
file, row, column and value.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sbrtmeta.data.dose_strings import parse_dose
from sbrtmeta.data.errors import CellParseError, InputError, InputErrors, raise_collected
from sbrtmeta.data.printed_cells import (
    CountCell,
    parse_count,
    parse_follow_up,
    parse_primary,
    parse_rates,
    primary_of_groups,
)
from sbrtmeta.data.raw_schema import LEDGER_SCHEMA, RAW_SCHEMA
from sbrtmeta.data.sheets import read_table, schema_failures, validate_table
from sbrtmeta.data.tidy_schema import TIDY_COLUMNS, tidy_sheet_rows
from sbrtmeta.data.vocabulary import DESIGNS, ENDPOINT_COLUMNS, PRIMARY_HISTOLOGY

_LOG = logging.getLogger(__name__)

DEFAULT_DENOMINATOR = {"LC": "lesions", "OS": "patients"}
DEFAULT_REVIEW_HISTOLOGY = {"crc2014": "colorectal", "sarcoma2023": "sarcoma"}


def read_sheet(path: str | Path, allow_empty: bool = False) -> pd.DataFrame:
    """Read a CSV sheet as text, exactly as printed (no NA guessing). ``allow_empty``
    accepts a header without rows (a corrections ledger with nothing to correct)."""
    return read_table(path, allow_empty=allow_empty)


def apply_corrections(raw: pd.DataFrame, ledger: pd.DataFrame, raw_name: str, ledger_path: str):
    """Apply the ledger's repairs for ``raw_name``; return the corrected copy and,
    per row index, the corrected column names.

    Each ledger entry must match the value printed in the sheet, so a ledger that
    has drifted from the data fails loudly instead of repairing the wrong cell.
    """
    out = raw.copy()
    touched: dict[int, list[str]] = {}
    by_id = {rid: i for i, rid in enumerate(out["row_id"])}
    for lrow, entry in enumerate(ledger.itertuples(index=False), start=2):
        if entry.file != raw_name:
            continue
        if entry.row_id not in by_id:
            raise InputError(
                f"names row_id {entry.row_id!r}, which {raw_name} does not have",
                file=ledger_path,
                row=lrow,
                column="row_id",
                value=entry.row_id,
            )
        i = by_id[entry.row_id]
        current = out.at[i, entry.column]
        if current != entry.printed:
            raise InputError(
                f"says {raw_name} row_id {entry.row_id} prints {entry.printed!r} in {entry.column}, "
                f"but the sheet has {current!r}; update the ledger or the sheet",
                file=ledger_path,
                row=lrow,
                column="printed",
                value=entry.printed,
            )
        out.at[i, entry.column] = entry.corrected
        touched.setdefault(i, []).append(entry.column)
    return out, touched


def _design(printed: str) -> str:
    key = " ".join(printed.replace("Ⅰ", "I").replace("Ⅱ", "II").replace("Ⅲ", "III").split()).lower()
    if key not in DESIGNS:
        raise CellParseError(f"unknown study design {printed!r} (known: Retro, P I, P II, P I/II)")
    return DESIGNS[key]


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _source(r) -> tuple[str, str]:
    """Where a row comes from, in words, and whether that is a review or a primary study."""
    where = f"{r['review']} {r['source_section']}, ref {r['ref']}"
    pmid, address, citation = r.get("pmid", ""), r.get("source_address", ""), r.get("citation", "")
    parts = [x for x in (citation, f"PMID {pmid}" if pmid else "", address if address != f"PMID {pmid}" else "") if x]
    if parts:
        return where + "; " + "; ".join(parts), "primary study"
    return where, "review"


class _CellReader:
    """Parses the cells of one raw row; a cell that does not parse is recorded in ``errors``."""

    def __init__(self, r, path: str, row: int, errors: list):
        self.r, self.path, self.row, self.errors = r, path, row, errors

    def error(self, message: str, column: str) -> None:
        self.errors.append(InputError(message, file=self.path, row=self.row, column=column, value=self.r[column]))

    def cell(self, column, parser, *args, fallback=None):
        """The parsed cell, or ``fallback`` (and an error recorded) if it does not parse."""
        try:
            return parser(self.r[column], *args)
        except CellParseError as exc:
            self.error(str(exc), column)
            return fallback

    def count(self, column) -> CountCell:
        parsed = self.cell(column, parse_count, fallback=CountCell(self.r[column], None))
        if parsed.total is not None and parsed.total < 1:
            self.error("n must be at least 1", column)
        return parsed


@dataclass
class _ParsedRow:
    """What the outcome rows of one raw row share: the study fields, counts, dose and notes."""

    r: object
    base: dict
    patients: CountCell
    lesions: CountCell
    arm_patients: CountCell
    arm_lesions: CountCell
    summary: object
    notes: list


def _notes(counts, dose) -> list[str]:
    notes = []
    for c, name in counts:
        if c.lower_bound is not None:
            notes.append(f"{name} printed as a lower bound ({c.printed}), not used as n")
        if c.qualifier:
            notes.append(f"{name}: {c.printed}")
    if dose is not None and dose.notes:
        notes.append("dose: " + "; ".join(dose.notes))
    return notes


def _parse_row(read: _CellReader, i, raw_name: str, touched: dict, alpha_beta: float, review_histology: dict):
    """The shared fields of raw row ``i`` (cells parsed in column order, so errors come in that order)."""
    r = read.r
    design = read.cell("design_printed", _design, fallback="not reported")
    patients, lesions = read.count("patients_printed"), read.count("lesions_printed")
    arm_patients, arm_lesions = read.count("arm_patients_printed"), read.count("arm_lesions_printed")
    arm_counts = (arm_patients, arm_lesions) if r["grouping"] != "all" else ()
    labelled = [c for c in arm_counts + (patients, lesions) if c.groups]
    primary = (
        primary_of_groups(labelled[0].groups)
        if labelled
        else read.cell("primary_printed", parse_primary, fallback="unspecified")
    )
    mfu = read.cell("mfu_printed", parse_follow_up)
    dose = read.cell("dose_printed", parse_dose) if r["dose_printed"].strip() else None
    summary = dose.summary(alpha_beta) if dose else None
    notes = _notes(((lesions, "lesions"), (patients, "patients")), dose)
    source, source_type = _source(r)
    base = {
        "study_id": f"{r['review']}-{r['ref']}",
        "ref": r["ref"],
        "first_author": r["first_author"],
        "year": int(r["year"]) if r.get("year", "") else None,
        "review": r["review"],
        "site": r["site"],
        "design": design,
        "primary": primary,
        "histology": PRIMARY_HISTOLOGY.get(primary, "mixed"),
        "review_histology": review_histology[r["review"]],
        "mfu_months": mfu,
        "source": source,
        "source_type": source_type,
        "raw_file": raw_name,
        "raw_row": r["row_id"],
        "corrected_columns": ";".join(touched.get(i, [])),
    }
    return _ParsedRow(r, base, patients, lesions, arm_patients, arm_lesions, summary, notes)


def _sample_size(p: _ParsedRow, endpoint: str, rate, denominator: dict):
    """``(n_patients, n_lesions, n, n_basis, events, whole_study)`` of one outcome."""
    whole_study = rate is None or rate.for_all or p.r["grouping"] == "all"
    n_pat, n_les = (p.patients.total, p.lesions.total) if whole_study else (p.arm_patients.total, p.arm_lesions.total)
    n = events = None
    n_basis = ""
    if rate is not None and rate.n is not None:
        n, n_basis, events = rate.n, "patients" if n_les is None else "lesions", rate.events
    elif rate is not None:
        if denominator[endpoint] == "lesions" and n_les is not None:
            n, n_basis = n_les, "lesions"
        elif n_pat is not None:
            n, n_basis = n_pat, "patients"
        if n is not None and rate.rate_pct is not None:
            events = _half_up(rate.rate_pct / 100.0 * n)
    return n_pat, n_les, n, n_basis, events, whole_study


def _outcome_row(p: _ParsedRow, endpoint: str, rate, column: str, denominator: dict) -> dict:
    """One tidy row: an outcome of the raw row (``rate`` None: printed without a usable rate)."""
    r, summary = p.r, p.summary
    n_pat, n_les, n, n_basis, events, whole_study = _sample_size(p, endpoint, rate, denominator)
    row_note = list(p.notes)
    if rate is None:
        row_note.append(f"{endpoint} printed as {r[column]!r}: no rate" if r[column].strip() else "no outcome reported")
    else:
        if n is None:
            row_note.append("arm sample size not printed" if not whole_study else "sample size not printed")
        if rate.note:
            row_note.append(rate.note)
        if rate.for_all:
            row_note.append("value printed once for all arms")
    for_all = rate is not None and rate.for_all
    keep_dose = summary is not None and not for_all
    return {
        **p.base,
        "arm": "all" if for_all else r["arm"],
        "grouping": "all" if for_all else r["grouping"],
        "n_patients": n_pat,
        "n_lesions": n_les,
        "dose_text": "" if for_all else r["dose_printed"],
        "total_dose_gy": summary.total_dose_gy if keep_dose else None,
        "fractions": summary.fractions if keep_dose else None,
        "bed10": round(summary.bed, 6) if keep_dose and math.isfinite(summary.bed) else None,
        "dose_rule": summary.rule if keep_dose else "",
        "endpoint": endpoint,
        "timepoint_months": None if rate is None else rate.timepoint_months,
        "rate": None if rate is None or rate.rate_pct is None else round(rate.rate_pct / 100.0, 10),
        "n": n,
        "n_basis": n_basis,
        "events": events,
        "basis": r["basis"] if rate is None else rate.basis,
        "note": "; ".join(row_note),
    }


def _unknown_review(read: _CellReader, review_histology: dict) -> bool:
    if read.r["review"] in review_histology:
        return False
    read.error(
        f"review {read.r['review']!r} has no histology in config cleanup.review_histology "
        f"({sorted(review_histology)}); add it there",
        "review",
    )
    return True


def tidy_rows(
    raw: pd.DataFrame,
    path: str,
    touched: dict[int, list[str]] | None = None,
    denominator: dict[str, str] | None = None,
    alpha_beta: float = 10.0,
    review_histology: dict[str, str] | None = None,
) -> list[dict]:
    """Turn a validated, corrected raw sheet into tidy outcome rows.

    An outcome cell with text but no rate (``-``, ``not reported``, ``hazard ratios
    only``, a statement marked unusable) still gives a row, with an empty rate and
    the reason, so that nothing the source mentions disappears without a word.

    Every cell that does not parse is reported (one :class:`InputError` each,
    raised together as :class:`InputErrors`), not only the first.
    """
    denominator = {**DEFAULT_DENOMINATOR, **(denominator or {})}
    review_histology = review_histology or {}
    touched = touched or {}
    raw_name = Path(path).name
    out, errors = [], []
    for i, r in raw.iterrows():
        read = _CellReader(r, path, i + 2, errors)
        if _unknown_review(read, review_histology):
            continue
        parsed = _parse_row(read, i, raw_name, touched, alpha_beta, review_histology)
        before = len(out)
        for endpoint, column in ENDPOINT_COLUMNS.items():
            rates = read.cell(column, parse_rates, r["basis"], fallback=[])
            out += [_outcome_row(parsed, endpoint, rate, column, denominator) for rate in rates]
            if not rates and r[column].strip():
                out.append(_outcome_row(parsed, endpoint, None, column, denominator))
        if len(out) == before:
            out.append(_outcome_row(parsed, "LC", None, "lc_printed", denominator))
    raise_collected(errors)
    return out


def _printed_sheet_rows(sheet, ledger, ledger_path, denominator, alpha_beta, review_histology) -> list[dict]:
    raw = read_sheet(sheet)
    errors = schema_failures(raw, RAW_SCHEMA, str(sheet))
    if errors:
        raise InputErrors(errors)
    corrected, touched = apply_corrections(raw, ledger, Path(sheet).name, str(ledger_path))
    return tidy_rows(corrected, str(sheet), touched, denominator, alpha_beta, review_histology)


def tidy_sheet_entry(entry) -> tuple[str, str | None]:
    """A ``data.tidy_sheets`` entry (a path, or ``{path: ..., worksheet: ...}``) as (path, worksheet)."""
    if isinstance(entry, dict):
        return str(entry["path"]), entry.get("worksheet")
    return str(entry), None


def clean_extraction(
    sheets,
    ledger_path=None,
    denominator=None,
    alpha_beta: float = 10.0,
    review_histology: dict[str, str] | None = None,
    tidy_sheets=(),
) -> pd.DataFrame:
    """Validate, correct and tidy every sheet; return the tidy table.

    ``sheets`` are raw sheets as printed (they need the corrections ledger
    ``ledger_path``); ``tidy_sheets`` are sheets already in the tidy format (see
    :mod:`sbrtmeta.data.tidy_schema`), each a path or ``{path, worksheet}``. Rows come
    in config order: printed sheets first, then tidy sheets. Every sheet is checked
    before anything is returned; all errors found are raised together.
    """
    sheets, tidy_sheets = list(sheets), list(tidy_sheets or ())
    review_histology = review_histology or DEFAULT_REVIEW_HISTOLOGY
    rows, errors = [], []
    if sheets:
        if ledger_path is None:
            raise InputError("printed sheets need a corrections ledger (config data.corrections)")
        ledger = read_sheet(ledger_path, allow_empty=True)
        ledger = validate_table(ledger, LEDGER_SCHEMA, str(ledger_path))
        known = {Path(s).name for s in sheets}
        for lrow, name in enumerate(ledger["file"], start=2):
            if name not in known:
                raise InputError(
                    f"names a sheet that is not configured ({sorted(known)})",
                    file=str(ledger_path),
                    row=lrow,
                    column="file",
                    value=name,
                )
        for sheet in sheets:
            try:
                rows += _printed_sheet_rows(sheet, ledger, ledger_path, denominator, alpha_beta, review_histology)
            except InputError as exc:
                errors.append(exc)
    for entry in tidy_sheets:
        path, worksheet = tidy_sheet_entry(entry)
        try:
            rows += tidy_sheet_rows(path, worksheet, alpha_beta, review_histology)
        except InputError as exc:
            errors.append(exc)
    raise_collected(errors)
    tidy = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    for col in ("year", "n_patients", "n_lesions", "fractions", "n", "events"):
        tidy[col] = tidy[col].astype("Int64")
    for col in ("total_dose_gy", "bed10", "timepoint_months", "rate", "mfu_months"):
        tidy[col] = tidy[col].astype("Float64")
    return tidy
