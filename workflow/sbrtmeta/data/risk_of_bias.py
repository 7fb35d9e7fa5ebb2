"""The risk-of-bias sheet: one row per study, one column per item of the chosen tool.

Listed in config as ``data.risk_of_bias`` (``path``, ``tool``; CSV or an .xlsx worksheet).
Two tools for single-arm studies are known (:data:`TOOLS`):

- ``MINORS``: the 8 items of the methodological index for non-randomized studies for
  non-comparative studies, each scored 0 (not reported), 1 (reported but inadequate) or
  2 (reported and adequate) (Slim et al., ANZ J Surg 2003;73:712-716);
- ``JBI``: the 10 items of the JBI critical appraisal checklist for case series, each
  yes, no, unclear or not applicable (Munn et al., JBI Evid Synth 2020;18:2127-2133).

An item may also be ``not reported`` (the extracted sources do not print it) or ``not assessed``
(no one judged it). Each row gives an ``overall`` judgement (low, some concerns, high, or not
assessed) and a ``source`` saying where each judgement comes from (a rule, a paper's section);
``note`` is optional. The sheet is checked with pandera like the extraction sheets: every bad
cell, unknown study (not in ``results/clean/outcomes.csv``) and duplicate study is one
:class:`~sbrtmeta.data.errors.InputError` line naming file, row, column and value, all raised
together. A study of the data without a row is :data:`NOT_ASSESSED` in every item and overall.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from sbrtmeta.data.errors import InputError, InputErrors
from sbrtmeta.data.sheets import (
    blank_row_check,
    duplicate_check,
    formula_checks,
    read_table,
    schema_failures,
    sheet_label,
)
from sbrtmeta.data.study_labels import label_rows, study_names
from sbrtmeta.data.vocabulary import NOT_ASSESSED

if TYPE_CHECKING:  # imported by sheet_schema: the steps reading the table back need no pandera
    import pandera.pandas as pa

NOT_REPORTED = "not reported"
# Overall judgements, least to most concern; a study without one is NOT_ASSESSED.
OVERALL = ("low", "some concerns", "high")
OVERALL_VALUES = (*OVERALL, NOT_ASSESSED)


@dataclass(frozen=True)
class Tool:
    """A risk-of-bias tool: its items (column, wording), the judgements an item takes and
    what each means for the traffic-light colours (``low``, ``some concerns``, ``high`` or
    ``unclear``)."""

    name: str
    title: str
    items: tuple[tuple[str, str], ...]
    values: tuple[str, ...]
    levels: dict

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.items)

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*self.values, NOT_REPORTED, NOT_ASSESSED)


TOOLS = {
    "MINORS": Tool(
        "MINORS",
        "MINORS, non-comparative studies (Slim et al. 2003)",
        (
            ("clearly_stated_aim", "A clearly stated aim"),
            ("consecutive_patients", "Inclusion of consecutive patients"),
            ("prospective_collection", "Prospective collection of data"),
            ("appropriate_endpoints", "Endpoints appropriate to the aim of the study"),
            ("unbiased_assessment", "Unbiased assessment of the study endpoint"),
            ("appropriate_follow_up", "Follow-up period appropriate to the aim of the study"),
            ("loss_under_5pct", "Loss to follow-up less than 5%"),
            ("prospective_study_size", "Prospective calculation of the study size"),
        ),
        ("0", "1", "2"),
        {"2": "low", "1": "some concerns", "0": "high"},
    ),
    "JBI": Tool(
        "JBI",
        "JBI checklist for case series (Munn et al. 2020)",
        (
            ("clear_inclusion_criteria", "Clear criteria for inclusion"),
            ("condition_measured_reliably", "Condition measured in a standard, reliable way"),
            ("valid_identification", "Valid methods to identify the condition"),
            ("consecutive_inclusion", "Consecutive inclusion of participants"),
            ("complete_inclusion", "Complete inclusion of participants"),
            ("demographics_reported", "Clear reporting of demographics"),
            ("clinical_information_reported", "Clear reporting of clinical information"),
            ("outcomes_reported", "Outcomes or follow-up results clearly reported"),
            ("site_information_reported", "Clear reporting of the sites' or clinics' information"),
            ("appropriate_statistics", "Appropriate statistical analysis"),
        ),
        ("yes", "no", "unclear", "not applicable"),
        {"yes": "low", "unclear": "some concerns", "no": "high", "not applicable": "not applicable"},
    ),
}
# The tool of a run without a risk-of-bias sheet (every study not assessed).
DEFAULT_TOOL = "MINORS"
# What the traffic lights draw for the two judgements that are no judgement.
UNJUDGED_LEVELS = {NOT_REPORTED: NOT_REPORTED, NOT_ASSESSED: NOT_ASSESSED}
TEXT_COLUMNS = ("source", "note")
UNKNOWN_STUDY = "is not a study of the data (results/clean/outcomes.csv): check the study_id"
DUPLICATE_STUDY = "repeats an earlier row's study_id (one row per study)"
NO_ROW = "no row in the risk-of-bias sheet: not assessed"
NO_SHEET = "no risk-of-bias sheet in config (data.risk_of_bias): not assessed"


def _words(allowed) -> pa.Check:
    import pandera.pandas as pa

    allowed = tuple(allowed)
    return pa.Check(lambda v: v in allowed, element_wise=True, error=f"must be one of {list(allowed)}")


def sheet_schema(tool: Tool, studies) -> pa.DataFrameSchema:
    """The pandera schema of a sheet for ``tool`` whose study ids must be among ``studies``."""
    import pandera.pandas as pa

    known = frozenset(studies)
    cols = {
        "study_id": pa.Column(
            str,
            [
                pa.Check(lambda v: v.strip() != "", element_wise=True, error="must not be empty"),
                pa.Check(lambda v: v.strip() == "" or v in known, element_wise=True, error=UNKNOWN_STUDY),
                *formula_checks(),
            ],
        ),
        **{c: pa.Column(str, _words(tool.allowed)) for c in tool.columns},
        "overall": pa.Column(str, _words(OVERALL_VALUES)),
        "source": pa.Column(
            str,
            [pa.Check(lambda v: v.strip() != "", element_wise=True, error="must not be empty"), *formula_checks()],
        ),
        "note": pa.Column(str, formula_checks(), required=False),
    }
    return pa.DataFrameSchema(
        cols,
        strict=True,
        ordered=False,
        checks=[blank_row_check(), duplicate_check(["study_id"], DUPLICATE_STUDY, "study_id")],
    )


def read_risk_of_bias(path: str, tool: str, studies, worksheet: str | None = None) -> pd.DataFrame:
    """The sheet at ``path`` for ``tool`` (a key of :data:`TOOLS`), checked against the study
    ids ``studies`` of the data; raises :class:`InputErrors` with one line per problem."""
    spec = TOOLS[tool]
    frame = read_table(path, worksheet, key="data.risk_of_bias")
    errors = schema_failures(frame, sheet_schema(spec, studies), sheet_label(path, worksheet))
    if errors:
        raise InputErrors(errors)
    if "note" not in frame:
        frame["note"] = ""
    return frame


def risk_of_bias_table(
    studies: pd.DataFrame, sheet: pd.DataFrame | None, tool: str, sheet_path: str | None = None
) -> pd.DataFrame:
    """One row per study of the data (``studies``: ``results/clean/outcomes.csv`` or any table
    with ``study_id``, ``first_author``, ``year``, ``ref``), in the order of first appearance:
    the sheet's judgements, and :data:`NOT_ASSESSED` everywhere for a study without a row (its
    note says so). Columns: study_id, label, tool, the items, overall, assessed, source, note."""
    spec = TOOLS[tool]
    first = study_names(studies).rename_axis("study_id").reset_index()  # first author, year any row prints
    out = pd.DataFrame({"study_id": first["study_id"].astype(str).to_numpy(), "label": label_rows(first)})
    out["tool"] = tool
    by_id = sheet.set_index("study_id") if sheet is not None else None
    why = f"{NO_ROW} ({sheet_path})" if sheet is not None else NO_SHEET
    for c in (*spec.columns, "overall", "source", "note"):
        missing = pd.Series(None, index=out.index, dtype=object)
        values = out["study_id"].map(by_id[c]) if by_id is not None and c in by_id else missing
        fill = {"source": "", "note": why}.get(c, NOT_ASSESSED)
        out[c] = values.where(values.notna(), fill).astype(str)
    if by_id is not None:
        out["assessed"] = out["study_id"].isin(by_id.index)
    else:
        out["assessed"] = False
    return out[["study_id", "label", "tool", *spec.columns, "overall", "assessed", "source", "note"]]


def check_tool(tool: str) -> None:
    if tool not in TOOLS:
        raise InputError(f"must be one of {list(TOOLS)}", file="config", column="data.risk_of_bias.tool", value=tool)


def overall_of(table: pd.DataFrame) -> dict:
    """``{study_id: overall judgement}`` of a :func:`risk_of_bias_table`."""
    return dict(zip(table["study_id"].astype(str), table["overall"].astype(str)))


ITEM_PREFIX = "risk_of_bias:"  # the columns :func:`with_risk_of_bias` adds per item
PER_RESULT = "@result"  # the suffix of an item column judged per pooled result, not per study


def tool_of(table: pd.DataFrame) -> Tool | None:
    """The tool of a :func:`risk_of_bias_table` (its ``tool`` column), None for an empty table."""
    names = table["tool"].dropna().astype(str).unique() if "tool" in table else []
    return TOOLS[names[0]] if len(names) else None


def with_risk_of_bias(studies: pd.DataFrame, table: pd.DataFrame, items: bool = False) -> pd.DataFrame:
    """``studies`` (e.g. pooled_studies.csv) with each study's overall ``risk_of_bias`` from a
    :func:`risk_of_bias_table` (:data:`NOT_ASSESSED` for a study missing from it); with ``items``, also
    one column per item of the tool (``risk_of_bias:<item column>``, :data:`ITEM_PREFIX`) holding the
    item's level as the traffic lights draw it (``low``, ``some concerns``, ``high``, ``not applicable``,
    :data:`NOT_REPORTED` or :data:`NOT_ASSESSED`)."""
    rows = table.drop_duplicates("study_id").set_index("study_id")
    ids = studies["study_id"].astype(str)
    out = studies.assign(risk_of_bias=ids.map(rows["overall"]).fillna(NOT_ASSESSED))
    tool = tool_of(table)
    if items and tool is not None:
        levels = {**tool.levels, **UNJUDGED_LEVELS}
        for column in tool.columns:
            level = rows[column].astype(str).map(levels)
            out[f"{ITEM_PREFIX}{column}"] = ids.map(level).fillna(NOT_ASSESSED).to_numpy()
    return out
