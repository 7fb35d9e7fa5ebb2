"""Forest plot of study and pooled proportions for one endpoint × time point.

One row per study, grouped by site. The table columns (study, events/N, estimate
with its CI at the configured level, weight) are figure text placed in inches from the left edge and in
row units vertically, so they line up with the plot rows at any figure height.
Column widths are measured on the rendered text, and the figure grows in height
with the number of rows, so nothing overlaps for 1 or 100 studies. Labels too long for a
17 cm page widen the figure rather than run into the plot.

Studies are ordered within each site by ``sort`` (see :data:`SORT_ORDERS`). Above
``max_studies`` study rows the figure draws only the pooled rows of each site (and
the single study of a one-study site) and says where the study rows are, so the
figure stays bounded for sheets with thousands of studies. Below the sites comes the
test for subgroup differences between sites (``subgroup_tests.csv``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.transforms import blended_transform_factory

from sbrtmeta.data.cells import cell_stem, cell_studies, pooled_cells, select_rows
from sbrtmeta.data.risk_of_bias import ITEM_PREFIX, PER_RESULT, TOOLS
from sbrtmeta.plots.labels import (
    MODEL_LABELS,
    SCALE_NAMES,
    ci_text,
    continuity_text,
    endpoint_axis_label,
    heterogeneity_text,
    level_text,
    method_text,
    p_text,
    pct,
    share_cutoffs,
    share_text,
    shorten,
    site_title,
    statistic_text,
    study_ci_text,
)
from sbrtmeta.plots.risk_of_bias import level_words, rob_marks
from sbrtmeta.plots.style import (
    FIGURE_WIDTH_IN,
    PALETTE,
    SMALL_FONT_SIZE,
    figure_style,
    percent_row_axis,
    pooled_diamond,
    wrap_text,
)

ROW_IN = 0.18  # height of one table row, inches (8 pt text needs ~0.13)
PAD_IN = 0.08  # figure edge to the outer columns
GAP_IN = 0.12  # between two text columns
PLOT_GAP_IN = 0.2  # between a text column and the plot area
MIN_PLOT_IN = 2.0
MAX_SQUARE_PT = 0.7 * ROW_IN * 72  # side of the square of the heaviest study


def headers(level: float) -> dict:
    """The column headers; the CI's level is config's."""
    return {"label": "Study", "n": "Events/N", "ci": f"Proportion, %\n[{level_text(level)} CI]", "w": "Weight,\n%"}


# Order of the studies within a site: as in pooled_studies.csv, by year (oldest first,
# no year last), by estimate (lowest first), by n (largest first) or by label (A-Z).
# Ties keep the table's order.
SORT_ORDERS = ("table", "year", "estimate", "n", "author")
MAX_STUDIES = 100
ROB_HEADER = "RoB"
ROB_FOOTNOTE = (
    "RoB: the study's overall risk of bias (results/tables/risk_of_bias.csv): + low, − some concerns, "
    "× high, blank not assessed."
)
ROB_ITEM_GAP_IN = 0.05  # between two risk-of-bias columns (items, then the overall)
STUDY_TABLE = "results/tables/pooled_studies.csv"


def sort_studies(group: pd.DataFrame, order: str = "table") -> pd.DataFrame:
    """``group``'s rows in the order ``order`` (one of :data:`SORT_ORDERS`)."""
    if order not in SORT_ORDERS:
        raise ValueError(f"figures.forest.sort must be one of {list(SORT_ORDERS)}, not {order!r}")
    if order == "table" or group.empty:
        return group
    if order == "year":
        if "year" not in group:
            return group
        key = pd.to_numeric(group["year"], errors="coerce")
        return (
            group.assign(_key=key.to_numpy())
            .sort_values("_key", kind="stable", na_position="last")
            .drop(columns="_key")
        )
    if order == "author":
        return (
            group.assign(_key=group["label"].astype(str).str.casefold().to_numpy())
            .sort_values("_key", kind="stable")
            .drop(columns="_key")
        )
    column, ascending = {"estimate": ("estimate", True), "n": ("n", False)}[order]
    return group.sort_values(column, ascending=ascending, kind="stable")


def subgroup_test_text(test) -> str:
    """``"Test for subgroup differences (sites): F(2, 12) = 0.08, p = 0.921"`` from a row of
    ``subgroup_tests.csv``."""
    text = f"{statistic_text(test.test, test.qm, test.df1, test.df2)}, {p_text(test.p)}"
    if "GLMM" in str(getattr(test, "model", "")):
        text += " (inverse-variance model: the GLMM has no such test here)"
    return text


def _subgroup_rows(cells: pd.DataFrame, subgroups: pd.DataFrame | None, split: bool) -> list[dict]:
    """The test for differences between sites, one row per histology with two or more sites."""
    rows = []
    by_hist = cells.groupby("histology", sort=False) if "histology" in cells else [(None, cells)]
    for hist, group in by_hist:
        if group["site"].nunique() < 2:
            continue
        what = f"Test for subgroup differences between sites{f' ({hist})' if hist else ''}"
        test = None
        if subgroups is not None and not subgroups.empty:
            keep = np.ones(len(subgroups), dtype=bool)
            if hist is not None and "histology" in subgroups:
                keep &= (subgroups["histology"] == hist).to_numpy()
            found = subgroups[keep]
            test = next(found.itertuples(), None)
        text = (
            f"{what}: {subgroup_test_text(test)}"
            if test is not None
            else f"{what}: not tested (no more studies than sites)"
        )
        rows.append(dict(kind="test", label=text))
    return rows


def _item_columns(table: pd.DataFrame) -> list[str]:
    """The per-item risk-of-bias columns of ``table`` (:func:`sbrtmeta.data.risk_of_bias.with_risk_of_bias`)."""
    return [c for c in table.columns if str(c).startswith(ITEM_PREFIX)]


def _study_rows(shown: pd.DataFrame, key: str) -> list[dict]:
    """One row per study shown; a study that mixes primaries is starred; with per-item risk-of-bias columns,
    each item's level in ``rob_items``."""
    rows = []
    items = shown[_item_columns(shown)].astype(str).to_numpy().tolist()
    for i, s in enumerate(shown.itertuples()):
        mark = " *" if getattr(s, "mixed_primaries", False) is True else ""
        rows.append(
            dict(
                kind="study",
                site=key,
                label=shorten(s.label) + mark,
                n=f"{int(s.events)}/{int(s.n)}",
                ci=ci_text(s.estimate, s.ci_low, s.ci_high),
                w=f"{s.weight_pct:.1f}",
                est=s.estimate,
                lo=s.ci_low,
                hi=s.ci_high,
                weight=s.weight_pct,
                **({"rob": s.risk_of_bias} if hasattr(s, "risk_of_bias") else {}),
                **({"rob_items": items[i]} if items and items[i] else {}),
            )
        )
    return rows


def _pooled_rows(cell, group: pd.DataFrame, key: str) -> list[dict]:
    """The pooled estimate of a cell of two or more studies, its prediction interval and heterogeneity."""
    model = MODEL_LABELS.get(cell.model, str(cell.model).capitalize())
    rows = [
        dict(
            kind="pooled",
            site=key,
            label=f"{model} (k = {int(cell.k)})",
            n=f"{int(group['events'].sum())}/{int(cell.n_total)}",
            ci=ci_text(cell.estimate, cell.ci_low, cell.ci_high),
            est=cell.estimate,
            lo=cell.ci_low,
            hi=cell.ci_high,
        )
    ]
    if pd.notna(cell.pi_low) and pd.notna(cell.pi_high):
        pi = f"[{pct(cell.pi_low)}, {pct(cell.pi_high)}]"
        rows.append(dict(kind="pi", site=key, label="Prediction interval", ci=pi, lo=cell.pi_low, hi=cell.pi_high))
    if pd.notna(cell.tau2):
        rows.append(dict(kind="note", site=key, label=heterogeneity_text(cell)))
    return rows


def _rows(cells: pd.DataFrame, studies: pd.DataFrame, sort: str = "table", show_studies: bool = True) -> list[dict]:
    """The table, top to bottom: one dict per row with its kind, texts and values."""
    rows = []
    split = "histology" in cells and cells["histology"].nunique() > 1
    named = "histology" in cells  # the histology is always named: a single one is not obvious
    for cell in cells.itertuples():
        group = cell_studies(cell, studies)
        key = f"{cell.site}|{cell.histology}" if split else cell.site
        hist = cell.histology if named and isinstance(cell.histology, str) and cell.histology else None
        rows.append(dict(kind="site", site=key, label=site_title(cell.site, hist)))
        shown = sort_studies(group, sort) if show_studies or cell.k < 2 else group.iloc[:0]
        rows += _study_rows(shown, key)
        if cell.k >= 2:
            rows += _pooled_rows(cell, group, key)
        else:
            rows.append(dict(kind="note", site=key, label="single study: not pooled"))
        rows.append(dict(kind="gap"))
    return rows[:-1]


def _table_text(fig, at_row, rows: list[dict], level: float) -> list[tuple[str, object]]:
    """The header and every row's texts, as ``(column, Text)``; x is set once the column widths are known."""
    cells_text = []

    def put(column, y, text, **kw):
        cells_text.append((column, fig.text(0, y, text, **{"transform": at_row, "va": "center", **kw})))

    with_rob = any("rob" in r for r in rows)
    n_items = max((len(r.get("rob_items", [])) for r in rows), default=0)
    item_headers = {f"rob{i}": f"D{i + 1}" for i in range(n_items)}
    for col, text in {**headers(level), **item_headers, **({"rob": ROB_HEADER} if with_rob else {})}.items():
        put(col, -0.8, text, fontweight="bold", va="bottom", linespacing=1.1)
    muted = dict(color=PALETTE["muted"])
    for y, row in enumerate(rows):
        kind = row["kind"]
        if kind == "note":
            put("note", y, row["label"], fontsize=SMALL_FONT_SIZE, **muted)
        elif kind != "gap":
            style = {"site": dict(fontweight="bold"), "pooled": dict(fontweight="bold"), "pi": muted}.get(kind, {})
            for col in ("label", "n", "ci", "w"):
                if col in row:
                    put(col, y, row[col], **style)
            marks = {f"rob{i}": v for i, v in enumerate(row.get("rob_items", []))}
            if "rob" in row:
                marks["rob"] = row["rob"]
            for col, judgement in marks.items():  # each item's level, then the overall: robvis circles
                symbol, colour = rob_marks(judgement)
                bbox = dict(boxstyle="circle,pad=0.12", facecolor=colour, edgecolor=PALETTE["muted"], linewidth=0.5)
                gid = f"rob:{judgement}" if col == "rob" else f"{col}:{judgement}"
                put(col, y, symbol, fontsize=SMALL_FONT_SIZE, fontweight="bold", bbox=bbox, gid=gid)
    return cells_text


def _place_columns(fig, renderer, cells_text) -> tuple[float, float, float]:
    """Column widths from the rendered text; returns the figure width and the plot's left and
    right edges (inches). A note starts in the label column and may run on under Events/N,
    never into the plot."""
    widths = {col: 0.0 for col in ("label", "note", "n", "ci", "w", "rob")}
    for col, t in cells_text:
        widths[col] = max(widths.get(col, 0.0), t.get_window_extent(renderer).width / fig.dpi)
    widths["label"] = max(widths["label"], widths["note"] - GAP_IN - widths["n"])
    # the risk-of-bias columns, right-most: the items (rob0, rob1, ...) of one width, then the overall
    rob_cols = [c for c in widths if c.startswith("rob") and widths[c]]
    rob_cols.sort(key=lambda c: (c == "rob", c[3:].zfill(3)))
    rob_w = max((widths[c] for c in rob_cols), default=0.0)
    rob_in = len(rob_cols) * rob_w + (len(rob_cols) - 1) * ROB_ITEM_GAP_IN + GAP_IN if rob_cols else 0.0
    text_in = (
        2 * PAD_IN
        + widths["label"]
        + GAP_IN
        + widths["n"]
        + 2 * PLOT_GAP_IN
        + widths["ci"]
        + GAP_IN
        + widths["w"]
        + rob_in
    )
    fig_w = max(FIGURE_WIDTH_IN, text_in + MIN_PLOT_IN)
    right_edge = {"n": PAD_IN + widths["label"] + GAP_IN + widths["n"], "w": fig_w - PAD_IN - rob_in}
    for k, col in enumerate(reversed(rob_cols)):  # centred: the marks under their header
        right_edge[col] = fig_w - PAD_IN - rob_w / 2 - k * (rob_w + ROB_ITEM_GAP_IN)
    centred = set(rob_cols)
    right_edge["ci"] = right_edge["w"] - widths["w"] - GAP_IN
    for col, t in cells_text:
        t.set_x(right_edge.get(col, PAD_IN))
        t.set_ha("center" if col in centred else "right" if col in right_edge else "left")
    return fig_w, right_edge["n"] + PLOT_GAP_IN, right_edge["ci"] - widths["ci"] - PLOT_GAP_IN


def _footnote(
    cells: pd.DataFrame, drawn: pd.DataFrame, n_study_rows: int, max_studies: int | None, level: float
) -> list[str]:
    """The footnote's paragraphs. ``drawn``: the study rows drawn; ``max_studies``: None if all are drawn."""
    scale = SCALE_NAMES.get(str(cells["transform"].iloc[0]), "model") if "transform" in cells else "logit"
    study_ci = str(drawn["study_ci"].iloc[0]) if "study_ci" in drawn and len(drawn) else "wald"
    foot = [f"{study_ci_text(study_ci, scale, level)}; square area proportional to weight."]
    if max_studies is not None:
        foot.insert(
            0,
            f"{n_study_rows} study rows (more than {max_studies}, figures.forest.max_studies) are "
            f"not drawn: only pooled results are shown. The study rows are in {STUDY_TABLE}.",
        )
    if "mixed_primaries" in drawn and drawn["mixed_primaries"].astype(bool).any():
        foot.append("* Patients with mixed or unreported primary tumours (figures not limited to one histology).")
    note = continuity_text(drawn)
    if note:
        foot.append(note)
    if "risk_of_bias" in drawn:
        foot.append(ROB_FOOTNOTE)
    items = _item_columns(drawn)
    if items and len(drawn):
        foot.append(item_footnote([c[len(ITEM_PREFIX) :] for c in items]))
    if (cells["k"] >= 2).any():
        foot.insert(0, f"Pooled: {method_text(cells, level)}; prediction interval shown as a bar.")
        shares = _share_footnote(cells, level)
        if shares:
            foot.insert(1, shares)
    return foot


def _share_footnote(cells: pd.DataFrame, level: float) -> str:
    """The shares of true rates above the cutoffs of ``pooling.targets`` (the ``share_above_*`` columns), per
    pooled row: ``"Share of true rates above 80% (predictive distribution, 90% CI): Lung 62% (44–78); ..."``."""
    said = []
    for c in share_cutoffs(cells.columns):
        rows = [(r, share_text(r, c)) for r in cells.itertuples(index=False)]
        given = [f"{_cell_title(r)} {t}" for r, t in rows if t]
        if given:
            said.append(f"above {c:g}%: " + ", ".join(given))
    if not said:
        return ""
    return f"Share of true rates (predictive distribution, {level_text(level)} CI) " + "; ".join(said) + "."


def _cell_title(r) -> str:
    """A pooled row's site, with its histology when it has one."""
    histology = getattr(r, "histology", None)
    return site_title(r.site, histology if isinstance(histology, str) and histology else None)


def item_footnote(columns: list[str]) -> str:
    """What the per-item columns D1, D2, ... are: the tool's items, in its words, and what each mark means; an
    item judged per pooled result (its column ends in :data:`~sbrtmeta.data.risk_of_bias.PER_RESULT`) says so."""
    plain = [c.removesuffix(PER_RESULT) for c in columns]
    tool = next(t for t in TOOLS.values() if list(t.columns) == plain)
    words = level_words(tool.name)
    names = "; ".join(f"D{i + 1} {text.lower()}" for i, (_, text) in enumerate(tool.items))
    marks = ", ".join(f"{rob_marks(lvl)[0].strip() or 'blank'} {words[lvl].split(': ', 1)[-1]}" for lvl in words)
    text = f"D1–D{len(tool.items)}: the items of {tool.title} (results/tables/risk_of_bias.csv): {names}. {marks}."
    per_result = [f"D{i + 1}" for i, c in enumerate(columns) if c.endswith(PER_RESULT)]
    if per_result:
        text += (
            f" {', '.join(per_result)} judged against this plot's time point from the median follow-up "
            "(results/tables/follow_up_by_result.csv), not the sheet's."
        )
    return text


def _wrapped(fig, renderer, texts: list[str], width_in: float, bold: bool = False) -> list[str]:
    font = FontProperties(size=SMALL_FONT_SIZE, weight="bold") if bold else FontProperties(size=SMALL_FONT_SIZE)

    def measure(text):
        return renderer.get_text_width_height_descent(text, font, ismath=False)[0] / fig.dpi

    return [line for t in texts for line in wrap_text(t, width_in, measure)]


def _bottom_text(fig, ax, plot_x, fig_w: float, n_rows: int, test_lines: list[str], foot_lines: list[str]) -> None:
    """Vertical layout in inches (header, rows, axis, subgroup test, footnote), and the bottom texts."""
    top_in, axis_in, line_in = 0.42, 0.48, SMALL_FONT_SIZE * 1.35 / 72
    tests_in = (len(test_lines) * line_in + 0.1) if test_lines else 0.0
    bottom_in = axis_in + tests_in + len(foot_lines) * line_in + PAD_IN
    fig_h = top_in + n_rows * ROW_IN + bottom_in
    fig.set_size_inches(fig_w, fig_h)
    plot_x0, plot_x1 = plot_x
    ax.set_position((plot_x0 / fig_w, bottom_in / fig_h, (plot_x1 - plot_x0) / fig_w, n_rows * ROW_IN / fig_h))
    if test_lines:
        fig.text(
            PAD_IN / fig_w,
            (PAD_IN + len(foot_lines) * line_in + 0.1) / fig_h,
            "\n".join(test_lines),
            fontsize=SMALL_FONT_SIZE,
            fontweight="bold",
            va="bottom",
            linespacing=1.35,
            gid="subgroup-test",
        )
    fig.text(
        PAD_IN / fig_w,
        PAD_IN / fig_h,
        "\n".join(foot_lines),
        fontsize=SMALL_FONT_SIZE,
        color=PALETTE["muted"],
        va="bottom",
        linespacing=1.35,
    )


def draw_forest(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    endpoint: str,
    timepoint_months: float,
    endpoint_label: str | None = None,
    sort: str = "table",
    max_studies: int = MAX_STUDIES,
    subgroups: pd.DataFrame | None = None,
    *,
    level: float,
) -> Figure:
    """Forest plot of every site pooled for ``endpoint`` at ``timepoint_months``.

    ``pooled`` and ``studies`` are the tables of :func:`sbrtmeta.analysis.pooling.pool_cells`
    (proportions on the 0-1 scale); they are drawn in %. Sites come in ``pooled``
    order, studies within a site in ``sort`` order (``"year"`` needs a ``year``
    column in ``studies``). With more than ``max_studies`` study rows only the pooled
    rows are drawn. ``subgroups`` is ``subgroup_tests.csv``: its row for this endpoint
    and time point is printed below the sites. The figure is returned unsaved; see
    :func:`sbrtmeta.plots.style.save_figure`.
    """
    cells = select_rows(pooled, endpoint, timepoint_months)
    if cells.empty:
        raise ValueError(f"no pooled cell for {endpoint} at {timepoint_months:g} months")
    drawn = select_rows(studies, endpoint, timepoint_months)
    show_studies = len(drawn) <= max_studies
    if subgroups is not None and not subgroups.empty:
        subgroups = select_rows(subgroups, endpoint, timepoint_months)
    rows = _rows(cells, drawn, sort, show_studies)
    split = "histology" in cells and cells["histology"].nunique() > 1
    tests = [r["label"] for r in _subgroup_rows(cells, subgroups, split)]
    drawn_rows = drawn if show_studies else drawn[drawn["site"].isin(cells.loc[cells["k"] < 2, "site"])]
    foot = _footnote(cells, drawn_rows, len(drawn), None if show_studies else max_studies, level)
    with figure_style():
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 4))
        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        ax = fig.add_axes((0, 0, 1, 1))
        at_row = blended_transform_factory(fig.dpi_scale_trans, ax.transData)  # x: inches, y: rows
        fig_w, plot_x0, plot_x1 = _place_columns(fig, renderer, _table_text(fig, at_row, rows, level))
        foot_lines = _wrapped(fig, renderer, foot, fig_w - 2 * PAD_IN)
        test_lines = _wrapped(fig, renderer, tests, fig_w - 2 * PAD_IN, bold=True)
        _bottom_text(fig, ax, (plot_x0, plot_x1), fig_w, len(rows), test_lines, foot_lines)
        _draw_rows(ax, rows)
        percent_row_axis(ax, len(rows), f"{endpoint_axis_label(endpoint, timepoint_months, endpoint_label)} (%)")
    return fig


def forest_figures(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    endpoints: list[str],
    sort: str = "table",
    max_studies: int = MAX_STUDIES,
    subgroups: pd.DataFrame | None = None,
    *,
    level: float,
) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of the forest plot (:func:`draw_forest`) of every endpoint × time
    point with a pooled or single-study cell (:func:`sbrtmeta.data.cells.pooled_cells`)."""
    for endpoint, t in pooled_cells(pooled, endpoints):
        fig = draw_forest(
            pooled, studies, endpoint, t, sort=sort, max_studies=max_studies, subgroups=subgroups, level=level
        )
        yield cell_stem("forest", endpoint, t), fig


def _draw_rows(ax, rows: list[dict]) -> None:
    study = [(y, r) for y, r in enumerate(rows) if r["kind"] == "study"]
    if study:
        ys = np.array([y for y, _ in study], dtype=float)
        get = lambda key: np.array([r[key] for _, r in study], dtype=float) * 100  # noqa: E731
        ax.hlines(ys, get("lo"), get("hi"), color=PALETTE["ink"], linewidth=0.8, zorder=2, gid="study-ci")
        weight = get("weight") / 100
        ax.scatter(
            get("est"),
            ys,
            s=MAX_SQUARE_PT**2 * weight / weight.max(),
            marker="s",
            color=PALETTE["ink"],
            linewidths=0,
            zorder=3,
            gid="study-estimate",
        )
    for y, r in enumerate(rows):
        if r["kind"] == "pooled":
            first = next(i for i, s in enumerate(rows) if s.get("site") == r["site"])
            est, lo, hi = 100 * r["est"], 100 * r["lo"], 100 * r["hi"]
            pooled_diamond(ax, y, est, lo, hi, first + 0.5, f"pooled:{r['site']}", f"pooled-line:{r['site']}")
        elif r["kind"] == "pi":
            lo, hi = 100 * r["lo"], 100 * r["hi"]
            ax.add_patch(
                Rectangle(
                    (lo, y - 0.09),
                    hi - lo,
                    0.18,
                    facecolor=PALETTE["sky"],
                    edgecolor="none",
                    zorder=3,
                    gid=f"pi:{r['site']}",
                )
            )
