"""Your own extraction sheet: a tidy table in the format of ``results/clean/outcomes.csv``.

A tidy sheet (CSV or an .xlsx worksheet, listed in config ``data.tidy_sheets``)
has one row per study × arm × endpoint × time point, with the columns of
:data:`TIDY_COLUMNS`. Only :data:`REQUIRED_COLUMNS` must be there; the others
may be left out or left empty and are filled as :data:`DEFAULTS` and
:func:`tidy_sheet_rows` say. Every column is checked with pandera in two passes:

1. as text, exactly as typed: the column names, the controlled words, and that
   numbers are numbers (no ``%``, no decimal comma);
2. as numbers: ranges (rates are proportions 0-1, n >= 1, time points > 0 ...)
   and rules across columns (events <= n, rate = events / n, no duplicate study ×
   arm × endpoint × time point, derived columns agree with what they derive from).

Every failing cell is one :class:`~sbrtmeta.data.errors.InputError` line naming file,
row (header = row 1), column, value and rule; all of a sheet's errors are raised
together as :class:`~sbrtmeta.data.errors.InputErrors`.
"""

from __future__ import annotations

import math
import re
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sbrtmeta.data.dose_strings import parse_dose
from sbrtmeta.data.errors import CellParseError, InputError, InputErrors
from sbrtmeta.data.sheets import (
    INFINITE,
    blank_row_check,
    duplicate_check,
    formula_checks,
    read_table,
    schema_failures,
    sheet_label,
    wide_check,
)
from sbrtmeta.data.vocabulary import (
    BASES,
    DESIGN_WORDS,
    ENDPOINTS,
    GROUPINGS,
    HISTOLOGIES,
    PRIMARIES,
    PRIMARY_HISTOLOGY,
    SITES,
)

if TYPE_CHECKING:  # the schemas are built on first use: inclusion reads the column lists without pandera
    import pandera.pandas as pa

TIDY_COLUMNS = (
    "study_id",
    "ref",
    "first_author",
    "year",
    "review",
    "site",
    "design",
    "primary",
    "histology",
    "review_histology",
    "arm",
    "grouping",
    "mfu_months",
    "n_patients",
    "n_lesions",
    "dose_text",
    "total_dose_gy",
    "fractions",
    "bed10",
    "dose_rule",
    "endpoint",
    "timepoint_months",
    "rate",
    "n",
    "n_basis",
    "events",
    "basis",
    "source",
    "source_type",
    "raw_file",
    "raw_row",
    "corrected_columns",
    "note",
)
# A tidy sheet must have these columns (year and first_author may be empty cells).
REQUIRED_COLUMNS = ("study_id", "first_author", "year", "site", "endpoint", "timepoint_months", "events", "n")
NONEMPTY_COLUMNS = ("study_id", "site", "endpoint")
# Provenance the cleanup writes itself: the tidy sheet's file name and row, and the ledger's repairs.
WRITTEN_BY_CLEANUP = ("raw_file", "raw_row", "corrected_columns")
# Columns computed from others; a sheet may give them, but they must agree.
DERIVED_COLUMNS = ("histology", "review_histology", "total_dose_gy", "fractions", "bed10", "dose_rule")
INT_COLUMNS = ("year", "n_patients", "n_lesions", "fractions", "n", "events")
FLOAT_COLUMNS = ("mfu_months", "total_dose_gy", "bed10", "timepoint_months", "rate")
# Free text (ids, names, sources, notes): checked for text a spreadsheet would run as a formula.
FREE_TEXT_COLUMNS = ("study_id", "ref", "first_author", "arm", "dose_text", "dose_rule", "source", "note")
DEFAULT_REVIEW = "own"
# What an empty or missing optional cell becomes (ref defaults to the row's study_id).
DEFAULTS = {
    "review": DEFAULT_REVIEW,
    "design": "not reported",
    "primary": "unspecified",
    "arm": "all",
    "grouping": "all",
    "basis": "actuarial",
    "source_type": "primary study",
}
SOURCE_TYPES = ("review", "primary study")
N_BASES = ("patients", "lesions")

PERCENT = "has a % sign: give a plain number"
PERCENT_RATE = "has a % sign: give the rate as a proportion between 0 and 1 (85 % is 0.85)"
DECIMAL_COMMA = "uses a comma: write decimals with a point (0.85) and no thousands separator"
NOT_A_NUMBER = "is not a number"
NOT_WHOLE = "must be a whole number"
WRITTEN = "is written by the cleanup (the sheet's file name and row): delete this column"
EVENTS_OVER_N = "events must not be more than n"
EVENTS_WITHOUT_N = "events is given but n is empty: give n too"
RATE_MISMATCH = "rate does not match events / n (it must round to events of n)"
DUPLICATE = (
    "repeats an earlier row's study_id, arm, endpoint, timepoint_months, basis and source "
    "(duplicate study × arm × endpoint × time point)"
)
HISTOLOGY_MISMATCH = "histology contradicts primary (crc → colorectal, sarcoma → sarcoma, others → mixed)"
REVIEW_HISTOLOGY_MISMATCH = "review_histology contradicts config cleanup.review_histology for this review"
DOSE_MISMATCH = "{column} does not match what dose_text gives; leave it empty to have it computed"

TOO_LARGE = "is too large: numbers must be at most 1e15 in size"
TOO_LARGE_COUNT = "is too large: whole numbers (counts, years, fractions) must be at most 2^53 (9007199254740992)"
TOO_SMALL = "is too small to be stored exactly (below 2.2e-308, the smallest normal float): write 0 or a larger number"

_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_COMMA_NUMBER = re.compile(r"^[-+]?\d+(?:,\d+)+$")
_INFINITY = re.compile(r"^[-+]?(?:inf|infinity)$", re.IGNORECASE)
# Largest magnitude of a number in a sheet: every integer up to 2^53 is exact in a float (counts);
# other numbers (months, Gy, rates) above 1e15 are no measurement.
MAX_COUNT = 2**53
MAX_NUMBER = 10**15


def _too_large(v: str, column: str) -> bool:
    # Decimal, not float: 2^53 + 1 rounds to 2^53 as a float
    return bool(_NUMBER.match(v)) and abs(Decimal(v)) > (MAX_COUNT if column in INT_COLUMNS else Decimal(MAX_NUMBER))


def _too_small(v: str) -> bool:
    """A non-zero number that underflows: below the smallest normal float (1e-320), or to 0 (1e-400)."""
    if not _NUMBER.match(v):
        return False
    x = abs(float(v))
    nonzero = bool(re.search(r"[1-9]", re.split(r"[eE]", v)[0]))
    return nonzero and x < sys.float_info.min


def _sized(v: str, column: str) -> bool:
    """A number within the range a sheet may hold (not too large, not underflowing)."""
    return not _too_large(v, column) and not _too_small(v)


def _number_text_checks(column: str) -> list[pa.Check]:
    """Checks on a numeric column as typed; one bad cell fails exactly one of them."""
    import pandera.pandas as pa

    def no_percent(v):
        return "%" not in v

    def no_comma(v):
        return not _COMMA_NUMBER.match(v.strip())

    def number(v):
        v = v.strip()
        return v == "" or "%" in v or bool(_COMMA_NUMBER.match(v)) or bool(_NUMBER.match(v)) or bool(_INFINITY.match(v))

    checks = [
        pa.Check(no_percent, element_wise=True, error=PERCENT_RATE if column == "rate" else PERCENT),
        pa.Check(no_comma, element_wise=True, error=DECIMAL_COMMA),
        pa.Check(number, element_wise=True, error=NOT_A_NUMBER),
        pa.Check(lambda v: not _INFINITY.match(v.strip()), element_wise=True, error=INFINITE),
        pa.Check(
            lambda v: not _too_large(v.strip(), column),
            element_wise=True,
            error=TOO_LARGE_COUNT if column in INT_COLUMNS else TOO_LARGE,
        ),
        pa.Check(lambda v: not _too_small(v.strip()), element_wise=True, error=TOO_SMALL),
    ]
    if column in INT_COLUMNS:

        def whole(v):
            v = v.strip()
            return not _NUMBER.match(v) or not _sized(v, column) or float(v).is_integer()

        checks.append(pa.Check(whole, element_wise=True, error=NOT_WHOLE))
    return checks


def _words(column: str, words, default: str | None = None) -> pa.Column:
    import pandera.pandas as pa

    allowed = list(words) + ([""] if column not in NONEMPTY_COLUMNS else [])
    error = f"must be one of {list(words)}" + (f" (empty means {default!r})" if default else "")
    return pa.Column(
        str, pa.Check(lambda v: v in allowed, element_wise=True, error=error), required=column in REQUIRED_COLUMNS
    )


@cache
def text_schema() -> pa.DataFrameSchema:
    """The checks of a tidy sheet's cells as typed (text), built on first use."""
    import pandera.pandas as pa

    cols = {c: pa.Column(str, required=c in REQUIRED_COLUMNS) for c in TIDY_COLUMNS}
    for c in NONEMPTY_COLUMNS:
        cols[c] = pa.Column(
            str, pa.Check(lambda v: v.strip() != "", element_wise=True, error="must not be empty"), required=True
        )
    for c in INT_COLUMNS + FLOAT_COLUMNS:
        cols[c] = pa.Column(str, _number_text_checks(c), required=c in REQUIRED_COLUMNS)
    cols["site"] = _words("site", SITES)
    cols["endpoint"] = _words("endpoint", ENDPOINTS)
    cols["design"] = _words("design", DESIGN_WORDS, DEFAULTS["design"])
    cols["primary"] = _words("primary", PRIMARIES, DEFAULTS["primary"])
    cols["histology"] = _words("histology", HISTOLOGIES)
    cols["review_histology"] = _words("review_histology", HISTOLOGIES)
    cols["grouping"] = _words("grouping", GROUPINGS, DEFAULTS["grouping"])
    cols["basis"] = _words("basis", BASES, DEFAULTS["basis"])
    cols["n_basis"] = _words("n_basis", N_BASES)
    cols["source_type"] = _words("source_type", SOURCE_TYPES, DEFAULTS["source_type"])
    cols["review"] = pa.Column(
        str,
        pa.Check(
            lambda v: v == "" or bool(re.match(r"^[a-z][a-z0-9_]*$", v)),
            element_wise=True,
            error=f"must be lower-case letters, digits or _ , starting with a letter (empty means {DEFAULT_REVIEW!r})",
        ),
        required=False,
    )
    for c in FREE_TEXT_COLUMNS:
        cols[c] = pa.Column(str, list(cols[c].checks) + formula_checks(), required=c in REQUIRED_COLUMNS)
    for c in WRITTEN_BY_CLEANUP:
        cols[c] = pa.Column(str, pa.Check(lambda s: False, error=WRITTEN), required=False)
    return pa.DataFrameSchema(cols, strict=True, ordered=False, checks=[blank_row_check()])


def _close(a, b) -> pd.Series:
    """Given (a) agrees with derived (b): a is empty, or both are numbers within 1e-6."""
    a, b = pd.to_numeric(a, errors="coerce").astype(float), pd.to_numeric(b, errors="coerce").astype(float)
    return a.isna() | (b.notna() & (np.abs(a - b) <= 1e-6 * np.maximum(1.0, np.abs(b))))


def _rate_matches(df: pd.DataFrame) -> pd.Series:
    rate, ev, n = (df[c].astype(float) for c in ("rate", "events", "n"))
    known = rate.notna() & ev.notna() & n.notna() & (n > 0)
    return ~known | ((rate - ev / n).abs() <= 0.5 / n + 1e-9)


@cache
def typed_schema() -> pa.DataFrameSchema:
    """The checks of a tidy sheet's numbers and of its rows across columns, built on first use."""
    import pandera.pandas as pa

    def num(dtype, *checks):
        return pa.Column(dtype, list(checks), nullable=True)

    cols = {
        "year": num("Int64", pa.Check.in_range(1900, 2100, error="must be a year between 1900 and 2100")),
        "n": num("Int64", pa.Check.ge(1, error="must be at least 1")),
        "n_patients": num("Int64", pa.Check.ge(1, error="must be at least 1")),
        "n_lesions": num("Int64", pa.Check.ge(1, error="must be at least 1")),
        "events": num("Int64", pa.Check.ge(0, error="must be at least 0")),
        "fractions": num("Int64", pa.Check.ge(1, error="must be at least 1")),
        "rate": num("Float64", pa.Check.in_range(0, 1, error="must be a proportion between 0 and 1 (85 % is 0.85)")),
        "timepoint_months": num("Float64", pa.Check.gt(0, error="must be more than 0 months")),
        "mfu_months": num("Float64", pa.Check.gt(0, error="must be more than 0 months")),
        "total_dose_gy": num("Float64", pa.Check.gt(0, error="must be more than 0 Gy")),
        "bed10": num("Float64", pa.Check.gt(0, error="must be more than 0 Gy")),
    }
    checks = [
        wide_check(
            lambda d: d["events"].isna() | d["n"].isna() | (d["events"] <= d["n"]).fillna(True), EVENTS_OVER_N, "events"
        ),
        wide_check(lambda d: d["events"].isna() | d["n"].notna(), EVENTS_WITHOUT_N, "events"),
        wide_check(_rate_matches, RATE_MISMATCH, "rate"),
        duplicate_check(["study_id", "arm", "endpoint", "timepoint_months", "basis", "source"], DUPLICATE, "study_id"),
        wide_check(
            lambda d: (d["histology"] == "") | (d["histology"] == d["_histology"]), HISTOLOGY_MISMATCH, "histology"
        ),
        wide_check(
            lambda d: (d["review_histology"] == "") | (d["review_histology"] == d["_review_histology"]),
            REVIEW_HISTOLOGY_MISMATCH,
            "review_histology",
        ),
        wide_check(
            lambda d: (d["dose_rule"] == "") | (d["dose_rule"] == d["_dose_rule"]),
            DOSE_MISMATCH.format(column="dose_rule"),
            "dose_rule",
        ),
    ]
    for c in ("total_dose_gy", "fractions", "bed10"):
        checks.append(wide_check(lambda d, c=c: _close(d[c], d["_" + c]), DOSE_MISMATCH.format(column=c), c))
    return pa.DataFrameSchema(cols, checks=checks, strict=False)


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The numeric columns as numbers; a cell the text checks refused (infinite, too large ...)
    becomes empty here, so converting it cannot fail (its row is left out of the typed checks)."""
    out = frame.copy()
    for c in INT_COLUMNS:
        x = pd.to_numeric(out[c].str.strip(), errors="coerce").astype(float)
        out[c] = x.where(np.isfinite(x) & (x.abs() <= MAX_COUNT)).round().astype("Int64")
    for c in FLOAT_COLUMNS:
        x = pd.to_numeric(out[c].str.strip(), errors="coerce").astype(float)
        out[c] = x.where(np.isfinite(x)).astype("Float64")
    return out


def _filled(frame: pd.DataFrame, review_histology: dict) -> pd.DataFrame:
    """Every tidy column the sheet may hold, with ``ref``, :data:`DEFAULTS` and the histologies filled in."""
    full = frame.reindex(columns=[c for c in TIDY_COLUMNS if c not in WRITTEN_BY_CLEANUP], fill_value="")
    for c, default in DEFAULTS.items():
        full[c] = full[c].where(full[c] != "", default)
    full["ref"] = full["ref"].where(full["ref"] != "", full["study_id"])
    full["_histology"] = full["primary"].map(lambda p: PRIMARY_HISTOLOGY.get(p, "mixed"))
    chosen = full["histology"].where(full["histology"] != "", full["_histology"])
    full["_review_histology"] = [review_histology.get(r, h) for r, h in zip(full["review"], chosen)]
    return full


def _dose_summaries(full: pd.DataFrame, alpha_beta: float, label: str, bad_rows: set, errors: list) -> dict:
    """Index -> the dose summary of each sound row's ``dose_text``; a text that does not parse adds an
    error (and its row to ``bad_rows``). Each distinct text is parsed once (a large sheet repeats a few
    regimens)."""
    summaries, parsed = {}, {}
    for i, text in full["dose_text"].items():
        row = i + 2
        if not text or row in bad_rows:
            continue
        if text not in parsed:
            try:
                spec = parse_dose(text)
                parsed[text] = spec.summary(alpha_beta) if spec is not None else None
            except CellParseError as exc:
                parsed[text] = exc
        if isinstance(parsed[text], CellParseError):
            errors.append(InputError(str(parsed[text]), file=label, row=row, column="dose_text", value=text))
            bad_rows.add(row)
            continue
        summaries[i] = parsed[text]
    return summaries


def _add_dose_columns(full: pd.DataFrame, summaries: dict) -> None:
    """The dose columns computed from ``dose_text`` (``_total_dose_gy`` ...), for the typed checks."""
    full["_total_dose_gy"] = pd.array(
        [getattr(summaries.get(i), "total_dose_gy", None) for i in full.index], dtype="Float64"
    )
    full["_fractions"] = pd.array([getattr(summaries.get(i), "fractions", None) for i in full.index], dtype="Int64")
    beds = [getattr(summaries.get(i), "bed", float("nan")) for i in full.index]
    full["_bed10"] = pd.array(
        [round(b, 6) if b is not None and math.isfinite(b) else None for b in beds], dtype="Float64"
    )
    full["_dose_rule"] = [getattr(summaries.get(i), "rule", "") for i in full.index]


def _typed_failures(typed: pd.DataFrame, frame: pd.DataFrame, bad_rows: set, label: str) -> list[InputError]:
    """The typed schema's failures on the rows that passed the text checks, quoting cells as typed."""
    errors = []
    good = typed[[i + 2 not in bad_rows for i in typed.index]]
    for e in schema_failures(good, typed_schema(), label):
        if e.row is not None and e.column in frame.columns:  # quote the cell as typed, not as converted
            e = InputError(e.reason, file=e.file, row=e.row, column=e.column, value=frame.at[e.row - 2, e.column])
        errors.append(e)
    return errors


def tidy_sheet_rows(
    path: str | Path,
    worksheet: str | None = None,
    alpha_beta: float = 10.0,
    review_histology: dict[str, str] | None = None,
) -> list[dict]:
    """Read and validate one tidy sheet; return its rows in the tidy format.

    Spaces around a cell's value are ignored.
    Raises :class:`InputErrors` with every problem of the sheet. Filled in when
    empty or missing: ``ref`` = study_id, :data:`DEFAULTS`, ``histology`` from
    ``primary`` (crc → colorectal, sarcoma → sarcoma, else mixed),
    ``review_histology`` from config ``cleanup.review_histology`` (else the row's
    histology), ``rate`` = events / n, ``events`` = rate × n rounded half up (as for
    printed sheets), dose columns from ``dose_text``; ``raw_file`` and ``raw_row``
    are the sheet's file name and row.
    """
    label = sheet_label(path, worksheet)
    frame = read_table(path, worksheet).map(lambda v: v.strip() if isinstance(v, str) else v)
    errors = schema_failures(frame, text_schema(), label)
    bad_rows = {e.row for e in errors}
    if any(e.row is None for e in errors):  # a column is missing or misnamed: stop at the header
        raise InputErrors(errors)
    full = _filled(frame, review_histology or {})
    _add_dose_columns(full, _dose_summaries(full, alpha_beta, label, bad_rows, errors))
    typed = _numbers(full)
    errors += _typed_failures(typed, frame, bad_rows, label)
    if errors:
        order = {c: k for k, c in enumerate(TIDY_COLUMNS)}
        errors.sort(key=lambda e: (e.row or 0, order.get(e.column, -1)))
        raise InputErrors(errors)
    name = Path(path).name  # rows as dicts: iterrows() would cost seconds on a 10^5-row sheet
    return [_tidy_row(r, i + 2, name) for i, r in zip(typed.index, typed.to_dict("records"))]


def _value(x):
    return None if x is None or pd.isna(x) else x


def _tidy_row(r: dict, row: int, name: str) -> dict:
    n, events, rate = _value(r["n"]), _value(r["events"]), _value(r["rate"])
    if rate is None and events is not None and n is not None:
        rate = round(events / n, 10)
    if events is None and rate is not None and n is not None:
        events = _half_up(rate * n)
    out = {c: r[c] for c in TIDY_COLUMNS if c not in WRITTEN_BY_CLEANUP}
    out.update({c: _value(r[c]) for c in INT_COLUMNS + FLOAT_COLUMNS})
    out.update(
        histology=r["histology"] or r["_histology"],
        review_histology=r["review_histology"] or r["_review_histology"],
        total_dose_gy=_value(r["total_dose_gy"])
        if _value(r["total_dose_gy"]) is not None
        else _value(r["_total_dose_gy"]),
        fractions=_value(r["fractions"]) if _value(r["fractions"]) is not None else _value(r["_fractions"]),
        bed10=_value(r["bed10"]) if _value(r["bed10"]) is not None else _value(r["_bed10"]),
        dose_rule=r["dose_rule"] or r["_dose_rule"],
        n=n,
        events=events,
        rate=rate,
        raw_file=name,
        raw_row=str(row),
        corrected_columns="",
    )
    return out
