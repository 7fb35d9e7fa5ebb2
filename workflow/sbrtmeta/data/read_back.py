"""Reading back the tables the workflow writes, ids and text exactly as written.

pandas guesses types and missing values: ``007`` becomes 7, ``1e3`` becomes 1000.0, and
``NA``, ``None`` or ``nan`` become missing. Study ids and names are text a user typed, so every
table read back goes through :func:`read_written_table`:

* the columns of :data:`TEXT_COLUMNS` are strings, whatever they look like;
* nothing but an empty cell is missing (``keep_default_na=False``), and only in a column that may
  be empty: every column but those of :data:`NEVER_EMPTY` (an empty id stays ``""``);
* every other column is read as a number (or ``True``/``False``) by pandas, as the writer wrote it.
"""

from __future__ import annotations

import csv

import pandas as pd

from sbrtmeta.data.risk_of_bias import TOOLS

# The GRADE domains of summary_of_findings.csv: a judgement and its reason each.
GRADE_DOMAINS = (
    "certainty",
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
    "dose_response",
)
# Identifiers: never missing (an empty cell stays "").
NEVER_EMPTY = ("study_id", "ref", "arm", "label", "cell", "spec_label")
# Identifiers and free text, as written in the sheets or by the steps (every text column of the
# workflow's tables; a column not listed is a number or a flag).
TEXT_COLUMNS = (
    *NEVER_EMPTY,
    "first_author",
    "review",
    "site",
    "site_key",
    "sites",
    "design",
    "primary",
    "histology",
    "review_histology",
    "grouping",
    "histology_grouping",
    "dose_text",
    "dose_rule",
    "endpoint",
    "n_basis",
    "basis",
    "source",
    "source_type",
    "raw_file",
    "raw_row",
    "corrected_columns",
    "note",
    "criterion",
    "detail",
    "reason",
    "studies",
    "tool",
    "overall",
    "status",
    "fit",
    "term",
    "test",
    "method",
    "model",
    "transform",
    "tau2_method",
    "ci_method",
    "struct",
    "time_function",
    "scale",
    "choice",
    "most_influential_choice",
    "influential_levels",
    "crude",
    "overlaps",
    "times",
    "start",
    "mixed_primaries",
    "tie_break",
    "study_ci",
    "continuity_to",
    "qm_df",
    *(f"{domain}{end}" for domain in GRADE_DOMAINS for end in ("", "_reason")),
    *(c for tool in TOOLS.values() for c in tool.columns),  # judgements: 0, 1, 2 or words
)


def header_of(path) -> list[str]:
    """The column names of a written CSV (its first line)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh), [])


def read_written_table(path, text=TEXT_COLUMNS, never_empty=NEVER_EMPTY, chunksize: int | None = None):
    """A CSV written by a step: ``text`` columns as strings (also ``007``, ``NA``, ``1e3``), only
    empty cells missing, and only outside ``never_empty``; other columns as pandas reads numbers.
    With ``chunksize``, an iterator of tables of that many rows."""
    columns = header_of(path)
    return pd.read_csv(
        path,
        dtype={c: str for c in columns if c in text},
        keep_default_na=False,
        na_values={c: [""] for c in columns if c not in never_empty},
        chunksize=chunksize,
    )
