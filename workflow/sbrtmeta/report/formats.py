"""The one home of how the report's Markdown writers format a number, a p-value, a cell's
name and a table. Missing or non-finite values print as "–"; figures and rules take their
words and formats from :mod:`sbrtmeta.plots.labels`, which these build on."""

from __future__ import annotations

import math
import re

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
    """``"< .001"``, ``".042"`` (APA style) or "–"."""
    return p_value(float(p)) if finite(p) else MISSING


def p_text_or_dash(p) -> str:
    """``"p < .001"``, ``"p = .042"`` or ``"p –"``."""
    return p_text(float(p)) if finite(p) else f"p {MISSING}"


def plain(x: float, digits: int = 2) -> str:
    """``x`` with ``digits`` significant digits in plain decimals, never in scientific notation:
    ``"0.000083"``, ``"5.6"``; whole numbers from ``10**digits`` up (``"377468"``)."""
    x = float(x)
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{decimals}f}"


def number(x, digits: int = 3, large: float = 1e5) -> str:
    """``digits`` decimals; a whole number when ``|x| >= large``, ``digits`` significant digits below
    ``10**-digits`` (:func:`plain`: never scientific notation); "–" when not finite. (The summary's
    tables switch at 1e5, the sensitivity-tests section at 1e4.)"""
    if not finite(x):
        return MISSING
    x = float(x)
    if x != 0 and abs(x) >= large:
        return f"{x:.0f}"
    if x != 0 and abs(x) < 10**-digits:
        return plain(x, digits)
    return f"{x:.{digits}f}"


def spans_orders(low, high, orders: int = 3) -> bool:
    """Whether the positive interval ``low``–``high`` spans more than ``orders`` orders of magnitude (an
    unbounded upper limit does): then it is reported as not estimable."""
    return finite(low) and float(low) > 0 and finite_or_inf(high) and float(high) > float(low) * 10**orders


SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?[eE][+-]?\d+)(?![\w.])")


def plain_numbers(text: str) -> str:
    """``text`` with every number in scientific notation (``"2e+07"``, as a table's note may print it) in
    plain digits (``"20000000"``), its significant digits kept."""

    def _plain(match: re.Match) -> str:
        mantissa = match.group(1).lower().split("e")[0]
        return plain(float(match.group(1)), max(1, len(mantissa.replace(".", "").lstrip("0"))))

    return SCIENTIFIC.sub(_plain, text)


P_DECIMAL = re.compile(r"(?<![\w.])p = ([01]\.\d+)(?![\d.])")


def apa_p_values(text: str) -> str:
    """``text`` with every ``"p = 0.062"`` (a table's reason prints its p-values so) in APA style
    (:func:`sbrtmeta.plots.labels.p_text`): ``"p = .062"``, ``"p < .001"`` for ``"p = 0.000"``."""
    return P_DECIMAL.sub(lambda match: p_text(float(match.group(1))), text)


def cell_words(endpoint: str, timepoint) -> str:
    """``"local control at 24 months"``."""
    return f"{endpoint_name(endpoint).lower()} at {float(timepoint):g} months"


def table_cell(text) -> str:
    """A Markdown table cell: empty for None or NaN, no pipes ("/") or newlines (" "), no scientific
    notation (:func:`plain_numbers`)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return plain_numbers(str(text).replace("|", "/").replace("\n", " "))


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table: header, ``---`` rule and one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(table_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
