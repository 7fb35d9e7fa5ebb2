"""Snakemake script: included and excluded rows → the flow diagram of study selection
(:func:`sbrtmeta.steps.flow_diagram.flow_diagram`)."""

from sbrtmeta.plots.style import save_figure
from sbrtmeta.steps.flow_diagram import flow_diagram
from sbrtmeta.steps.runner import read_result, run_step


def main(log):
    sm = snakemake  # noqa: F821
    save_figure(
        flow_diagram(read_result(sm.input.included), read_result(sm.input.excluded)), list(sm.output), sm.params.dpi
    )
    log.info("wrote %s", ", ".join(sm.output))


run_step("flow_diagram", snakemake.log[0], main)  # noqa: F821
