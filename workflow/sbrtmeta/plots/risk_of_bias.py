"""Risk-of-bias figures in the manner of robvis (McGuinness & Higgins, Res Synth Methods
2021;12:55-61): a traffic-light plot (one row per study, one column per item and the overall
judgement, each a coloured circle with its symbol) and a summary bar plot (per item, the share
of studies at each judgement). They draw ``results/tables/risk_of_bias.csv``
(:func:`sbrtmeta.data.risk_of_bias.risk_of_bias_table`) only.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sbrtmeta.data.risk_of_bias import NOT_ASSESSED, NOT_REPORTED, TOOLS
from sbrtmeta.plots.labels import shorten
from sbrtmeta.plots.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style, message_figure

# robvis' colours and symbols; the two judgements that are no judgement in greys.
LEVEL_STYLE = {
    "low": ("#02C100", "+"),
    "some concerns": ("#E2DF07", "−"),
    "high": ("#BF0000", "×"),
    "not applicable": ("#cccccc", "NA"),
    NOT_REPORTED: ("#4EA1F7", "?"),
    NOT_ASSESSED: ("#ffffff", ""),
}
LEVEL_ORDER = ("low", "some concerns", "high", "not applicable", NOT_REPORTED, NOT_ASSESSED)
ROW_IN = 0.2
CIRCLE_PT = 11.0  # marker size (points)


def rob_marks(overall: str) -> tuple[str, str]:
    """``(symbol, colour)`` of an overall judgement, as the traffic lights draw it."""
    colour, symbol = LEVEL_STYLE.get(overall, LEVEL_STYLE[NOT_ASSESSED])
    return symbol or " ", colour


def _level(tool, value: str, overall: bool = False) -> str:
    """The traffic-light level of an item value (or an overall judgement)."""
    if value in (NOT_REPORTED, NOT_ASSESSED):
        return value
    return value if overall else tool.levels[value]


def level_words(tool_name: str) -> dict:
    """What each level means for ``tool_name``'s items, as legend text."""
    tool = TOOLS[tool_name]
    meaning = {
        "MINORS": {"low": "2 (reported, adequate)", "some concerns": "1 (reported, inadequate)", "high": "0"},
        "JBI": {"low": "yes", "some concerns": "unclear", "high": "no", "not applicable": "not applicable"},
    }[tool.name]
    return {
        **{lvl: f"{lvl}: item {meaning[lvl]}" for lvl in meaning},
        NOT_REPORTED: "not reported in the extracted sources",
        NOT_ASSESSED: "not assessed",
    }


def _legend_handles(tool_name: str) -> list:
    words = level_words(tool_name)
    return [
        Patch(facecolor=LEVEL_STYLE[lvl][0], edgecolor=PALETTE["muted"], linewidth=0.5, label=words[lvl])
        for lvl in LEVEL_ORDER
        if lvl in words
    ]


def light_styles(lvl: str) -> list[dict]:
    """How a level is drawn, in the plot and in its legend alike: a circle in the level's colour and, on
    top, its symbol as a marker of the same glyph and size (``Line2D``/``plot`` keyword arguments)."""
    colour, symbol = LEVEL_STYLE[lvl]
    circle = dict(
        ls="none",
        marker="o",
        markersize=CIRCLE_PT,
        markerfacecolor=colour,
        markeredgecolor=PALETTE["muted"],
        markeredgewidth=0.5,
    )
    if not symbol:
        return [circle]
    ink = "white" if lvl == "high" else PALETTE["ink"]
    size = CIRCLE_PT * (0.5 if len(symbol) == 1 else 0.8)
    glyph = dict(ls="none", marker=f"$\\mathbf{{{symbol}}}$", markersize=size, color=ink, markeredgewidth=0)
    return [circle, glyph]


def _light_handles(tool_name: str) -> list:
    """The traffic lights' legend: each level as it is drawn (:func:`light_styles`), its circle and symbol
    a tuple of two markers drawn on top of each other by ``HandlerTuple(ndivide=1)``."""
    words = level_words(tool_name)
    return [
        (tuple(Line2D([], [], **style) for style in light_styles(lvl)), words[lvl])
        for lvl in LEVEL_ORDER
        if lvl in words
    ]


def traffic_light(table: pd.DataFrame, tool_name: str, max_studies: int | None = None) -> Figure:
    """Traffic-light plot: studies × (items D1..Dn, overall), circles coloured by judgement; with
    more than ``max_studies`` studies (figures.risk_of_bias.max_studies) a note saying so instead."""
    if max_studies is not None and len(table) > max_studies:
        return message_figure(
            f"{len(table):,} studies, more than figures.risk_of_bias.max_studies ({max_studies:,}): the "
            "traffic-light plot is not drawn; every study's judgements are in results/tables/risk_of_bias.csv"
        )
    tool = TOOLS[tool_name]
    cols = list(tool.columns)
    n, m = len(table), len(cols) + 1
    legend_items = "; ".join(f"D{i + 1} {text}" for i, (_, text) in enumerate(tool.items))
    with figure_style():
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 1))
        FigureCanvasAgg(fig)
        label_w = max(_text_width(fig, table["label"].map(shorten)), 0.5)
        left_in, col_in = label_w + 0.4, 0.5
        grid_w = col_in * m
        width = max(FIGURE_WIDTH_IN, left_in + grid_w + 0.2)
        top_in, bottom_in = 0.55, 1.35
        height = top_in + max(n, 1) * ROW_IN + bottom_in
        fig.set_size_inches(width, height)
        ax = fig.add_axes((left_in / width, bottom_in / height, grid_w / width, n * ROW_IN / height))
        ax.set_xlim(-0.5, m - 0.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.axis("off")
        for y, r in enumerate(table.itertuples(index=False)):
            values = [(_level(tool, getattr(r, c)), False) for c in cols] + [(_level(tool, r.overall, True), True)]
            for x, (lvl, _) in enumerate(values):
                circle, *glyph = light_styles(lvl)
                ax.plot(x, y, **circle, gid=f"rob:{r.study_id}:{x}:{lvl}")
                for style in glyph:  # the symbol, the same marker as in the legend
                    ax.plot(x, y, **style, gid=f"rob-symbol:{r.study_id}:{x}:{lvl}")
            ax.text(-0.5 - 0.2 / col_in, y, shorten(r.label), ha="right", va="center")
        ax.axvline(m - 1.5, color=PALETTE["rule"], linewidth=0.8)
        for x, head in enumerate([f"D{i + 1}" for i in range(len(cols))] + ["Overall"]):
            ax.text(x, -0.9, head, ha="center", va="bottom", fontweight="bold")
        fig.text(
            0.1 / width,
            1 - 0.12 / height,
            f"Risk of bias: {tool.title}",
            fontweight="bold",
            va="top",
        )
        lights = _light_handles(tool_name)
        fig.legend(
            handles=[h for h, _ in lights],
            labels=[text for _, text in lights],
            handler_map={tuple: HandlerTuple(ndivide=1)},
            loc="lower left",
            bbox_to_anchor=(0.1 / width, 0.62 / height),
            ncols=3,
            frameon=False,
            fontsize=SMALL_FONT_SIZE,
            handlelength=1.0,
        )
        _footnote(fig, width, legend_items, 0.08 / height)
    return fig


def _text_width(fig, texts) -> float:
    """Width in inches of the widest of ``texts`` in the current font."""
    renderer = fig.canvas.get_renderer()
    widths = []
    for text in texts:
        t = fig.text(0, 0, str(text))
        widths.append(t.get_window_extent(renderer).width / fig.dpi)
        t.remove()
    return max(widths, default=0.0)


def _footnote(fig, width: float, text: str, y: float) -> None:
    import textwrap

    fig.text(
        0.1 / width,
        y,
        "\n".join(textwrap.wrap(text, width=int(width * 17))),
        fontsize=SMALL_FONT_SIZE,
        color=PALETTE["muted"],
        va="bottom",
        linespacing=1.3,
    )


def summary_bars(table: pd.DataFrame, tool_name: str) -> Figure:
    """Summary plot: per item (and overall), the share of studies at each judgement."""
    tool = TOOLS[tool_name]
    rows = [(text, [_level(tool, v) for v in table[c]]) for c, text in tool.items]
    rows.append(("Overall risk of bias", [_level(tool, v, True) for v in table["overall"]]))
    n = len(table)
    with figure_style():
        height = 0.55 + len(rows) * 0.3 + 1.0
        fig = Figure(figsize=(FIGURE_WIDTH_IN, height))
        FigureCanvasAgg(fig)
        left = _text_width(fig, [t for t, _ in rows]) + 0.25
        ax = fig.add_axes(
            (left / FIGURE_WIDTH_IN, 1.0 / height, 1 - (left + 0.2) / FIGURE_WIDTH_IN, len(rows) * 0.3 / height)
        )
        for y, (_, levels) in enumerate(rows):
            start = 0.0
            counts = pd.Series(levels).value_counts()
            for lvl in LEVEL_ORDER:
                share = 100 * counts.get(lvl, 0) / max(n, 1)
                if share <= 0:
                    continue
                ax.barh(
                    y,
                    share,
                    left=start,
                    color=LEVEL_STYLE[lvl][0],
                    edgecolor=PALETTE["muted"],
                    linewidth=0.5,
                    height=0.7,
                )
                if share >= 6:
                    ink = "white" if lvl == "high" else PALETTE["ink"]
                    ax.text(
                        start + share / 2,
                        y,
                        f"{counts[lvl]}",
                        ha="center",
                        va="center",
                        fontsize=SMALL_FONT_SIZE,
                        color=ink,
                    )
                start += share
        ax.set_yticks(range(len(rows)), [t for t, _ in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"Studies (%; n = {n}, numbers in the bars are counts)")
        ax.spines[["top", "right"]].set_visible(False)
        fig.text(0.1 / FIGURE_WIDTH_IN, 1 - 0.12 / height, f"Risk of bias: {tool.title}", fontweight="bold", va="top")
        fig.legend(
            handles=_legend_handles(tool_name),
            loc="lower left",
            bbox_to_anchor=(0.1 / FIGURE_WIDTH_IN, 0.02),
            ncols=3,
            frameon=False,
            fontsize=SMALL_FONT_SIZE,
            handlelength=1.0,
        )
    return fig


def risk_of_bias_figures(table: pd.DataFrame, tool_name: str, max_studies: int | None = None):
    """``(stem, figure)`` of the traffic-light (up to ``max_studies`` studies) and the summary plot."""
    yield "risk_of_bias_traffic_light", traffic_light(table, tool_name, max_studies)
    yield "risk_of_bias_summary", summary_bars(table, tool_name)


# A concern for the GRADE domain drawn in the colour of the judgement it stands for.
CONCERN_STYLE = {
    "not serious": LEVEL_STYLE["low"][0],
    "serious": LEVEL_STYLE["some concerns"][0],
    "very serious": LEVEL_STYLE["high"][0],
    NOT_ASSESSED: LEVEL_STYLE[NOT_ASSESSED][0],
}


def weighted_summary(shares: pd.DataFrame, rule: str, labels: list[str]) -> Figure:
    """Per pooled result (``labels``, one per row of ``shares``), the share of its weight at each
    risk-of-bias concern (:func:`sbrtmeta.analysis.certainty.concern_weights`), as robvis'
    ``rob_summary(weighted = TRUE)`` weights by each study's weight in the synthesis; ``rule`` says how a
    study's row became its concern."""
    import textwrap

    concerns = list(CONCERN_STYLE)
    n = len(shares)
    with figure_style():
        note = textwrap.wrap(f"Concern of each study: {rule}.", width=int(FIGURE_WIDTH_IN * 15))
        foot = 0.06 + 0.14 * len(note)  # inches: the rule's note at the bottom, the legend above it
        bottom = foot + 0.3 + 0.5  # the legend, then the x axis' ticks and label
        height = bottom + max(n, 1) * 0.24 + 0.45
        fig = Figure(figsize=(FIGURE_WIDTH_IN, height))
        FigureCanvasAgg(fig)
        left = _text_width(fig, labels) + 0.25
        ax = fig.add_axes(
            (left / FIGURE_WIDTH_IN, bottom / height, 1 - (left + 0.2) / FIGURE_WIDTH_IN, max(n, 1) * 0.24 / height)
        )
        for y in range(n):
            start = 0.0
            for c in concerns:
                share = float(shares[c].iloc[y])
                if share <= 0:
                    continue
                ax.barh(
                    y,
                    share,
                    left=start,
                    color=CONCERN_STYLE[c],
                    edgecolor=PALETTE["muted"],
                    linewidth=0.5,
                    height=0.7,
                    gid=f"weighted:{y}:{c}",
                )
                if share >= 8:
                    ink = "white" if c == "very serious" else PALETTE["ink"]
                    ax.text(
                        start + share / 2,
                        y,
                        f"{share:.0f}",
                        ha="center",
                        va="center",
                        fontsize=SMALL_FONT_SIZE,
                        color=ink,
                    )
                start += share
        ax.set_yticks(range(n), labels)
        ax.set_ylim(max(n, 1) - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.set_xlabel("Share of the pooled result's weight (%; numbers in the bars)")
        ax.spines[["top", "right"]].set_visible(False)
        fig.text(
            0.1 / FIGURE_WIDTH_IN,
            1 - 0.12 / height,
            "Risk of bias per pooled result, weighted by study weight",
            fontweight="bold",
            va="top",
        )
        fig.legend(
            handles=[
                Patch(facecolor=CONCERN_STYLE[c], edgecolor=PALETTE["muted"], linewidth=0.5, label=c) for c in concerns
            ],
            loc="lower left",
            bbox_to_anchor=(0.1 / FIGURE_WIDTH_IN, (foot + 0.02) / height),
            ncols=4,
            frameon=False,
            fontsize=SMALL_FONT_SIZE,
            handlelength=1.0,
        )
        fig.text(
            0.1 / FIGURE_WIDTH_IN,
            0.06 / height,
            "\n".join(note),
            fontsize=SMALL_FONT_SIZE,
            color=PALETTE["muted"],
            va="bottom",
            linespacing=1.3,
        )
    return fig
