"""The schema of a raw extraction sheet, checked with pandera.

Every cell is read as text, exactly as printed; the schema checks the columns
and the controlled words, and the parsers in :mod:`sbrtmeta.printed_cells` and
:mod:`sbrtmeta.dose_strings` read the printed values.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from .errors import InputError
from .vocabulary import BASES, GROUPINGS, SITES

RAW_COLUMNS = (
    "row_id", "review", "source_section", "ref", "first_author", "site", "arm", "grouping",
    "design_printed", "patients_printed", "lesions_printed", "primary_printed",
    "arm_patients_printed", "arm_lesions_printed", "institution", "mfu_printed",
    "dose_printed", "time_printed", "prescription", "lc_printed", "os_printed",
    "toxicity", "p_value", "basis", "quote", "notes",
)
# Columns a sheet may leave out (the colorectal review prints no years or PMIDs).
OPTIONAL_COLUMNS = ("year", "citation", "pmid", "source_address")
REQUIRED_NONEMPTY = ("row_id", "review", "source_section", "ref", "site", "arm", "grouping", "basis")

_text = {c: pa.Column(str, nullable=False) for c in RAW_COLUMNS}
_text.update({c: pa.Column(str, pa.Check.str_length(min_value=1), nullable=False)
              for c in REQUIRED_NONEMPTY})
_text["row_id"] = pa.Column(str, [pa.Check.str_length(min_value=1)], unique=True, nullable=False)
_text["review"] = pa.Column(str, pa.Check.str_matches(r"^[a-z][a-z0-9_]*$"), nullable=False)
_text["site"] = pa.Column(str, pa.Check.isin(SITES), nullable=False)
_text["grouping"] = pa.Column(str, pa.Check.isin(GROUPINGS), nullable=False)
_text["basis"] = pa.Column(str, pa.Check.isin(BASES), nullable=False)
_text.update({c: pa.Column(str, nullable=False, required=False) for c in OPTIONAL_COLUMNS})
_text["year"] = pa.Column(str, pa.Check.str_matches(r"^(?:\d{4})?$"), nullable=False, required=False)

RAW_SCHEMA = pa.DataFrameSchema(_text, strict=True, ordered=False, coerce=False)

LEDGER_COLUMNS = ("file", "row_id", "column", "printed", "corrected", "reason")
LEDGER_SCHEMA = pa.DataFrameSchema(
    {
        "file": pa.Column(str, pa.Check.str_length(min_value=1)),
        "row_id": pa.Column(str, pa.Check.str_length(min_value=1)),
        "column": pa.Column(str, pa.Check.isin(RAW_COLUMNS)),
        "printed": pa.Column(str),
        "corrected": pa.Column(str),
        "reason": pa.Column(str, pa.Check.str_length(min_value=10)),
    },
    strict=True,
    unique=["file", "row_id", "column"],
)

MAX_REPORTED_ERRORS = 20


def _describe_check(check: str) -> str:
    check = str(check)
    if check.startswith("isin("):
        return "must be one of " + check[len("isin("):-1]
    if check.startswith("str_length("):
        return "must not be empty"
    if check.startswith("str_matches("):
        return "must match " + check[len("str_matches("):-1]
    if check == "field_uniqueness" or check.startswith("unique"):
        return "must be unique"
    if check == "column_in_dataframe":
        return "required column is missing"
    if check == "column_in_schema":
        return "column is not part of the schema (misspelt?)"
    return check


def validate_table(frame: pd.DataFrame, schema: pa.DataFrameSchema, path: str) -> pd.DataFrame:
    """Validate ``frame`` against ``schema``; raise one :class:`InputError` listing
    every failure (up to a limit), each naming file, row, column and value.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    """
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        lines = []
        cases = exc.failure_cases
        for case in cases.itertuples(index=False):
            idx = case.index
            row = int(idx) + 2 if idx is not None and not pd.isna(idx) else None
            column = case.column if isinstance(case.column, str) else None
            value = case.failure_case
            if case.check == "column_in_dataframe":
                column, value = value, None
            if case.check == "column_in_schema":
                column, value = value, None
            lines.append(str(InputError(_describe_check(case.check), file=path, row=row,
                                        column=column, value=value)))
        more = len(lines) - MAX_REPORTED_ERRORS
        lines = lines[:MAX_REPORTED_ERRORS] + ([f"... and {more} more"] if more > 0 else [])
        raise InputError("\n".join(lines)) from None
