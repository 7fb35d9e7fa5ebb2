"""Snakemake script: the forest or funnel plot of one endpoint × time point."""

import pandas as pd

from sbrtmeta.forest import draw_forest
from sbrtmeta.funnel import draw_funnel
from sbrtmeta.plot_style import save_figure
from sbrtmeta.workflow_step import run_step

DRAW = {"forest": draw_forest, "funnel": draw_funnel}


def main(log):
    w = snakemake.wildcards  # noqa: F821
    pooled = pd.read_csv(snakemake.input.pooled)  # noqa: F821
    studies = pd.read_csv(snakemake.input.studies)  # noqa: F821
    fig = DRAW[snakemake.params.kind](pooled, studies, w.endpoint, float(w.timepoint))  # noqa: F821
    save_figure(fig, list(snakemake.output), dpi=snakemake.params.dpi)  # noqa: F821
    log.info("wrote %s", ", ".join(snakemake.output))  # noqa: F821


run_step("plot", snakemake.log[0], main)  # noqa: F821
