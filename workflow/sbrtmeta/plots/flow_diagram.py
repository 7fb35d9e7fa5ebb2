"""Flow diagram of study selection, drawn from ``included.csv`` and ``excluded.csv``.

Counted by study, as the PRISMA 2020 flow diagram counts (Page et al., BMJ 2021;372:n71), each
box with the outcome rows on its second line: studies in the extraction sheets → studies
excluded (none of their rows included; each under the criterion its last row failed) → studies
included → their rows excluded, by the first criterion each fails (as
:mod:`sbrtmeta.data.inclusion` records it) → studies and rows in the synthesis, then the rows
and studies included per site and endpoint. The boxes add up, in studies and in rows.
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


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _reasons(criteria: list[tuple[str, int]]) -> list[str]:
    return [f"  {CRITERION_LABELS.get(c, c)}: {n}" for c, n in criteria]


def flow_texts(counts: dict) -> dict:
    """The texts of the boxes, from top to bottom: the main column (``extracted``, ``studies_included``,
    ``included``, ``sites``) and the boxes beside it (``excluded``: studies none of whose rows is
    included; ``excluded_within``: the excluded rows of the included studies). Studies first, rows on
    the second line."""
    rows, studies = counts["studies_excluded"]
    excluded = [f"Studies excluded: {studies}", _n(rows, "outcome row", "outcome rows")]
    if studies:
        excluded[-1] += "; each study by the"
        excluded += ["criterion its last row failed:"] + _reasons(counts["study_criteria"])
    rows, studies = counts["rows_excluded_within"]
    within = [
        f"Rows excluded from {_n(studies, 'included study', 'included studies')}:",
        _n(rows, "outcome row", "outcome rows"),
    ]
    within[-1] += ", by first failed criterion:" if rows else ""
    within += _reasons(counts["within_criteria"])
    per_site = counts["per_site"]
    sites = ["Included per site and endpoint:", "rows (studies)"]
    for site, group in per_site.groupby("site", sort=True):
        parts = []
        endpoints = sorted(group["endpoint"], key=lambda e: (ENDPOINT_ORDER.index(e) if e in ENDPOINT_ORDER else 9, e))
        for e in endpoints:
            r = group[group["endpoint"] == e].iloc[0]
            parts.append(f"{e} {int(r.rows)} ({int(r.studies)})")
        sites.append(f"  {site_title(site)}: " + ", ".join(parts))
    if per_site.empty:
        sites.append("  none")
    rows, studies = counts["extracted"]
    extracted = f"Studies in the extraction sheets: {studies}\n{_n(rows, 'outcome row', 'outcome rows')}"
    rows, studies = counts["studies_included"]
    kept = f"Studies included: {studies}\n{_n(rows, 'outcome row', 'outcome rows')}"
    rows, studies = counts["included"]
    synthesis = (
        f"Included in the synthesis: {_n(studies, 'study', 'studies')}\n{_n(rows, 'outcome row', 'outcome rows')}"
    )
    return dict(
        extracted=extracted,
        excluded="\n".join(excluded),
        studies_included=kept,
        excluded_within="\n".join(within),
        included=synthesis,
        sites="\n".join(sites),
    )


MAIN = ("extracted", "studies_included", "included", "sites")
BESIDE = {"extracted": "excluded", "studies_included": "excluded_within"}  # a box beside the arrow below


def draw_flow(counts: dict) -> Figure:
    """The flow diagram of :func:`sbrtmeta.analysis.selection.flow_counts`' numbers, as PRISMA 2020 counts:
    studies, with their outcome rows on the second line of each box. Returned unsaved."""
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
        left_w = max(size[key][0] for key in MAIN)
        centre = PAD_IN + left_w / 2 + 0.05
        right_x = max(centre + ARROW_IN + 0.3, *(PAD_IN + size[key][0] + 0.2 for key in BESIDE))
        width = right_x + max(size[key][0] for key in BESIDE.values()) + PAD_IN + 0.05
        tops, y = {}, PAD_IN
        for key in MAIN:
            tops[key] = y
            y += size[key][1] + ARROW_IN
            if key in BESIDE:
                tops[BESIDE[key]] = y
                y += size[BESIDE[key]][1] + ARROW_IN
        height = y - ARROW_IN + PAD_IN
        fig.set_size_inches(width, height)
        pad_in = BOX_PAD_PT / 72

        def place(key, x_in, y_in_top):  # top-left of the box outline, inches from the top-left
            made[key].set_position(((x_in + pad_in) / width, 1 - (y_in_top + pad_in) / height))

        for key in MAIN:
            place(key, centre - size[key][0] / 2, tops[key])
        arrow = dict(arrowstyle="-|>", color=PALETTE["ink"], linewidth=0.7, shrinkA=0, shrinkB=0)
        to_fig = lambda x, y: (x / width, 1 - y / height)  # noqa: E731
        for upper, lower in zip(MAIN, MAIN[1:]):
            fig.add_artist(
                _arrow(fig, to_fig(centre, tops[upper] + size[upper][1]), to_fig(centre, tops[lower]), arrow)
            )
            if upper in BESIDE:
                side = BESIDE[upper]
                place(side, right_x, tops[side])
                branch_y = tops[side] + min(size[side][1] / 2, 0.25)
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
