"""Snakemake script: forest plot for one endpoint × time point."""

import pandas as pd

from sbrtmeta.forest import draw_forest
from sbrtmeta.plot_style import save_figure
from sbrtmeta.workflow_step import run_step


def main(log):
    w = snakemake.wildcards  # noqa: F821
    pooled = pd.read_csv(snakemake.input.pooled)  # noqa: F821
    studies = pd.read_csv(snakemake.input.studies)  # noqa: F821
    fig = draw_forest(pooled, studies, w.endpoint, float(w.timepoint))
    save_figure(fig, list(snakemake.output), dpi=snakemake.params.dpi)  # noqa: F821
    log.info("wrote %s", ", ".join(snakemake.output))  # noqa: F821


run_step("forest_plot", snakemake.log[0], main)  # noqa: F821
