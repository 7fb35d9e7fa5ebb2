"""The sensitivity step: the cumulative meta-analysis and Baujat tables of every pooled cell
(:mod:`sbrtmeta.analysis.cumulative`, :mod:`sbrtmeta.analysis.baujat`); ``workflow/scripts/sensitivity.py``
writes them, and :mod:`sbrtmeta.steps.sensitivity_figures` draws them (no matplotlib here).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.baujat import COLUMNS as BAUJAT_COLUMNS
from sbrtmeta.analysis.baujat import baujat_table
from sbrtmeta.analysis.cumulative import COLUMNS as CUMULATIVE_COLUMNS
from sbrtmeta.analysis.cumulative import MAX_STUDIES, cumulative_table


@dataclass(frozen=True)
class SensitivityTables:
    """``cumulative.csv`` and ``baujat.csv`` (empty, with their columns, when switched off)."""

    cumulative: pd.DataFrame
    baujat: pd.DataFrame


def sensitivity(
    pooled: pd.DataFrame, studies: pd.DataFrame, included: pd.DataFrame, options: dict, level: float
) -> SensitivityTables:
    """``cumulative.csv`` and ``baujat.csv`` of config's ``sensitivity`` (``options``: its ``cumulative`` and
    ``baujat``); rule ``sensitivity_figures`` draws them."""
    cum = options.get("cumulative", {})
    bj = options.get("baujat", {})
    return SensitivityTables(
        cumulative=cumulative_table(
            pooled, studies, included, cum.get("tie_break", "n"), level, cum.get("max_studies", MAX_STUDIES)
        )
        if cum.get("enabled", True)
        else pd.DataFrame(columns=CUMULATIVE_COLUMNS),
        baujat=baujat_table(pooled, studies, level, max_studies=bj.get("max_studies", MAX_STUDIES))
        if bj.get("enabled", True)
        else pd.DataFrame(columns=BAUJAT_COLUMNS),
    )
