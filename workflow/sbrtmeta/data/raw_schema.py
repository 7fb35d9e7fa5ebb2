"""The schema of a raw extraction sheet, checked with pandera.

Every cell is read as text, exactly as printed; the schema checks the columns
and the controlled words, and the parsers in :mod:`sbrtmeta.data.printed_cells` and
:mod:`sbrtmeta.data.dose_strings` read the printed values.
"""

from __future__ import annotations

import pandera.pandas as pa

from sbrtmeta.data.errors import MAX_REPORTED_ERRORS  # noqa: F401  (re-exported)
from sbrtmeta.data.sheets import blank_row_check, duplicate_check, formula_checks, validate_table  # noqa: F401  (validate_table re-exported)
from sbrtmeta.data.vocabulary import BASES, GROUPINGS, SITES

RAW_COLUMNS = (
    "row_id",
    "review",
    "source_section",
    "ref",
    "first_author",
    "site",
    "arm",
    "grouping",
    "design_printed",
    "patients_printed",
    "lesions_printed",
    "primary_printed",
    "arm_patients_printed",
    "arm_lesions_printed",
    "institution",
    "mfu_printed",
    "dose_printed",
    "time_printed",
    "prescription",
    "lc_printed",
    "os_printed",
    "toxicity",
    "p_value",
    "basis",
    "quote",
    "notes",
)
# Columns a sheet may leave out (the colorectal review prints no years or PMIDs).
OPTIONAL_COLUMNS = ("year", "citation", "pmid", "source_address")
REQUIRED_NONEMPTY = ("row_id", "review", "source_section", "ref", "site", "arm", "grouping", "basis")

_text = {c: pa.Column(str, nullable=False) for c in RAW_COLUMNS}
_text.update({c: pa.Column(str, pa.Check.str_length(min_value=1), nullable=False) for c in REQUIRED_NONEMPTY})
_text["row_id"] = pa.Column(str, [pa.Check.str_length(min_value=1)], nullable=False)
_text["review"] = pa.Column(str, pa.Check.str_matches(r"^[a-z][a-z0-9_]*$"), nullable=False)
_text["site"] = pa.Column(str, pa.Check.isin(SITES), nullable=False)
_text["grouping"] = pa.Column(str, pa.Check.isin(GROUPINGS), nullable=False)
_text["basis"] = pa.Column(str, pa.Check.isin(BASES), nullable=False)
_text.update({c: pa.Column(str, nullable=False, required=False) for c in OPTIONAL_COLUMNS})
_text["year"] = pa.Column(str, pa.Check.str_matches(r"^(?:\d{4})?$"), nullable=False, required=False)
# Every cell but the controlled words is refused if a spreadsheet would run it as a formula.
for _c in set(RAW_COLUMNS + OPTIONAL_COLUMNS) - {"review", "site", "grouping", "basis", "year"}:
    _text[_c] = pa.Column(
        str, list(_text[_c].checks) + formula_checks(), nullable=False, required=_c not in OPTIONAL_COLUMNS
    )

DUPLICATE_ROW_ID = "must be unique: an earlier row has the same row_id"
DUPLICATE_ARM = "repeats an earlier row's review, ref, site and arm (duplicate study × arm)"
RAW_SCHEMA = pa.DataFrameSchema(
    _text,
    strict=True,
    ordered=False,
    coerce=False,
    checks=[
        blank_row_check(),
        duplicate_check(["row_id"], DUPLICATE_ROW_ID, "row_id"),
        duplicate_check(["review", "ref", "site", "arm"], DUPLICATE_ARM, "arm"),
    ],
)

LEDGER_COLUMNS = ("file", "row_id", "column", "printed", "corrected", "reason")
LEDGER_SCHEMA = pa.DataFrameSchema(
    {
        "file": pa.Column(str, [pa.Check.str_length(min_value=1), *formula_checks()]),
        "row_id": pa.Column(str, [pa.Check.str_length(min_value=1), *formula_checks()]),
        "column": pa.Column(str, pa.Check.isin(RAW_COLUMNS)),
        "printed": pa.Column(str, formula_checks()),
        "corrected": pa.Column(str, formula_checks()),
        "reason": pa.Column(str, [pa.Check.str_length(min_value=10), *formula_checks()]),
    },
    strict=True,
    unique=["file", "row_id", "column"],
    checks=[blank_row_check()],
)
