"""Snakemake script: tidy outcomes → dose-response tables and the bubble plot, in
results/figures/dose_response/ (:func:`sbrtmeta.steps.dose_response.dose_response`)."""

from sbrtmeta.data.cells import cell_stem
from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.dose_response import dose_response
from sbrtmeta.steps.runner import read_overall, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    out = dose_response(
        read_outcomes(sm.input.outcomes),
        sm.params.dose,
        sm.params.inclusion,
        sm.params.histology,
        log,
        sm.params.curves,
        read_overall(sm.input.risk_of_bias),
    )
    write_table(out.table, sm.output.table)
    write_table(out.arms, sm.output.arms)
    write_table(out.left_out, sm.output.left_out)
    stem = cell_stem("dose_response", sm.params.dose["endpoint"], sm.params.dose["timepoint_months"])
    save_figures([(stem, out.figure)], sm.output.figures, sm.params.formats, dpi=sm.params.dpi)


run_step("dose_response", snakemake.log[0], main)  # noqa: F821
