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
    from sbrtmeta.plots.forest import ENDPOINT_LABELS, draw_forest, select_rows

    kind = sm.params.kind
    pooled, studies = read(sm.input.pooled), read(sm.input.studies)
    options = dict(sm.params.get("options", {}))
    if kind == "forest":
        included = read(sm.input.included)
        if "year" in included:
            years = included.drop_duplicates("study_id").set_index("study_id")["year"]
            studies["year"] = studies["study_id"].map(years)
        subgroups = read(sm.input.subgroups)
        draw = lambda e, t: draw_forest(
            pooled,
            studies,
            e,
            t,
            sort=options["sort"],  # noqa: E731
            max_studies=options["forest_max_studies"],
            subgroups=subgroups,
        )
    else:
        from sbrtmeta.plots.funnel import draw_funnel

        draw = lambda e, t: draw_funnel(
            pooled,
            studies,
            e,
            t,  # noqa: E731
            max_trimfill=options["trimfill_max_studies"],
        )
    n = len(sm.params.formats)
    outputs = list(sm.output)
    for i, (endpoint, t) in enumerate(sm.params.cells):
        paths = outputs[i * n : (i + 1) * n]
        if select_rows(pooled, endpoint, float(t)).empty:
            fig = message_figure(
                f"{ENDPOINT_LABELS.get(endpoint, endpoint)} at {t} months: no rate was pooled "
                "(see results/tables/not_pooled.csv and excluded.csv)."
            )
        else:
            fig = draw(endpoint, float(t))
        save_figure(fig, paths, dpi=sm.params.dpi)
        log.info("wrote %s", ", ".join(paths))


def leave_one_out(sm, log):
    from sbrtmeta.plots.leave_one_out import draw_leave_one_out, leave_one_out_table

    site = sm.wildcards.site.replace("_", " ")
    pooled, studies = read(sm.input.pooled), read(sm.input.studies)
    table = leave_one_out_table(
        pooled, studies, site, max_studies=sm.params.options["loo_max_studies"], level=sm.params.level
    )
    write_table(table, sm.output.table)
    figures = [p for p in sm.output if p != sm.output.table]
    save_figure(draw_leave_one_out(table, site), figures, dpi=sm.params.dpi)
    log.info("wrote %s and %s", sm.output.table, ", ".join(figures))


def flow(sm, log):
    from sbrtmeta.plots.flow_diagram import draw_flow, flow_counts

    counts = flow_counts(read(sm.input.included), read(sm.input.excluded))
    save_figure(draw_flow(counts), list(sm.output), dpi=sm.params.dpi)
    log.info("wrote %s", ", ".join(sm.output))


def main(log):
    sm = snakemake  # noqa: F821
    {"forest": cell_figures, "funnel": cell_figures, "leave_one_out": leave_one_out, "flow": flow}[sm.params.kind](
        sm, log
    )


run_step("plot", snakemake.log[0], main)  # noqa: F821
