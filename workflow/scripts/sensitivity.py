"""Snakemake script: pooled tables → cumulative.csv, baujat.csv and their figures in
results/figures/cumulative/ and results/figures/baujat/ (:func:`sbrtmeta.steps.sensitivity.sensitivity`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.runner import read_result, run_step, write_table
from sbrtmeta.steps.sensitivity import sensitivity


def main(log):
    sm = snakemake  # noqa: F821
    pooled, studies, included = (read_result(p) for p in (sm.input.pooled, sm.input.studies, sm.input.included))
    out = sensitivity(pooled, studies, included, sm.params.sensitivity, sm.params.level, sm.params.endpoints)
    t = out.tables
    write_table(t.cumulative, sm.output.cumulative)
    write_table(t.baujat, sm.output.baujat)
    o = dict(formats=sm.params.formats, dpi=sm.params.dpi)
    n = len(save_figures(out.cumulative_figures, sm.output.cumulative_figures, **o))
    n += len(save_figures(out.baujat_figures, sm.output.baujat_figures, **o))
    log.info("cumulative: %d rows, Baujat: %d rows, %d figure files", len(t.cumulative), len(t.baujat), n)


run_step("sensitivity", snakemake.log[0], main)  # noqa: F821
