"""Extraction cleanup: raw sheets as printed → one tidy table of outcomes.

The raw sheet keeps each arm or subgroup as the source prints it, with its local
control (LC) and overall survival (OS) cells. The cleanup applies the corrections
ledger, parses counts, doses and rates, and writes one row per
study × arm × endpoint × time point. It refuses what it cannot read, naming the
file, row, column and value.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .dose_strings import parse_dose
from .errors import CellParseError, InputError
from .printed_cells import parse_count, parse_primary, parse_rates, primary_of_groups
from .raw_schema import LEDGER_SCHEMA, RAW_SCHEMA, validate_table
from .vocabulary import DESIGNS, ENDPOINT_COLUMNS

TIDY_COLUMNS = (
    "study_id", "ref", "first_author", "review", "site", "design", "primary", "arm", "grouping",
    "n_patients", "n_lesions", "dose_text", "total_dose_gy", "fractions", "bed10", "dose_rule",
    "endpoint", "timepoint_months", "rate", "n", "n_basis", "events", "basis", "source",
    "raw_file", "raw_row", "corrected_columns", "note",
)

DEFAULT_DENOMINATOR = {"LC": "lesions", "OS": "patients"}


def read_sheet(path: str | Path) -> pd.DataFrame:
    """Read a CSV sheet as text, exactly as printed (no NA guessing)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV",
                         file=str(path)) from None
    except pd.errors.EmptyDataError:
        raise InputError("is empty: expected a header row and data rows", file=str(path)) from None
    if frame.empty:
        raise InputError("has a header but no data rows", file=str(path))
    return frame


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
            raise InputError(f"names row_id {entry.row_id!r}, which {raw_name} does not have",
                             file=ledger_path, row=lrow, column="row_id", value=entry.row_id)
        i = by_id[entry.row_id]
        current = out.at[i, entry.column]
        if current != entry.printed:
            raise InputError(
                f"says {raw_name} row_id {entry.row_id} prints {entry.printed!r} in {entry.column}, "
                f"but the sheet has {current!r}; update the ledger or the sheet",
                file=ledger_path, row=lrow, column="printed", value=entry.printed)
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


def tidy_rows(raw: pd.DataFrame, path: str, touched: dict[int, list[str]] | None = None,
              denominator: dict[str, str] | None = None, alpha_beta: float = 10.0) -> list[dict]:
    """Turn a validated, corrected raw sheet into tidy outcome rows."""
    denominator = {**DEFAULT_DENOMINATOR, **(denominator or {})}
    touched = touched or {}
    raw_name = Path(path).name
    out = []
    for i, r in raw.iterrows():
        row = i + 2

        def cell(column, parser, *args):
            try:
                return parser(r[column], *args)
            except CellParseError as exc:
                raise InputError(str(exc), file=path, row=row, column=column, value=r[column]) from None

        def count(column):
            parsed = cell(column, parse_count)
            if parsed.total is not None and parsed.total < 1:
                raise InputError("n must be at least 1", file=path, row=row, column=column, value=r[column])
            return parsed

        design = cell("design_printed", _design)
        patients, lesions = count("patients_printed"), count("lesions_printed")
        arm_patients, arm_lesions = count("arm_patients_printed"), count("arm_lesions_printed")
        labelled = [c for c in ((arm_patients, arm_lesions) if r["grouping"] != "all" else ())
                    + (patients, lesions) if c.groups]
        if labelled:
            primary = primary_of_groups(labelled[0].groups)
        else:
            primary = cell("primary_printed", parse_primary)
        dose = cell("dose_printed", parse_dose) if r["dose_printed"].strip() else None
        summary = dose.summary(alpha_beta) if dose else None
        notes = []
        for count, name in ((lesions, "lesions"), (patients, "patients")):
            if count.lower_bound is not None:
                notes.append(f"{name} printed as a lower bound ({count.printed}), not used as n")

        for endpoint, column in ENDPOINT_COLUMNS.items():
            for rate in cell(column, parse_rates, r["basis"]):
                whole_study = rate.for_all or r["grouping"] == "all"
                if whole_study:
                    n_pat, n_les = patients.total, lesions.total
                else:
                    n_pat, n_les = arm_patients.total, arm_lesions.total
                row_note = list(notes)
                if rate.n is not None:
                    n, n_basis, events = rate.n, "patients", rate.events
                else:
                    want = denominator[endpoint]
                    if want == "lesions" and n_les is not None:
                        n, n_basis = n_les, "lesions"
                    else:
                        n, n_basis = n_pat, ("patients" if n_pat is not None else "")
                    events = _half_up(rate.rate_pct / 100.0 * n) if (n and rate.rate_pct is not None) else None
                if n is None:
                    row_note.append("arm sample size not printed" if not whole_study
                                    else "sample size not printed")
                if rate.note:
                    row_note.append(rate.note)
                if rate.for_all:
                    row_note.append("value printed once for all arms")
                keep_dose = summary is not None and not rate.for_all
                out.append({
                    "study_id": f"{r['review']}-{r['ref']}",
                    "ref": r["ref"],
                    "first_author": r["first_author"],
                    "review": r["review"],
                    "site": r["site"],
                    "design": design,
                    "primary": primary,
                    "arm": "all" if rate.for_all else r["arm"],
                    "grouping": "all" if rate.for_all else r["grouping"],
                    "n_patients": n_pat,
                    "n_lesions": n_les,
                    "dose_text": r["dose_printed"] if not rate.for_all else "",
                    "total_dose_gy": summary.total_dose_gy if keep_dose else None,
                    "fractions": summary.fractions if keep_dose else None,
                    "bed10": round(summary.bed, 6) if keep_dose else None,
                    "dose_rule": summary.rule if keep_dose else "",
                    "endpoint": endpoint,
                    "timepoint_months": rate.timepoint_months,
                    "rate": None if rate.rate_pct is None else round(rate.rate_pct / 100.0, 10),
                    "n": n,
                    "n_basis": n_basis,
                    "events": events,
                    "basis": rate.basis,
                    "source": f"{r['review']} {r['source_section']}, ref {r['ref']}",
                    "raw_file": raw_name,
                    "raw_row": r["row_id"],
                    "corrected_columns": ";".join(touched.get(i, [])),
                    "note": "; ".join(row_note),
                })
    return out


def clean_extraction(sheets, ledger_path, denominator=None, alpha_beta: float = 10.0) -> pd.DataFrame:
    """Validate, correct and tidy every sheet; return the tidy table."""
    ledger = read_sheet(ledger_path) if Path(ledger_path).stat().st_size else pd.DataFrame(columns=[])
    ledger = validate_table(ledger, LEDGER_SCHEMA, str(ledger_path))
    known = {Path(s).name for s in sheets}
    for lrow, name in enumerate(ledger["file"], start=2):
        if name not in known:
            raise InputError(f"names a sheet that is not configured ({sorted(known)})",
                             file=str(ledger_path), row=lrow, column="file", value=name)
    rows = []
    for sheet in sheets:
        raw = validate_table(read_sheet(sheet), RAW_SCHEMA, str(sheet))
        corrected, touched = apply_corrections(raw, ledger, Path(sheet).name, str(ledger_path))
        rows += tidy_rows(corrected, str(sheet), touched, denominator, alpha_beta)
    tidy = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    for col in ("n_patients", "n_lesions", "fractions", "n", "events"):
        tidy[col] = tidy[col].astype("Int64")
    for col in ("total_dose_gy", "bed10", "timepoint_months", "rate"):
        tidy[col] = tidy[col].astype("Float64")
    return tidy
