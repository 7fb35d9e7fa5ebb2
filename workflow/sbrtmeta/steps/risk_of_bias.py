"""The risk-of-bias step: the sheet checked against the data's studies and the table of every
study's judgements (``results/tables/risk_of_bias.csv``, "not assessed" for a study without a row);
rule ``risk_of_bias_figures`` draws it (:mod:`sbrtmeta.steps.risk_of_bias_figures`; no matplotlib here)."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.data.minors import with_totals
from sbrtmeta.data.risk_of_bias import DEFAULT_TOOL, read_risk_of_bias, risk_of_bias_table


def risk_of_bias(outcomes: pd.DataFrame, setting: dict | None, log=None) -> pd.DataFrame:
    """``risk_of_bias.csv`` for ``outcomes`` (results/clean/outcomes.csv) and config ``data.risk_of_bias``
    (``setting``: path, tool, worksheet, overall_from_total; None: no sheet). A MINORS table gains the items
    scored, the total out of 16 and the basis of each overall judgement
    (:func:`sbrtmeta.data.minors.with_totals`)."""
    tool = (setting or {}).get("tool", DEFAULT_TOOL)
    sheet, path = None, None
    if setting:
        path = setting["path"]
        sheet = read_risk_of_bias(path, tool, outcomes["study_id"].astype(str), setting.get("worksheet"))
    table = risk_of_bias_table(outcomes, sheet, tool, path)
    if tool == "MINORS":  # the total out of 16, and the overall judgement a stated rule derives from it
        table = with_totals(table, (setting or {}).get("overall_from_total"), path or "", log)
    if log is not None:
        counts = table["overall"].value_counts().sort_index()
        log.info(
            "%d studies (%d with a row in the sheet); overall: %s",
            len(table),
            int(table["assessed"].sum()),
            ", ".join(f"{k} {v}" for k, v in counts.items()),
        )
    return table
