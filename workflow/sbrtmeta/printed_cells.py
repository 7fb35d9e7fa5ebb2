"""Parsers for the printed cells of an extraction sheet: counts and rates.

Each parser takes the cell exactly as printed and returns a small value object, or
raises :class:`~sbrtmeta.errors.CellParseError`. Empty cells and a printed ``-``
mean "not reported" and parse to an empty value, never to a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import CellParseError

NOT_REPORTED = {"", "-", "–", "—", "NR", "n.r."}

_GROUP = re.compile(r"(?P<label>[^()]*?)\s*\(n\s*=\s*(?P<n>\d+)\)")
_LOWER_BOUND = re.compile(r"^(?:≥|>=)\s*(?P<n>\d+)$")
_RATE = re.compile(
    r"^(?P<pct>\d+(?:\.\d+)?)\s*%\s*\(\s*(?P<t>\d+(?:\.\d+)?)\s*(?P<all>for all)?\s*\)$"
)
_CRUDE_RANGE = re.compile(r"^crude\s+(?P<lo>\d+(?:\.\d+)?)%?\s*-\s*(?P<hi>\d+(?:\.\d+)?)\s*%$")
_FAILED_OF = re.compile(r"^local (?:recurrence|failure)\s+(?P<e>\d+)\s+of\s+(?P<n>\d+)$")

_CRC_WORDS = re.compile(r"\b(crc|colorectal|rectal|colon)\b", re.IGNORECASE)
_MIXED_WORDS = re.compile(r"\b(various|mixed|several)\b", re.IGNORECASE)


def _clean(text: object) -> str:
    return " ".join(str(text).split()) if text is not None else ""


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


def parse_count(printed: object) -> CountCell:
    """Parse a printed patient or lesion count."""
    text = _clean(printed)
    if text in NOT_REPORTED:
        return CountCell(text, None)
    if text.isdigit():
        return CountCell(text, int(text))
    m = _LOWER_BOUND.match(text)
    if m:
        return CountCell(text, None, lower_bound=int(m["n"]))
    groups = {}
    rest = text
    for g in _GROUP.finditer(text):
        label = g["label"].strip(" ,;") or "all"
        groups[label] = int(g["n"])
        rest = rest.replace(g.group(0), "", 1)
    if not groups or rest.strip(" ,;"):
        raise CellParseError(f"cannot read {text!r} as a count (expected e.g. 60, ≥ 65 or CRC (n = 18))")
    return CountCell(text, sum(groups.values()), groups=groups)


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


def parse_rates(printed: object, basis: str = "actuarial") -> list[RateCell]:
    """Parse a printed outcome cell into zero or more :class:`RateCell` values.

    Several values may be separated by ``;``. ``basis`` is the sheet's word for how
    time-point rates were estimated (actuarial or crude).
    """
    text = _clean(printed)
    if text in NOT_REPORTED:
        return []
    out = []
    for part in (p.strip() for p in text.split(";")):
        m = _RATE.match(part)
        if m:
            pct = float(m["pct"])
            if not 0 <= pct <= 100:
                raise CellParseError(f"rate {pct:g}% is outside 0-100 %")
            t = float(m["t"])
            if t <= 0:
                raise CellParseError(f"time point {t:g} months must be positive")
            out.append(RateCell(part, pct, t, basis, for_all=bool(m["all"])))
            continue
        m = _FAILED_OF.match(part)
        if m:
            e, n = int(m["e"]), int(m["n"])
            if n < 1 or e > n:
                raise CellParseError(f"{e} failures of {n} is impossible")
            out.append(RateCell(part, 100.0 * (n - e) / n, None, "crude", events=n - e, n=n))
            continue
        m = _CRUDE_RANGE.match(part)
        if m:
            lo, hi = float(m["lo"]), float(m["hi"])
            if not 0 <= lo <= hi <= 100:
                raise CellParseError(f"crude range {lo:g}-{hi:g}% is outside 0-100 % or backwards")
            out.append(RateCell(part, None, None, "crude",
                                note=f"a range of {lo:g}-{hi:g}% across series, not one rate"))
            continue
        if re.match(r"^-?\d+(?:\.\d+)?\s*%", part):
            pct = float(re.match(r"^-?\d+(?:\.\d+)?", part).group(0))
            if not 0 <= pct <= 100:
                raise CellParseError(f"rate {pct:g}% is outside 0-100 %")
        raise CellParseError(
            f"cannot read {part!r} as a rate (expected e.g. 58% (24), 81% (24 for all), "
            "local recurrence 1 of 7, crude 81%-94%, or - for not reported)")
    return out
