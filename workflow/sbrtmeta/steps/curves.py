"""The curves step: tidy outcomes and pooled.csv in; the curve tables and figures out.

:func:`curves` selects every printed rate (:func:`sbrtmeta.analysis.curves.curve_rows`),
fits the curve model per site × histology × endpoint
(:func:`sbrtmeta.analysis.curves.analyse_curves`) and draws a figure per site × endpoint
(:func:`sbrtmeta.plots.curves.curve_figures`). ``workflow/scripts/curves.py`` reads the
inputs, calls it and writes what it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.curves import CurveOptions, analyse_curves, curve_rows
from sbrtmeta.plots.curves import curve_figures


@dataclass(frozen=True)
class CurveOutputs:
    """``survival_curves.csv``, ``curve_models.csv``, ``curve_studies.csv`` and the figures
    (``(stem, figure)`` pairs)."""

    curves: pd.DataFrame
    models: pd.DataFrame
    studies: pd.DataFrame
    figures: list


def curves(
    outcomes: pd.DataFrame,
    pooled: pd.DataFrame,
    curves: dict,
    inclusion: dict,
    histology: str = "review",
    log: logging.Logger | None = None,
    risk_of_bias: dict | None = None,
) -> CurveOutputs:
    """The curve tables and figures; ``curves`` is the ``curves`` config, ``risk_of_bias`` each
    study's overall judgement (for ``inclusion.max_risk_of_bias``)."""
    log = log or logging.getLogger(__name__)
    rows = curve_rows(outcomes, inclusion, histology, risk_of_bias)
    a = analyse_curves(rows, pooled, CurveOptions.of(curves), log=log)
    return CurveOutputs(a.curves, a.models, a.studies, curve_figures(a.curves, a.studies, a.models))
