"""Snakemake script: results/report/summary.md from the result tables
(:func:`sbrtmeta.steps.report_summary.report_summary`)."""

from pathlib import Path

from sbrtmeta.steps.report_summary import report_summary
from sbrtmeta.steps.runner import read_result, run_step

TABLES = (
    "pooled",
    "pooled_studies",
    "subgroups",
    "included",
    "excluded",
    "not_pooled",
    "dose",
    "sof",
    "rob",
    "cumulative",
    "baujat",
    "curves",
    "curve_models",
    "curve_studies",
    "sensitivity_tests",
    "heterogeneity_by_site",
)
# every figure the run makes: summary.md lists them all
FIGURE_INPUTS = (
    "figures",
    "dose_figures",
    "rob_figures",
    "weighted_rob_figures",
    "robustness_figures",
    "sensitivity_figures",
    "curve_figures",
    "alpha_beta_figures",
)
OPTIONAL_TABLES = (
    "gosh",
    "multiverse",
    "alpha_beta",
)  # robustness analyses (issue 15), the α/β profile: absent when off


def main(log):
    sm = snakemake  # noqa: F821
    tables = {name: read_result(getattr(sm.input, name)) for name in TABLES}
    for name in OPTIONAL_TABLES:
        path = getattr(sm.input, name, [])  # a path, or [] when the analysis is switched off
        tables[name] = read_result(path) if isinstance(path, str) else None
    out = Path(sm.output[0])
    figures = []
    for name in FIGURE_INPUTS:  # one path (a folder such as the curves') or a list of paths
        paths = getattr(sm.input, name)
        figures += [paths] if isinstance(paths, str) else list(paths)
    text = report_summary(
        tables,
        figures,
        str(out.parent),
        list(sm.params.sites),
        sm.params.targets,
        level=float(sm.params.level),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    log.info("wrote %s", out)


run_step("report", snakemake.log[0], main)  # noqa: F821
