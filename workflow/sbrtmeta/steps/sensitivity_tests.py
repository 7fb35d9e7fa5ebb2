"""The sensitivity_tests step: pooled studies, dose-response arms and fits in;
``sensitivity_tests.csv`` and ``heterogeneity_by_site.csv`` out
(:mod:`sbrtmeta.analysis.site_tests`, :mod:`sbrtmeta.analysis.dose_slope_tests`), each test logged in one line."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.dose_slope_tests import dose_slope_tests
from sbrtmeta.analysis.sensitivity_tests import sensitivity_table
from sbrtmeta.analysis.site_tests import heterogeneity_by_site, site_tests


@dataclass(frozen=True)
class SensitivityTestTables:
    """``sensitivity_tests.csv`` and ``heterogeneity_by_site.csv``."""

    tests: pd.DataFrame
    heterogeneity: pd.DataFrame


def sensitivity_tests(
    studies, arms, fitted, pooling: dict, dose: dict, sensitivity: dict, log=None
) -> SensitivityTestTables:
    """Both tables from the pooled studies, the dose-response arms and fits and the config
    (``pooling``, ``dose_response``, ``sensitivity``); each test logged in one line."""
    log = log or logging.getLogger(__name__)
    tests = sensitivity_table(
        site_tests(studies, pooling, sensitivity) + dose_slope_tests(arms, fitted, dose, sensitivity)
    )
    het = heterogeneity_by_site(studies, sensitivity, pooling.get("level", 0.95))
    for r in tests.itertuples():
        log.info(
            "%s, %s %s %s %gm (%s), %s: statistic %.4g, p %.4g (parametric %.4g) %s",
            *(r.test, r.model, r.histology, r.endpoint, r.timepoint_months, r.site, r.term),
            *(r.statistic, r.p, r.p_parametric, r.note),
        )
    for r in het.itertuples():
        log.info(
            "tau2 by site, %s %s %gm %s: tau2 %.4g; QS p %.4g, LRT p %.4g %s",
            r.histology,
            r.endpoint,
            r.timepoint_months,
            r.site,
            r.tau2,
            r.qs_p,
            r.lrt_p,
            r.note,
        )
    return SensitivityTestTables(tests, het)
