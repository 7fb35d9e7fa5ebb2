"""The apply_inclusion step: tidy outcomes (and the risk-of-bias table) in; ``included.csv`` and
``excluded.csv`` out (:func:`sbrtmeta.data.inclusion.apply_inclusion`), each criterion's count logged."""

from __future__ import annotations

import logging

import pandas as pd

from sbrtmeta.data import inclusion
from sbrtmeta.data.risk_of_bias import overall_of

_LOG = logging.getLogger(__name__)


def apply_inclusion(
    tidy: pd.DataFrame, criteria: dict, log=_LOG, risk_of_bias: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``included.csv`` and ``excluded.csv``: the studies config names checked, then the criteria applied
    (``risk_of_bias``: results/tables/risk_of_bias.csv, for ``max_risk_of_bias``)."""
    inclusion.check_named_studies(tidy, criteria)
    overall = overall_of(risk_of_bias) if risk_of_bias is not None else None
    included, excluded = inclusion.apply_inclusion(tidy, criteria, overall)
    inclusion.check_risk_of_bias_leaves_rows(included, excluded, criteria)
    log.info("%d rows included, %d excluded", len(included), len(excluded))
    for crit, k in excluded["criterion"].value_counts().sort_index().items():
        log.info("  excluded by %s: %d", crit, k)
    return included, excluded
