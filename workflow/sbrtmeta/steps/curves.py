"""The curves step: tidy outcomes and pooled.csv in; the curve tables out.

:func:`curves` selects every printed rate (:func:`sbrtmeta.analysis.curves.curve_rows`) and
fits the curve model per site × histology × endpoint
(:func:`sbrtmeta.analysis.curves.analyse_curves`). ``workflow/scripts/curves.py`` reads the
inputs, calls it and writes what it returns; the figures are drawn from these tables by the
curve_figures step (:func:`sbrtmeta.steps.curve_figures.curve_figures`), so a figure option
reruns only the drawing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.curves import CurveOptions, analyse_curves, curve_rows


@dataclass(frozen=True)
class CurveOutputs:
    """``survival_curves.csv``, ``curve_models.csv`` and ``curve_studies.csv``."""

    curves: pd.DataFrame
    models: pd.DataFrame
    studies: pd.DataFrame


def curves(
    outcomes: pd.DataFrame,
    pooled: pd.DataFrame,
    curves: dict,
    inclusion: dict,
    histology: str = "review",
    log: logging.Logger | None = None,
    risk_of_bias: dict | None = None,
) -> CurveOutputs:
    """The curve tables; ``curves`` is the ``curves`` config, ``risk_of_bias`` each
    study's overall judgement (for ``inclusion.max_risk_of_bias``)."""
    log = log or logging.getLogger(__name__)
    rows = curve_rows(outcomes, inclusion, histology, risk_of_bias)
    a = analyse_curves(rows, pooled, CurveOptions.of(curves), log=log)
    return CurveOutputs(a.curves, a.models, a.studies)
