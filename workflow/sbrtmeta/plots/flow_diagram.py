"""Flow diagram of study selection, drawn from ``included.csv`` and ``excluded.csv``.

Rows extracted → rows excluded, with the count of each criterion (the first
criterion a row fails, as :mod:`sbrtmeta.data.inclusion` records it) → rows included,
then the rows and studies included per site and endpoint.
:func:`sbrtmeta.analysis.selection.flow_counts` gives the numbers; :func:`draw_flow` draws them.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from sbrtmeta.plots.labels import CRITERION_LABELS, site_title
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, figure_style

ENDPOINT_ORDER = ("LC", "OS")
PAD_IN = 0.1
BOX_PAD_PT = 5
ARROW_IN = 0.35


def _rows_text(rows: int, studies: int) -> str:
    return f"{rows} row{'s' if rows != 1 else ''} ({studies} stud{'ies' if studies != 1 else 'y'})"


def flow_texts(counts: dict) -> dict:
    """The texts of the four boxes."""
    rows, studies = counts["excluded"]
    excl = [f"Rows excluded: {rows} (from {studies} stud{'ies' if studies != 1 else 'y'}), by first failed criterion"]
    excl += [f"  {CRITERION_LABELS.get(c, c)}: {n}" for c, n in counts["criteria"]]
    per_site = counts["per_site"]
    sites = ["Included per site and endpoint: rows (studies)"]
    for site, group in per_site.groupby("site", sort=True):
        parts = []
        endpoints = sorted(group["endpoint"], key=lambda e: (ENDPOINT_ORDER.index(e) if e in ENDPOINT_ORDER else 9, e))
        for e in endpoints:
            r = group[group["endpoint"] == e].iloc[0]
            parts.append(f"{e} {int(r.rows)} ({int(r.studies)})")
        sites.append(f"  {site_title(site)}: " + ", ".join(parts))
    if per_site.empty:
        sites.append("  none")
    return dict(
        extracted=f"Outcome rows extracted: {_rows_text(*counts['extracted'])}",
        excluded="\n".join(excl),
        included=f"Rows included: {_rows_text(*counts['included'])}",
        sites="\n".join(sites),
    )


def draw_flow(counts: dict) -> Figure:
    """The flow diagram of :func:`sbrtmeta.analysis.selection.flow_counts`' numbers. Returned unsaved."""
    texts = flow_texts(counts)
    box = dict(boxstyle=f"square,pad={BOX_PAD_PT / 8:.3f}", facecolor="white", edgecolor=PALETTE["ink"], linewidth=0.7)
    with figure_style():
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 4))
        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        made = {
            key: fig.text(0, 0, text, va="top", ha="left", linespacing=1.35, bbox=box) for key, text in texts.items()
        }
        size = {}
        for key, t in made.items():
            bb = t.get_bbox_patch()
            t.draw(renderer)  # lays out the box around the text
            ext = bb.get_window_extent(renderer)
            size[key] = (ext.width / fig.dpi, ext.height / fig.dpi)
        left_w = max(size["extracted"][0], size["included"][0], size["sites"][0])
        centre = PAD_IN + left_w / 2 + 0.05
        right_x = max(centre + ARROW_IN + 0.3, PAD_IN + size["extracted"][0] + 0.2)
        width = right_x + size["excluded"][0] + PAD_IN + 0.05
        h_ex = size["extracted"][1]
        h_side = size["excluded"][1]
        y_ex = PAD_IN
        y_side = y_ex + h_ex + ARROW_IN
        y_in = y_side + h_side + ARROW_IN
        y_sites = y_in + size["included"][1] + ARROW_IN
        height = y_sites + size["sites"][1] + PAD_IN
        fig.set_size_inches(width, height)
        pad_in = BOX_PAD_PT / 72

        def place(key, x_in, y_in_top):  # top-left of the box outline, inches from the top-left
            made[key].set_position(((x_in + pad_in) / width, 1 - (y_in_top + pad_in) / height))

        place("extracted", centre - size["extracted"][0] / 2, y_ex)
        place("included", centre - size["included"][0] / 2, y_in)
        place("sites", centre - size["sites"][0] / 2, y_sites)
        place("excluded", right_x, y_side)
        arrow = dict(arrowstyle="-|>", color=PALETTE["ink"], linewidth=0.7, shrinkA=0, shrinkB=0)
        to_fig = lambda x, y: (x / width, 1 - y / height)  # noqa: E731
        for top, bottom in ((y_ex + h_ex, y_in), (y_in + size["included"][1], y_sites)):
            fig.add_artist(_arrow(fig, to_fig(centre, top), to_fig(centre, bottom), arrow))
        branch_y = y_side + min(h_side / 2, 0.25)
        fig.add_artist(_arrow(fig, to_fig(centre, branch_y), to_fig(right_x, branch_y), arrow))
    return fig


def _arrow(fig, start, end, props):
    p = props.copy()
    return FancyArrowPatch(
        start,
        end,
        transform=fig.transFigure,
        arrowstyle=p.pop("arrowstyle"),
        mutation_scale=8,
        color=p.pop("color"),
        linewidth=p.pop("linewidth"),
        shrinkA=0,
        shrinkB=0,
    )
