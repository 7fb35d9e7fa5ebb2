"""One step function per table rule: what ``workflow/scripts/<rule>.py`` calls.

Each takes the rule's input tables and config sections, returns its output tables and
logs what it did; the script only reads the inputs, calls the function and writes the
outputs. The figure rules' steps are in :mod:`sbrtmeta.report.figures`, the
dose-response step in :mod:`sbrtmeta.report.dose_response`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from sbrtmeta.analysis.pooling import not_pooled, pool_cells, subgroup_differences
from sbrtmeta.data.errors import InputError
from sbrtmeta.data.extraction import clean_extraction
from sbrtmeta.data.inclusion import apply_inclusion
from sbrtmeta.report.summary import figure_list, summary_markdown

_LOG = logging.getLogger(__name__)


def clean_step(sheets: list[str], ledger: str, cleanup: dict, tidy_sheets: list[str], log=_LOG) -> pd.DataFrame:
    """``outcomes.csv`` from the printed sheets, the corrections ledger and the tidy sheets."""
    tidy = clean_extraction(
        sheets,
        ledger,
        denominator=dict(cleanup["denominator"]),
        alpha_beta=float(cleanup["alpha_beta"]),
        review_histology=dict(cleanup["review_histology"]),
        tidy_sheets=tidy_sheets,
    )
    printed = tidy[tidy["raw_file"].isin({s.rsplit("/", 1)[-1] for s in sheets})]
    corrected = (printed.drop_duplicates("raw_row")["corrected_columns"] != "").sum()
    log.info(
        "%d tidy rows from %d printed sheet(s) and %d tidy sheet(s); %d raw rows repaired by the corrections ledger",
        len(tidy),
        len(sheets),
        len(tidy_sheets),
        corrected,
    )
    return tidy


def check_named_studies(tidy: pd.DataFrame, criteria: dict) -> None:
    """InputError for a study of ``inclusion.exclude_studies`` or ``inclusion.overlaps`` not in the data."""
    known = set(tidy["study_id"])
    for i, e in enumerate(criteria["exclude_studies"]):
        if e["study_id"] not in known:
            raise InputError(
                "names a study that is not in the data (study ids look like crc2014-50)",
                file="config/config.yaml",
                row=f"inclusion.exclude_studies[{i}]",
                column="study_id",
                value=e["study_id"],
            )
    for i, group in enumerate(criteria["overlaps"]):
        for sid in group["studies"]:
            if sid not in known:
                raise InputError(
                    "names a study that is not in the data (study ids look like sarcoma2023-20)",
                    file="config/config.yaml",
                    row=f"inclusion.overlaps[{i}]",
                    column="studies",
                    value=sid,
                )


def inclusion_step(tidy: pd.DataFrame, criteria: dict, log=_LOG) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``included.csv`` and ``excluded.csv``: the studies config names checked, then the criteria applied."""
    check_named_studies(tidy, criteria)
    included, excluded = apply_inclusion(tidy, criteria)
    log.info("%d rows included, %d excluded", len(included), len(excluded))
    for crit, k in excluded["criterion"].value_counts().sort_index().items():
        log.info("  excluded by %s: %d", crit, k)
    return included, excluded


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


def pool_step(
    included: pd.DataFrame, excluded: pd.DataFrame, pooling: dict, sites: list, endpoints: list, log=_LOG
) -> PoolTables:
    """Pool every site × endpoint × time point, list the cells not pooled and test the sites' differences."""
    p = pooling
    pooled, studies = pool_cells(
        included, p["transform"], p["tau2_method"], p["ci_method"], p["level"], p["model"], p["histology"]
    )
    missing = not_pooled(included, excluded, sites, endpoints, p["histology"])
    tests = subgroup_differences(included, p["transform"], p["tau2_method"], p["ci_method"], p["level"], p["histology"])
    tables = PoolTables(pooled, studies, missing, tests)
    _log_pooling(log, tables)
    return tables


def summary_step(tables: dict, figures: list[str], report_dir: str, sites: list[str]) -> str:
    """``summary.md`` from the result tables (``tables``: pooled, subgroups, included, excluded,
    not_pooled, dose) and the figure paths."""
    return summary_markdown(
        tables["pooled"],
        tables["subgroups"],
        tables["included"],
        tables["excluded"],
        tables["not_pooled"],
        tables["dose"],
        figure_list(figures),
        report_dir=report_dir,
        sites=sites,
    )
