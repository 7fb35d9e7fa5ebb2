"""Snakemake script: the GOSH shards → results/tables/gosh/gosh_<cell>.csv, gosh_studies.csv and
a GOSH plot per cell in results/figures/gosh/ (:func:`sbrtmeta.steps.gosh.gosh`), one cell at a time."""

from pathlib import Path

from sbrtmeta.analysis.gosh import study_summary
from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.gosh import gosh
from sbrtmeta.steps.runner import read_result, read_result_chunks, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    parts = [read_result_chunks(p) for p in sm.input.parts]
    Path(sm.output.tables).mkdir(parents=True, exist_ok=True)
    Path(sm.output.figures).mkdir(parents=True, exist_ok=True)
    shifts, written = [], []
    for name, table, cell_shifts, figure in gosh(
        parts, read_result(sm.input.studies), sm.params.pooling, sm.params.gosh
    ):
        write_table(table, str(Path(sm.output.tables) / f"gosh_{name}.csv"))
        written += save_figures([(f"gosh_{name}", figure)], sm.output.figures, sm.params.formats, dpi=sm.params.dpi)
        shifts.append(cell_shifts)
    write_table(study_summary(shifts), sm.output.studies)
    log.info("GOSH of %d cells; wrote %d figure files in %s", len(shifts), len(written), sm.output.figures)


run_step("gosh", snakemake.log[0], main)  # noqa: F821
