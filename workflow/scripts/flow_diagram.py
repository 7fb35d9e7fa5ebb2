"""Snakemake script: included and excluded rows → the flow diagram of study selection in
results/figures/flow_diagram/ (:func:`sbrtmeta.steps.flow_diagram.flow_diagram`)."""

from sbrtmeta.plots.style import save_figures
from sbrtmeta.steps.flow_diagram import flow_diagram
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    fig = flow_diagram(read_result(sm.input.included), read_result(sm.input.excluded))
    written = save_figures([("flow_diagram", fig)], sm.output.folder, sm.params.formats, dpi=sm.params.dpi)
    log.info("wrote %s", ", ".join(written))


run_step("flow_diagram", snakemake.log[0], main)  # noqa: F821
