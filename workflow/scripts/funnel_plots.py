"""Snakemake script: pooled tables → a funnel plot of every endpoint × time point with a cell
of sensitivity.funnel.min_studies.plot or more studies, in results/figures/funnel/
(:func:`sbrtmeta.steps.funnel_plots.funnel_plots`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.funnel_plots import funnel_plots
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    pooled, studies = read_result(sm.input.pooled), read_result(sm.input.studies)
    funnel = sm.params.funnel
    figures = funnel_plots(
        pooled,
        studies,
        sm.params.endpoints,
        sm.params.trimfill_max_studies,
        funnel["predictor"],
        funnel["axis"],
        funnel["min_studies"],
    )
    written = save_figures(figures, sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %d files in %s", len(written), sm.output.folder)


run_step("funnel_plots", snakemake.log[0], main)  # noqa: F821
