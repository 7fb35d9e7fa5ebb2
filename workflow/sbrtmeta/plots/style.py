"""One style for every figure of the workflow, and deterministic saving.

Figures are sized for a two-column journal page (17 cm wide) and set in a sans
serif face at 7-8 pt, the smallest sizes most journals accept in print. Colours
come from the Okabe-Ito palette, which stays distinct for colour-blind readers
and in greyscale.

``save_figure`` writes PNG, PDF and SVG without timestamps, so that re-running the
workflow on unchanged data gives byte-identical PDF and SVG files.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.patches import Polygon

FIGURE_WIDTH_IN = 17 / 2.54  # a full page width
FONT_SIZE = 8.0
SMALL_FONT_SIZE = 7.0

# Okabe-Ito colours plus the neutral greys used for ink, notes and rules.
PALETTE = {
    "ink": "#1a1a1a",
    "muted": "#6e6e6e",
    "light": "#b8b8b8",
    "rule": "#e3e3e3",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
}
CYCLE = [PALETTE[c] for c in ("blue", "vermillion", "green", "orange", "sky", "purple")]

# The installed faces among these, rather than the generic "sans-serif": text created
# under the style keeps its face even when the figure is drawn after the style is
# left, and matplotlib does not warn about the missing ones.
_SANS = ["Arial", "Helvetica", "Liberation Sans", "Nimbus Sans", "DejaVu Sans"]
# Fallbacks for the glyphs those lack (matplotlib takes each glyph from the first face that has
# it): CJK names draw when one is installed (Debian: fonts-noto-cjk); else save_figure logs the
# characters no font could draw.
_FALLBACK = ["Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK KR", "WenQuanYi Zen Hei", "Droid Sans Fallback"]
_INSTALLED = {f.name for f in font_manager.fontManager.ttflist}
FONT_FAMILY = ([f for f in _SANS if f in _INSTALLED] or ["DejaVu Sans"]) + [f for f in _FALLBACK if f in _INSTALLED]


class _FallbackWeights(logging.Filter):
    """A fallback face has no bold: matplotlib says so for every bold text; the regular weight is
    what a fallback glyph is drawn in, so that line says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(f in record.getMessage() for f in _FALLBACK)


logging.getLogger("matplotlib.font_manager").addFilter(_FallbackWeights())
# Matplotlib warns of a missing glyph each time it measures text (a plot's layout, a traceback-like
# line naming our code); save_figure draws every text again and logs one line per figure instead.
GLYPH_LOG = "sbrtmeta.figures"


def ignore_glyph_warnings() -> None:
    """Matplotlib's missing-glyph warnings off (for the process; done on import)."""
    warnings.filterwarnings("ignore", message=r"Glyph \d+ \(.+?\) missing from font", category=UserWarning)


ignore_glyph_warnings()

STYLE = {
    "font.family": FONT_FAMILY,
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_SIZE,
    "figure.labelsize": FONT_SIZE,
    "figure.titlesize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE,
    "ytick.labelsize": FONT_SIZE,
    "legend.fontsize": SMALL_FONT_SIZE,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.edgecolor": PALETTE["ink"],
    "axes.labelcolor": PALETTE["ink"],
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "xtick.color": PALETTE["ink"],
    "ytick.color": PALETTE["ink"],
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "lines.linewidth": 0.9,
    "text.color": PALETTE["ink"],
    "mathtext.default": "regular",
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.facecolor": "white",
    "pdf.fonttype": 42,  # embed TrueType: text stays text in the PDF
    "svg.fonttype": "path",  # glyphs as paths: the SVG looks the same everywhere
    "svg.hashsalt": "sbrtmeta",  # fixed ids in the SVG
    "path.simplify": True,
}


def apply_style() -> None:
    """Set the style globally (for scripts that make several figures)."""
    mpl.rcParams.update(STYLE)


@contextlib.contextmanager
def figure_style():
    """Use the style inside a ``with`` block only."""
    with mpl.rc_context(STYLE):
        yield


_METADATA = {
    "png": None,
    "pdf": {"CreationDate": None, "ModDate": None},
    "svg": {"Date": None},
}


def save_figure(fig, paths: list[str], dpi: int = 300) -> None:
    """Write ``fig`` to each path, in the format its extension names, then close it.

    PDF and SVG carry no date, and SVG ids are salted with a fixed string, so the
    same figure gives the same bytes on every run. Parent folders are created.
    """
    try:
        with figure_style(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for path in map(Path, paths):
                fmt = path.suffix.lower().lstrip(".")
                if fmt not in _METADATA:
                    raise ValueError(f"{path}: extension must be one of {sorted(_METADATA)}")
                path.parent.mkdir(parents=True, exist_ok=True)
                fig.savefig(path, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
        _log_missing_glyphs(caught, paths)
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")  # (not imported here: ~0.2 s a job)
        if pyplot is not None:  # a figure made through pyplot is registered there; close it
            pyplot.close(fig)


_GLYPH = re.compile(r"Glyph \d+ \((.+?)\) missing from font")


def _log_missing_glyphs(caught, paths) -> None:
    """One log line per figure whose text has characters no installed font can draw (they show as
    boxes), naming them; other warnings are passed on."""
    missing = []
    for w in caught:
        found = _GLYPH.search(str(w.message))
        if found:
            missing.append(found.group(1))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing:
        chars = ", ".join(dict.fromkeys(missing))
        logging.getLogger(GLYPH_LOG).warning(
            "%s: a glyph is missing (%s): no installed font draws it, so it shows as a box; install a font "
            "with these characters (CJK: Debian's fonts-noto-cjk)",
            paths[0] if paths else "figure",
            chars,
        )


def save_figures(figures: Iterable, folder: str, formats: list[str], dpi: int = 300) -> list[str]:
    """Save each ``(stem, figure)`` of ``figures`` as ``folder/stem.<format>`` in every
    format (see :func:`save_figure`); the folder is created even when there is nothing to
    save. Returns the paths written."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    written = []
    for stem, fig in figures:
        paths = [str(Path(folder) / f"{stem}.{fmt}") for fmt in formats]
        save_figure(fig, paths, dpi=dpi)
        written += paths
    return written


def message_figure(text: str, width_in: float = FIGURE_WIDTH_IN / 2 + 0.6):
    """A small figure that only says ``text`` (e.g. why there is nothing to draw)."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lines = textwrap.wrap(text, width=int(width_in * 12))
    with figure_style():
        fig = Figure(figsize=(width_in, 0.4 + 0.18 * len(lines)))
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, "\n".join(lines), ha="center", va="center", color=PALETTE["muted"], linespacing=1.3)
    return fig


def wrap_text(text: str, width_in: float, measure) -> list[str]:
    """Greedy word wrap of ``text`` to ``width_in`` inches (``measure(text)``: its width in inches)."""
    lines = []
    for word in text.split(" "):
        if lines and measure(lines[-1] + " " + word) <= width_in:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def percent_row_axis(ax, n_rows: int, xlabel: str) -> None:
    """The plot area of a forest-style figure: 0-100 % across, one unit per table row down
    (row 0 at the top), no y axis, light vertical grid lines behind the marks."""
    ax.set_xlim(0, 100)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xticks(np.arange(0, 101, 20))
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_facecolor("none")
    ax.set_xlabel(xlabel)
    ax.xaxis.grid(True, color=PALETTE["rule"], linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)


DIAMOND_HALF = 0.34  # half height of a pooled estimate's diamond, in rows


def pooled_diamond(ax, y: float, est: float, lo: float, hi: float, top: float, gid: str, line_gid=None) -> None:
    """A pooled estimate (``est`` with CI ``lo``-``hi``, in axis units) as a diamond on row ``y``,
    with a dashed line from it up to row ``top``: the forest and leave-one-out plots' mark."""
    ax.add_patch(
        Polygon(
            [(lo, y), (est, y - DIAMOND_HALF), (hi, y), (est, y + DIAMOND_HALF)],
            closed=True,
            facecolor=PALETTE["blue"],
            edgecolor=PALETTE["blue"],
            linewidth=0.6,
            zorder=3,
            gid=gid,
        )
    )
    ax.vlines(
        est, top, y - DIAMOND_HALF, color=PALETTE["blue"], linewidth=0.6, linestyles=(0, (2, 2)), zorder=1, gid=line_gid
    )
