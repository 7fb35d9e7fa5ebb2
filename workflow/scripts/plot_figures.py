"""Snakemake script: the figures of one kind (forest, funnel, leave_one_out, flow).

Forest and funnel plots are drawn for every configured endpoint × time point in
one job; the outputs come in cell order, one file per configured format.
"""

import pandas as pd
from sbrtmeta.plots.style import message_figure, save_figure
from sbrtmeta.report.step import run_step, write_table


def read(path):
    return pd.read_csv(path, dtype={"first_author": str, "ref": str, "label": str})


def cell_figures(sm, log):
    from sbrtmeta.data.cells import select_rows
    from sbrtmeta.plots.labels import endpoint_name
    from sbrtmeta.report.figures import forest_figure, funnel_figure, with_years

    kind = sm.params.kind
    pooled, studies = read(sm.input.pooled), read(sm.input.studies)
    options = dict(sm.params.get("options", {}))
    if kind == "forest":
        studies = with_years(studies, read(sm.input.included))
        subgroups = read(sm.input.subgroups)
        draw = lambda e, t: forest_figure(  # noqa: E731
            pooled, studies, e, t, options["sort"], options["forest_max_studies"], subgroups
        )
    else:
        draw = lambda e, t: funnel_figure(pooled, studies, e, t, options["trimfill_max_studies"])  # noqa: E731
    n = len(sm.params.formats)
    outputs = list(sm.output)
    for i, (endpoint, t) in enumerate(sm.params.cells):
        paths = outputs[i * n : (i + 1) * n]
        if select_rows(pooled, endpoint, float(t)).empty:
            fig = message_figure(
                f"{endpoint_name(endpoint)} at {t} months: no rate was pooled "
                "(see results/tables/not_pooled.csv and excluded.csv)."
            )
        else:
            fig = draw(endpoint, float(t))
        save_figure(fig, paths, dpi=sm.params.dpi)
        log.info("wrote %s", ", ".join(paths))


def leave_one_out(sm, log):
    from sbrtmeta.report.figures import leave_one_out_outputs

    site = sm.wildcards.site.replace("_", " ")
    table, fig = leave_one_out_outputs(
        read(sm.input.pooled), read(sm.input.studies), site, sm.params.options["loo_max_studies"], sm.params.level
    )
    write_table(table, sm.output.table)
    figures = [p for p in sm.output if p != sm.output.table]
    save_figure(fig, figures, dpi=sm.params.dpi)
    log.info("wrote %s and %s", sm.output.table, ", ".join(figures))


def flow(sm, log):
    from sbrtmeta.report.figures import flow_figure

    save_figure(flow_figure(read(sm.input.included), read(sm.input.excluded)), list(sm.output), dpi=sm.params.dpi)
    log.info("wrote %s", ", ".join(sm.output))


def main(log):
    sm = snakemake  # noqa: F821
    {"forest": cell_figures, "funnel": cell_figures, "leave_one_out": leave_one_out, "flow": flow}[sm.params.kind](
        sm, log
    )


run_step("plot", snakemake.log[0], main)  # noqa: F821
