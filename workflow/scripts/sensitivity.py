"""Snakemake script: pooled tables → cumulative.csv, baujat.csv and their figures in
results/figures/cumulative/ and results/figures/baujat/ (:mod:`sbrtmeta.report.sensitivity`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.report.sensitivity import baujat_figures, cumulative_figures, sensitivity_tables
from sbrtmeta.report.step import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    pooled, studies, included = (read_result(p) for p in (sm.input.pooled, sm.input.studies, sm.input.included))
    t = sensitivity_tables(pooled, studies, included, sm.params.sensitivity, sm.params.level)
    write_table(t.cumulative, sm.output.cumulative)
    write_table(t.baujat, sm.output.baujat)
    o = dict(formats=sm.params.formats, dpi=sm.params.dpi)
    n = len(save_figures(cumulative_figures(t.cumulative, sm.params.endpoints), sm.output.cumulative_figures, **o))
    n += len(save_figures(baujat_figures(t.baujat), sm.output.baujat_figures, **o))
    log.info("cumulative: %d rows, Baujat: %d rows, %d figure files", len(t.cumulative), len(t.baujat), n)


run_step("sensitivity", snakemake.log[0], main)  # noqa: F821
