"""Snakemake script: the GOSH shards → results/tables/gosh/gosh_<cell>.csv and gosh_studies.csv
(:func:`sbrtmeta.steps.gosh.gosh`), one cell at a time."""

from pathlib import Path

from sbrtmeta.analysis.gosh import study_summary
from sbrtmeta.steps.gosh import gosh
from sbrtmeta.steps.runner import read_result, read_result_chunks, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    parts = [read_result_chunks(p) for p in sm.input.parts]
    Path(sm.output.tables).mkdir(parents=True, exist_ok=True)
    shifts = []
    for name, table, cell_shifts in gosh(parts, read_result(sm.input.studies), sm.params.pooling, sm.params.gosh):
        write_table(table, str(Path(sm.output.tables) / f"gosh_{name}.csv"))
        shifts.append(cell_shifts)
    write_table(study_summary(shifts), sm.output.studies)
    log.info("GOSH of %d cells; tables in %s", len(shifts), sm.output.tables)


run_step("gosh", snakemake.log[0], main)  # noqa: F821
