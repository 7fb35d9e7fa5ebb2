"""Snakemake script: every leave_one_out_<site>.csv → its plot in results/figures/leave_one_out/
(:func:`sbrtmeta.steps.leave_one_out_figures.leave_one_out_figures`)."""

from pathlib import Path

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.leave_one_out_figures import leave_one_out_figures
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    # the site of results/tables/leave_one_out_<site>.csv, as rule leave_one_out names it (spaces as _)
    tables = {Path(p).stem.removeprefix("leave_one_out_").replace("_", " "): read_result(p) for p in sm.input.tables}
    figures = leave_one_out_figures(tables, sm.params.level)
    written = save_figures(figures, sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %d figure files", len(written))


run_step("leave_one_out_figures", snakemake.log[0], main)  # noqa: F821
