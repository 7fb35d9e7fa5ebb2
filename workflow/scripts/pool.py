"""Snakemake script: included rows → pooled.csv, pooled_studies.csv, not_pooled.csv."""

import pandas as pd
from sbrtmeta.analysis.pooling import not_pooled, pool_cells, subgroup_differences
from sbrtmeta.report.step import run_step, write_table


def main(log):
    p = snakemake.params.pooling  # noqa: F821
    included = pd.read_csv(snakemake.input.included, dtype={"first_author": str, "ref": str})  # noqa: F821
    included["first_author"] = included["first_author"].fillna("")
    excluded = pd.read_csv(snakemake.input.excluded, dtype={"first_author": str, "ref": str})  # noqa: F821
    pooled, studies = pool_cells(
        included, p["transform"], p["tau2_method"], p["ci_method"], p["level"], p["model"], p["histology"]
    )
    missing = not_pooled(
        included,
        excluded,
        snakemake.params.sites,
        snakemake.params.endpoints,  # noqa: F821
        p["histology"],
    )
    write_table(pooled, snakemake.output.pooled)  # noqa: F821
    write_table(studies, snakemake.output.studies)  # noqa: F821
    write_table(missing, snakemake.output.not_pooled)  # noqa: F821
    tests = subgroup_differences(included, p["transform"], p["tau2_method"], p["ci_method"], p["level"], p["histology"])
    write_table(tests, snakemake.output.subgroups)  # noqa: F821
    for r in tests.itertuples():
        log.info(
            "sites differ? %s %s %gm (%s): QM = %.2f, p = %.3g",
            r.histology,
            r.endpoint,
            r.timepoint_months,
            r.sites,
            r.qm,
            r.p,
        )
    for r in pooled.itertuples():
        log.info(
            "%s (%s) %s %gm: k = %d, %s, %.1f%% [%.1f, %.1f]",
            r.site,
            r.histology,
            r.endpoint,
            r.timepoint_months,
            r.k,
            r.model,
            100 * r.estimate,
            100 * r.ci_low,
            100 * r.ci_high,
        )
    for r in missing.itertuples():
        log.info(
            "NOT POOLED %s (%s) %s: %s (%s)",
            r.site,
            r.histology or "any histology",
            r.endpoint or "any endpoint",
            r.reason,
            r.detail,
        )


run_step("pool", snakemake.log[0], main)  # noqa: F821
