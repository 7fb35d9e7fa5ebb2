"""The pool step (checkpoint ``pool``): included rows in; ``pooled.csv``, ``pooled_studies.csv``,
``not_pooled.csv`` and ``subgroup_tests.csv`` out (:mod:`sbrtmeta.analysis.pooling`), each cell logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.pooling import PoolingOptions, not_pooled, pool_cells, subgroup_differences

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
        log.warning(
            "NOT POOLED %s (%s) %s: %s (%s)",
            *(r.site, r.histology or "any histology", r.endpoint or "any endpoint", r.reason, r.detail),
        )
    if t.pooled.empty:
        log.warning(
            "NOTHING POOLED: no site × endpoint × time point has a rate to pool (reasons above and in not_pooled.csv)"
        )


def pool(
    included: pd.DataFrame,
    excluded: pd.DataFrame,
    options: PoolingOptions,
    sites: list,
    endpoints: list,
    log=_LOG,
) -> PoolTables:
    """Pool every site × endpoint × time point, list the cells not pooled and test the sites'
    differences, with the ``options`` built from the config (:meth:`PoolingOptions.from_config`)."""
    o = options
    pooled, studies = pool_cells(
        included,
        transform=o.transform,
        tau2_method=o.tau2_method,
        ci_method=o.ci_method,
        level=o.level,
        model=o.model,
        histology=o.histology,
        study_ci=o.study_ci,
        add=o.add,
        to=o.to,
        targets=o.targets,
        pi_df=o.pi_df,
        back_transform=o.back_transform,
    )
    missing = not_pooled(included, excluded, sites, endpoints, o.histology)
    tests = subgroup_differences(
        included,
        transform=o.transform,
        tau2_method=o.tau2_method,
        ci_method=o.ci_method,
        level=o.level,
        histology=o.histology,
        add=o.add,
        to=o.to,
        model=o.model,
    )
    tables = PoolTables(pooled, studies, missing, tests)
    _log_pooling(log, tables)
    return tables
