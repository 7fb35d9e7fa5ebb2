"""Parsers for the printed cells of an extraction sheet: counts and rates.

Each parser takes the cell exactly as printed and returns a small value object, or
raises :class:`~sbrtmeta.data.errors.CellParseError`. Empty cells and a printed ``-``
mean "not reported" and parse to an empty value, never to a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sbrtmeta.data.errors import CellParseError

NOT_REPORTED = {
    "",
    "-",
    "–",
    "—",
    "NR",
    "n.r.",
    "not reported",
    "not found",
    "not reported as a rate",
    "hazard ratios only",
}
_NO_RATE = re.compile(r"^(?:median [\d.]+ (?:y|years|mo|months)); no rate$")
_UNUSABLE = re.compile(r"\bdo not use\b", re.IGNORECASE)

_GROUP = re.compile(r"(?P<label>[^()]*?)\s*\(n\s*=\s*(?P<n>\d+)\)")
_LOWER_BOUND = re.compile(r"^(?:≥|>=)\s*(?P<n>\d+)$")
# "15 treated with SBRT (52 reviewed)", "136 (135 evaluable)", "233 courses": a count and what it counts
_QUALIFIED = re.compile(r"^(?P<n>\d+)\s+(?P<what>(?:\(|[a-z]).*)$")
_RATE = re.compile(r"^(?P<pct>\d+(?:\.\d+)?)\s*%\s*\(\s*(?P<t>\d+(?:\.\d+)?)\s*(?P<all>for all)?\s*\)$")
_CRUDE_RANGE = re.compile(r"^crude\s+(?P<lo>\d+(?:\.\d+)?)%?\s*-\s*(?P<hi>\d+(?:\.\d+)?)\s*%$")
_FAILED_OF = re.compile(
    r"^(?:review text:\s*)?local (?:recurrence|failure)\s+(?:in\s+)?(?P<e>\d+)\s+of\s+(?P<n>\d+)(?:\s*\(crude\))?$"
)
# "82% at 36 mo", "85.9% at 24 mo (per lesion)", "50% at 60 mo from start of SBRT", "90% at 12 and 24 mo (...)"
_RATE_AT = re.compile(
    r"^(?P<pct>\d+(?:\.\d+)?)\s*%\s+at\s+(?P<t>\d+(?:\.\d+)?)(?:\s+and\s+(?P<t2>\d+(?:\.\d+)?))?"
    r"\s*mo(?:nths)?\b(?P<rest>.*)$"
)
# "crude: 6 of 117 lesions failed", "crude: local progression after 19 of 233 courses",
# "crude, response-based (CR+PR+SD): 119 of 135"
_CRUDE_FAILED = re.compile(r"^crude:\s*(?P<e>\d+)\s+of\s+(?P<n>\d+)\s+\w+\s+failed$")
_CRUDE_PROGRESSED = re.compile(r"^crude:\s*local progression after\s+(?P<e>\d+)\s+of\s+(?P<n>\d+)\s+\w+$")
_CRUDE_CONTROLLED = re.compile(r"^crude,\s*(?P<what>[^:]+):\s*(?P<x>\d+)\s+of\s+(?P<n>\d+)$")

_CRC_WORDS = re.compile(r"\b(crc|colorectal|rectal|colon)\b", re.IGNORECASE)
_SARCOMA_WORDS = re.compile(r"sarcoma", re.IGNORECASE)
_MIXED_WORDS = re.compile(r"\b(various|mixed|several)\b", re.IGNORECASE)


# A run of digits longer than any printed count or rate: int() refuses 4300+ digits
# and float() overflows, so such a cell is refused here with the parsers' own error.
_TOO_LONG = re.compile(r"\d{100}")


def _clean(text: object) -> str:
    text = " ".join(str(text).split()) if text is not None else ""
    if _TOO_LONG.search(text):
        raise CellParseError(f"cannot read {text[:40]!r}...: a number of 100 or more digits")
    return text


# Every count up to 2^53 is exact as a float (the pooling computes in floats).
MAX_COUNT = 2**53
# No time point or follow-up is longer than this many months (the tidy sheets' limit for numbers).
MAX_MONTHS = 1e15


def _count(digits: str) -> int:
    n = int(digits)
    if n > MAX_COUNT:
        raise CellParseError(f"count {digits} is too large: counts must be at most 2^53 ({MAX_COUNT})")
    return n


@dataclass(frozen=True)
class CountCell:
    """A printed count such as ``60``, ``≥ 65`` or ``CRC (n = 18) others (n = 14)``.

    ``total`` is the exact count, or None when the cell is empty, ``-`` or only a
    lower bound (``lower_bound`` then holds it). ``groups`` keeps the labelled parts.
    """

    printed: str
    total: int | None
    lower_bound: int | None = None
    groups: dict[str, int] = field(default_factory=dict)
    qualifier: str = ""


def parse_count(printed: object) -> CountCell:
    """Parse a printed patient or lesion count."""
    text = _clean(printed)
    if text in NOT_REPORTED:
        return CountCell(text, None)
    if text.isdecimal():  # not isdigit(): int() refuses '²'
        return CountCell(text, _count(text))
    m = _QUALIFIED.match(text)
    if m and "(n =" not in text:
        return CountCell(text, _count(m["n"]), qualifier=m["what"])
    m = _LOWER_BOUND.match(text)
    if m:
        return CountCell(text, None, lower_bound=_count(m["n"]))
    groups = {}
    rest = text
    for g in _GROUP.finditer(text):
        label = g["label"].strip(" ,;") or "all"
        groups[label] = _count(g["n"])
        rest = rest.replace(g.group(0), "", 1)
    if not groups or rest.strip(" ,;"):
        raise CellParseError(f"cannot read {text!r} as a count (expected e.g. 60, ≥ 65 or CRC (n = 18))")
    return CountCell(text, _count(str(sum(groups.values()))), groups=groups)


def primary_of_groups(labels) -> str:
    """Primary histology of a study from its labelled groups: crc, mixed or other."""
    kinds = {"crc" if _CRC_WORDS.search(lab) else "other" for lab in labels}
    if any(_CRC_WORDS.search(lab) and "," in lab for lab in labels):
        kinds.add("other")  # e.g. "CRC, HCC": CRC pooled with another primary
    return "mixed" if len(kinds) > 1 else kinds.pop()


def parse_primary(printed: object) -> str:
    """Primary histology from a free-text cell such as ``recurrent rectal cancer``."""
    text = _clean(printed)
    if not text:
        return "unspecified"
    if _MIXED_WORDS.search(text):
        return "mixed"
    if _CRC_WORDS.search(text):
        return "crc"
    if _SARCOMA_WORDS.search(text):
        return "sarcoma"
    raise CellParseError(f"cannot tell the primary histology from {text!r}")


@dataclass(frozen=True)
class RateCell:
    """One printed outcome: a rate in % with its time point, or a crude count.

    ``timepoint_months`` is None for crude rates; ``for_all`` marks a value the
    table prints once for all arms of a study (``81% (24 for all)``). ``rate_pct``
    is None when the source gives no single rate (a range across series).
    """

    printed: str
    rate_pct: float | None
    timepoint_months: float | None
    basis: str
    for_all: bool = False
    events: int | None = None
    n: int | None = None
    note: str = ""


def _check_pct(pct: float) -> float:
    if not 0 <= pct <= 100:
        raise CellParseError(f"rate {pct:g}% is outside 0-100 %")
    return pct


def _check_months(t: float) -> float:
    if t <= 0:
        raise CellParseError(f"time point {t:g} months must be positive")
    if t > MAX_MONTHS:
        raise CellParseError(f"time point {t:g} months is too large: numbers must be at most 1e15 in size")
    return t


def _rate_in_brackets(part: str, basis: str) -> list[RateCell] | None:
    """``58% (24)`` or ``81% (24 for all)``: a rate at a time point in months."""
    m = _RATE.match(part)
    if not m:
        return None
    pct = _check_pct(float(m["pct"]))
    t = _check_months(float(m["t"]))
    return [RateCell(part, pct, t, basis, for_all=bool(m["all"]))]


def _rate_at(part: str, basis: str) -> list[RateCell] | None:
    """``82% at 36 mo (per lesion)`` or ``90% at 12 and 24 mo``: one cell per time point."""
    m = _RATE_AT.match(part)
    if not m:
        return None
    pct = _check_pct(float(m["pct"]))
    rest = m["rest"].strip()
    times = [_check_months(float(t)) for t in (m["t"], m["t2"]) if t is not None]
    return [RateCell(part, pct, t, basis, note=rest.strip("() ")) for t in times]


def _crude_failures(part: str, basis: str) -> list[RateCell] | None:
    """``local recurrence 1 of 7`` and the other ways of printing failures of n: a crude control rate."""
    m = _FAILED_OF.match(part) or _CRUDE_FAILED.match(part) or _CRUDE_PROGRESSED.match(part)
    if not m:
        return None
    e, n = _count(m["e"]), _count(m["n"])
    if n < 1 or e > n:
        raise CellParseError(f"{e} failures of {n} is impossible")
    return [RateCell(part, 100.0 * (n - e) / n, None, "crude", events=n - e, n=n)]


def _crude_controlled(part: str, basis: str) -> list[RateCell] | None:
    """``crude, response-based (CR+PR+SD): 119 of 135``: controlled of n."""
    m = _CRUDE_CONTROLLED.match(part)
    if not m:
        return None
    x, n = _count(m["x"]), _count(m["n"])
    if n < 1 or x > n:
        raise CellParseError(f"{x} of {n} is impossible")
    return [RateCell(part, 100.0 * x / n, None, "crude", events=x, n=n, note=m["what"].strip())]


def _crude_range(part: str, basis: str) -> list[RateCell] | None:
    """``crude 81%-94%``: a range across series, kept with no single rate."""
    m = _CRUDE_RANGE.match(part)
    if not m:
        return None
    lo, hi = float(m["lo"]), float(m["hi"])
    if not 0 <= lo <= hi <= 100:
        raise CellParseError(f"crude range {lo:g}-{hi:g}% is outside 0-100 % or backwards")
    return [RateCell(part, None, None, "crude", note=f"a range of {lo:g}-{hi:g}% across series, not one rate")]


_RATE_FORMS = (_rate_in_brackets, _rate_at, _crude_failures, _crude_controlled, _crude_range)


def _rate_part(part: str, basis: str) -> list[RateCell]:
    """The cells of one ``;``-separated part, read by the first form that matches it."""
    for form in _RATE_FORMS:
        cells = form(part, basis)
        if cells is not None:
            return cells
    if re.match(r"^-?\d+(?:\.\d+)?\s*%", part):
        _check_pct(float(re.match(r"^-?\d+(?:\.\d+)?", part).group(0)))
    raise CellParseError(
        f"cannot read {part!r} as a rate (expected e.g. 58% (24), 81% (24 for all), "
        "local recurrence 1 of 7, crude 81%-94%, or - for not reported)"
    )


def parse_rates(printed: object, basis: str = "actuarial") -> list[RateCell]:
    """Parse a printed outcome cell into zero or more :class:`RateCell` values.

    Several values may be separated by ``;``. ``basis`` is the sheet's word for how
    time-point rates were estimated (actuarial or crude).
    """
    text = _clean(printed)
    if text in NOT_REPORTED or _NO_RATE.match(text):
        return []
    if _UNUSABLE.search(text):
        return [RateCell(text, None, None, basis, note=f"marked unusable in the source: {text}")]
    return [cell for part in (p.strip() for p in text.split(";")) for cell in _rate_part(part, basis)]


_FOLLOW_UP = re.compile(r"^(?P<x>\d+(?:\.\d+)?)\s*(?P<unit>y|years?|mo|months?)?(?:\s*\(.*\))?$", re.IGNORECASE)


def parse_follow_up(printed: object) -> float | None:
    """Median follow-up in months from ``16``, ``21.8``, ``16.2 (3-63)`` or ``0.9 y (...)``;
    None when it is not reported or marked unusable."""
    text = _clean(printed)
    if text in NOT_REPORTED or text.lower().startswith("not "):
        return None
    m = _FOLLOW_UP.match(text)
    if not m:
        raise CellParseError(f"cannot read {text!r} as a median follow-up (e.g. 16, 16.2 (3-63), 0.9 y)")
    x = float(m["x"])
    if x > MAX_MONTHS:
        raise CellParseError(f"median follow-up {x:g} is too large: numbers must be at most 1e15 in size")
    return 12.0 * x if (m["unit"] or "").lower().startswith("y") else x
