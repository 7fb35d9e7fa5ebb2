"""Snakemake script: gosh_studies.csv and results/tables/gosh/ → a GOSH plot per cell in
results/figures/gosh/ (:func:`sbrtmeta.steps.gosh_figures.gosh_figures`)."""

from pathlib import Path

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.gosh_figures import gosh_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    tables = Path(sm.input.tables)
    figures = gosh_figures(
        read_result(sm.input.studies), lambda name: read_result(str(tables / f"gosh_{name}.csv")), sm.params.highlight
    )
    written = save_figures(figures, sm.output.figures, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %d GOSH figure files in %s", len(written), sm.output.figures)


run_step("gosh_figures", snakemake.log[0], main)  # noqa: F821
