"""Snakemake script: the GOSH shards → results/tables/gosh/gosh_<cell>.csv, gosh_studies.csv and
a GOSH plot per cell in results/figures/gosh/ (:func:`sbrtmeta.steps.gosh.gosh`)."""

from pathlib import Path

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.gosh import gosh
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    parts = [read_result(p) for p in sm.input.parts]
    tables, figures = gosh(parts, read_result(sm.input.studies), sm.params.pooling, sm.params.gosh)
    Path(sm.output.tables).mkdir(parents=True, exist_ok=True)
    for name, table in tables.cells.items():
        write_table(table, str(Path(sm.output.tables) / f"gosh_{name}.csv"))
    write_table(tables.studies, sm.output.studies)
    written = save_figures(figures, sm.output.figures, sm.params.formats, dpi=sm.params.dpi)
    log.info("GOSH of %d cells; wrote %d figure files in %s", len(tables.cells), len(written), sm.output.figures)


run_step("gosh", snakemake.log[0], main)  # noqa: F821
