"""Printed SBRT dose strings → regimens → biologically effective dose.

A printed dose cell names one or more regimens, each a total dose in Gy over a
number of fractions, either of which may be a range:

    ``14-26/1``, ``28-30/3-4``, ``36-37.5/3 or 26/1``, ``48/4, 52-60/4 or 50/5``,
    ``27.7-60/6 (median: 41.8)``, ``50/5f preferred``,
    ``36-51 Gy in 3 fractions``, ``median total dose of 39 (range, 30-51) Gy in 3 fractions``.

Doses follow the linear-quadratic model (Fowler, Br J Radiol 1989;62:679):
``BED = n·d·(1 + d/(α/β))`` with d = total/n, and ``EQD2 = BED / (1 + 2/(α/β))``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import CellParseError

_NUM = r"\d+(?:\.\d+)?"
_RANGE = rf"(?P<lo>{_NUM})(?:\s*-\s*(?P<hi>{_NUM}))?"
_SLASH = re.compile(
    rf"^(?P<dlo>{_NUM})(?:\s*-\s*(?P<dhi>{_NUM}))?\s*/\s*(?P<flo>\d+)(?:\s*-\s*(?P<fhi>\d+))?\s*f?"
    r"(?P<pref>\s+preferred)?$"
)
_PROSE = re.compile(
    rf"^(?P<median>median\s+(?:total\s+dose\s+of\s+)?)?(?P<dlo>{_NUM})(?:\s*-\s*(?P<dhi>{_NUM}))?"
    rf"(?:\s*\(range,?\s*(?P<rlo>{_NUM})\s*-\s*(?P<rhi>{_NUM})\))?\s*Gy\s+in\s+"
    r"(?P<flo>\d+)(?:\s*-\s*(?P<fhi>\d+))?\s+fractions?$",
    re.IGNORECASE,
)
_MEDIAN_SUFFIX = re.compile(rf"\s*\(median:\s*(?P<median>{_NUM})\)\s*$")


@dataclass(frozen=True)
class Regimen:
    """One regimen: total dose (Gy) and fraction count, each possibly a range."""

    total_lo: float
    total_hi: float
    fractions_lo: int
    fractions_hi: int

    def bed_range(self, alpha_beta: float) -> tuple[float, float]:
        """Lowest and highest BED the regimen allows (Gy)."""
        return (bed(self.total_lo, self.fractions_hi, alpha_beta),
                bed(self.total_hi, self.fractions_lo, alpha_beta))


@dataclass(frozen=True)
class DoseSpec:
    """A parsed dose cell: its regimens and, if printed, the median total dose."""

    printed: str
    regimens: tuple[Regimen, ...]
    median_total: float | None = None

    def summary(self, alpha_beta: float = 10.0) -> "DoseSummary":
        """One dose for the arm: the printed median, else the single regimen, else the
        midpoint of the BED range over all regimens."""
        fx = {(r.fractions_lo, r.fractions_hi) for r in self.regimens}
        fixed_fx = next(iter(fx))[0] if len(fx) == 1 and next(iter(fx))[0] == next(iter(fx))[1] else None
        if self.median_total is not None and fixed_fx is not None:
            return DoseSummary(self.median_total, fixed_fx,
                               bed(self.median_total, fixed_fx, alpha_beta), "printed median")
        if len(self.regimens) == 1:
            r = self.regimens[0]
            if r.total_lo == r.total_hi and r.fractions_lo == r.fractions_hi:
                return DoseSummary(r.total_lo, r.fractions_lo,
                                   bed(r.total_lo, r.fractions_lo, alpha_beta), "single regimen")
        lows, highs = zip(*(r.bed_range(alpha_beta) for r in self.regimens))
        return DoseSummary(None, fixed_fx, (min(lows) + max(highs)) / 2, "midpoint of BED range")


@dataclass(frozen=True)
class DoseSummary:
    """The one dose used for an arm, and the rule that gave it."""

    total_dose_gy: float | None
    fractions: int | None
    bed: float
    rule: str


def bed(total_gy: float, fractions: int, alpha_beta: float = 10.0) -> float:
    """Biologically effective dose (Gy) of ``total_gy`` in ``fractions`` fractions."""
    if fractions < 1 or total_gy < 0 or alpha_beta <= 0:
        raise ValueError("BED needs fractions >= 1, total >= 0 and alpha/beta > 0")
    return total_gy * (1.0 + total_gy / fractions / alpha_beta)


def eqd2(total_gy: float, fractions: int, alpha_beta: float = 10.0) -> float:
    """Equivalent dose in 2-Gy fractions (Gy)."""
    return bed(total_gy, fractions, alpha_beta) / (1.0 + 2.0 / alpha_beta)


def _regimen(dlo: str, dhi: str | None, flo: str, fhi: str | None, printed: str) -> Regimen:
    r = Regimen(float(dlo), float(dhi or dlo), int(flo), int(fhi or flo))
    if r.total_hi < r.total_lo or r.fractions_hi < r.fractions_lo:
        raise CellParseError(f"dose range runs backwards in {printed!r}")
    if r.fractions_lo < 1 or r.total_lo <= 0:
        raise CellParseError(f"dose needs a positive total and at least 1 fraction in {printed!r}")
    return r


def parse_dose(printed: str) -> DoseSpec:
    """Parse a printed dose cell; raise :class:`CellParseError` if it does not parse."""
    text = " ".join(str(printed).split())
    if not text:
        raise CellParseError("dose cell is empty")
    m = _PROSE.match(text)
    if m:
        reg = _regimen(m["rlo"] or m["dlo"], m["rhi"] or m["dhi"], m["flo"], m["fhi"], text)
        median = float(m["dlo"]) if m["median"] and not m["dhi"] else None
        return DoseSpec(text, (reg,), median)
    median = None
    ms = _MEDIAN_SUFFIX.search(text)
    if ms:
        median = float(ms["median"])
        text_body = text[: ms.start()]
    else:
        text_body = text
    regimens = []
    for part in re.split(r"\s*,\s*|\s+or\s+", text_body):
        mm = _SLASH.match(part)
        if not mm:
            raise CellParseError(f"dose {printed!r}: cannot read {part!r} as total/fractions")
        regimens.append(_regimen(mm["dlo"], mm["dhi"], mm["flo"], mm["fhi"], text))
    return DoseSpec(text, tuple(regimens), median)
