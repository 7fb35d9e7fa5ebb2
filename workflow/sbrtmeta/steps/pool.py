"""The pool step (checkpoint ``pool``): included rows in; ``pooled.csv``, ``pooled_studies.csv``,
``not_pooled.csv`` and ``subgroup_tests.csv`` out (:mod:`sbrtmeta.analysis.pooling`), each cell logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.pooling import not_pooled, pool_cells, study_options, subgroup_differences

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolTables:
    """``pooled.csv``, ``pooled_studies.csv``, ``not_pooled.csv`` and ``subgroup_tests.csv``."""

    pooled: pd.DataFrame
    studies: pd.DataFrame
    not_pooled: pd.DataFrame
    subgroups: pd.DataFrame


def _log_pooling(log, t: PoolTables) -> None:
    for r in t.subgroups.itertuples():
        log.info(
            "sites differ? %s %s %gm (%s): QM = %.2f, p = %.3g",
            *(r.histology, r.endpoint, r.timepoint_months, r.sites, r.qm, r.p),
        )
    for r in t.pooled.itertuples():
        log.info(
            "%s (%s) %s %gm: k = %d, %s, %.1f%% [%.1f, %.1f]",
            *(r.site, r.histology, r.endpoint, r.timepoint_months, r.k, r.model),
            *(100 * r.estimate, 100 * r.ci_low, 100 * r.ci_high),
        )
    for r in t.not_pooled.itertuples():
        log.info(
            "NOT POOLED %s (%s) %s: %s (%s)",
            *(r.site, r.histology or "any histology", r.endpoint or "any endpoint", r.reason, r.detail),
        )
    if t.pooled.empty:
        log.info(
            "NOTHING POOLED: no site × endpoint × time point has a rate to pool (reasons above and in not_pooled.csv)"
        )


def pool(
    included: pd.DataFrame,
    excluded: pd.DataFrame,
    pooling: dict,
    sites: list,
    endpoints: list,
    log=_LOG,
    sensitivity: dict | None = None,
) -> PoolTables:
    """Pool every site × endpoint × time point, list the cells not pooled and test the sites' differences.
    ``sensitivity`` is config's section (study intervals and continuity correction, :func:`study_options`)."""
    p = pooling
    o = study_options(sensitivity)
    pooled, studies = pool_cells(
        included,
        p["transform"],
        p["tau2_method"],
        p["ci_method"],
        p["level"],
        p["model"],
        p["histology"],
        **o,
        targets=p.get("targets"),
    )
    missing = not_pooled(included, excluded, sites, endpoints, p["histology"])
    tests = subgroup_differences(
        included,
        p["transform"],
        p["tau2_method"],
        p["ci_method"],
        p["level"],
        p["histology"],
        o["add"],
        o["to"],
        model=p["model"],
    )
    tables = PoolTables(pooled, studies, missing, tests)
    _log_pooling(log, tables)
    return tables
