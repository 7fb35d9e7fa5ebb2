"""Snakemake script: funnel plot for one endpoint × time point."""

import pandas as pd

from sbrtmeta.funnel import draw_funnel
from sbrtmeta.plot_style import save_figure
from sbrtmeta.workflow_step import run_step


def main(log):
    w = snakemake.wildcards  # noqa: F821
    pooled = pd.read_csv(snakemake.input.pooled)  # noqa: F821
    studies = pd.read_csv(snakemake.input.studies)  # noqa: F821
    fig = draw_funnel(pooled, studies, w.endpoint, float(w.timepoint))
    save_figure(fig, list(snakemake.output), dpi=snakemake.params.dpi)  # noqa: F821
    log.info("wrote %s", ", ".join(snakemake.output))  # noqa: F821


run_step("funnel_plot", snakemake.log[0], main)  # noqa: F821
