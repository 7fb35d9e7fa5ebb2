"""The one home of how the report's Markdown writers format a number, a p-value, a cell's
name and a table. Missing or non-finite values print as "–"; figures and rules take their
words and formats from :mod:`sbrtmeta.plots.labels`, which these build on."""

from __future__ import annotations

import math

from sbrtmeta.plots.labels import endpoint_name, p_text, p_value

MISSING = "–"


def finite(x) -> bool:
    """Whether ``x`` is a finite number (None, NaN, ±∞ and text are not)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def finite_or_inf(x) -> bool:
    """Whether ``x`` is a number, ±∞ included (None, NaN and text are not)."""
    try:
        return not math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def p_or_dash(p) -> str:
    """``"< 0.001"``, ``"0.042"`` or "–"."""
    return p_value(float(p)) if finite(p) else MISSING


def p_text_or_dash(p) -> str:
    """``"p < 0.001"``, ``"p = 0.042"`` or ``"p –"``."""
    return p_text(float(p)) if finite(p) else f"p {MISSING}"


def number(x, digits: int = 3, large: float = 1e5) -> str:
    """``digits`` decimals, or ``digits`` significant digits when ``|x| >= large`` or below
    ``10**-digits``; "–" when not finite. (The summary's tables switch at 1e5, the
    sensitivity-tests section at 1e4.)"""
    if not finite(x):
        return MISSING
    x = float(x)
    if x != 0 and (abs(x) >= large or abs(x) < 10**-digits):
        return f"{x:.{digits}g}"
    return f"{x:.{digits}f}"


def cell_words(endpoint: str, timepoint) -> str:
    """``"local control at 24 months"``."""
    return f"{endpoint_name(endpoint).lower()} at {float(timepoint):g} months"


def table_cell(text) -> str:
    """A Markdown table cell: empty for None or NaN, no pipes ("/") or newlines (" ")."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return str(text).replace("|", "/").replace("\n", " ")


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table: header, ``---`` rule and one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(table_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
