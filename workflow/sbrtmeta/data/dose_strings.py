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

from sbrtmeta.data.errors import CellParseError

_NUM = r"\d+(?:\.\d+)?"
_RANGE = rf"(?P<lo>{_NUM})(?:\s*-\s*(?P<hi>{_NUM}))?"
_SLASH = re.compile(
    rf"^(?P<dlo>{_NUM})(?:\s*-\s*(?P<dhi>{_NUM}))?\s*/\s*(?P<flo>\d+)(?:\s*-\s*(?P<fhi>\d+))?\s*f?"
    r"(?P<pref>\s+preferred)?$"
)
_PROSE = re.compile(
    rf"^(?P<median>median\s+(?:total\s+dose\s+of\s+)?)?(?P<dlo>{_NUM})(?:\s*-\s*(?P<dhi>{_NUM}))?"
    rf"(?:\s*\((?:range,?\s*)?(?P<rlo>{_NUM})\s*-\s*(?P<rhi>{_NUM})\))?"
    rf"(?:\s*\(median\s+(?P<med2>{_NUM})\))?\s*Gy"
    rf"(?:\s*\((?P<rlo2>{_NUM})\s*-\s*(?P<rhi2>{_NUM})\))?(?:\s*\(median\s+(?P<med3>{_NUM})\))?\s+in\s+"
    rf"(?:(?P<dpf>{_NUM})\s*Gy\s+fractions|(?P<flo>\d+)(?:\s*-\s*(?P<fhi>\d+))?\s+fractions?)$",
    re.IGNORECASE,
)
# Words around a dose that qualify it without changing it.
_PREFIX = re.compile(r"^(?:risk-adapted:|curative|palliative)\s*", re.IGNORECASE)
_SUFFIX = re.compile(
    r"\s*(?:\((?:Gy/fractions|escalated|[\d.]+\s*-\s*[\d.]+\s*Gy per fraction)\)|"
    r"\bpreferred|\bfor most)$",
    re.IGNORECASE,
)
_RANGE_SUFFIX = re.compile(
    rf"\s*\((?P<dlo>{_NUM})\s*-\s*(?P<dhi>{_NUM})\s*Gy,\s*(?P<flo>\d+)\s*-\s*(?P<fhi>\d+)"
    r"\s*fractions\)$",
    re.IGNORECASE,
)
_TOTAL_ONLY = re.compile(rf"^(?P<median>median\s+)?(?P<total>{_NUM})\s*Gy$", re.IGNORECASE)
_NOT_REPORTED = re.compile(r"\bnot reported\b", re.IGNORECASE)
DOSE_RULES = ("median_or_midpoint", "minimum", "maximum", "exclude_ranges")
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
        return (bed(self.total_lo, self.fractions_hi, alpha_beta), bed(self.total_hi, self.fractions_lo, alpha_beta))


@dataclass(frozen=True)
class DoseSpec:
    """A parsed dose cell: its regimens and, if printed, the median total dose."""

    printed: str
    regimens: tuple[Regimen, ...]
    median_total: float | None = None
    notes: tuple[str, ...] = ()
    median_fractions: int | None = None

    def summary(self, alpha_beta: float = 10.0, rule: str = "median_or_midpoint") -> DoseSummary:
        """One dose for the arm, by ``rule`` (see ``DOSE_RULES``).

        ``median_or_midpoint``: the printed median, else the single regimen, else the
        midpoint of the BED range over all regimens; ``minimum`` / ``maximum``: the
        lowest / highest BED the regimens allow; ``exclude_ranges``: no dose for an
        arm whose dose is a range or a choice of regimens. Without fractions there is
        no BED.
        """
        if rule not in DOSE_RULES:
            raise ValueError(f"dose rule {rule!r} is not one of {DOSE_RULES}")
        if not self.regimens:
            return DoseSummary(self.median_total, None, float("nan"), "fractions not reported")
        r0 = self.regimens[0]
        exact = len(self.regimens) == 1 and r0.total_lo == r0.total_hi and r0.fractions_lo == r0.fractions_hi
        lows, highs = zip(*(r.bed_range(alpha_beta) for r in self.regimens))
        fx = {(r.fractions_lo, r.fractions_hi) for r in self.regimens}
        fixed_fx = next(iter(fx))[0] if len(fx) == 1 and next(iter(fx))[0] == next(iter(fx))[1] else None
        if rule == "median_or_midpoint" and self.median_total is not None:
            median_fx = self.median_fractions if self.median_fractions is not None else fixed_fx
            if median_fx is not None:
                return DoseSummary(
                    self.median_total, median_fx, bed(self.median_total, median_fx, alpha_beta), "printed median"
                )
        if exact:
            return DoseSummary(
                r0.total_lo, r0.fractions_lo, bed(r0.total_lo, r0.fractions_lo, alpha_beta), "single regimen"
            )
        if rule == "minimum":
            return DoseSummary(None, None, min(lows), "minimum of BED range")
        if rule == "maximum":
            return DoseSummary(None, None, max(highs), "maximum of BED range")
        if rule == "exclude_ranges":
            return DoseSummary(None, None, float("nan"), "excluded: dose printed as a range")
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


def _dose_text(printed: str) -> str:
    """The cell with its spaces normalised; refuses an empty cell and absurdly long numbers."""
    text = " ".join(str(printed).split())
    if not text:
        raise CellParseError("dose cell is empty")
    if re.search(r"\d{100}", text):  # int() refuses 4300+ digits; float() overflows to inf
        raise CellParseError(f"dose {text[:40]!r}...: a number of 100 or more digits")
    return text


def _dose_body(main: str):
    """``(body, range)``: the dose part without prefix and suffixes, and a bracketed range after it (or None)."""
    body = _PREFIX.sub("", main)
    extra = _RANGE_SUFFIX.search(body)
    if extra:
        body = body[: extra.start()]
    while True:
        stripped = _SUFFIX.sub("", body)
        if stripped == body:
            return body, extra
        body = stripped


def _prose_spec(m, extra, printed: str, text: str, notes: tuple) -> DoseSpec:
    """A dose in words: ``50 Gy in 5 fractions``, ``60 Gy at 12 Gy per fraction``, ``median 40 Gy ...``."""
    if m["dpf"]:
        total, per = float(m["dlo"]), float(m["dpf"])
        if m["dhi"] or per <= 0 or abs(total / per - round(total / per)) > 1e-9:
            raise CellParseError(f"dose {printed!r}: {total:g} Gy is not a whole number of {per:g}-Gy fractions")
        reg = _regimen(m["dlo"], None, str(round(total / per)), None, text)
        return DoseSpec(text, (reg,), None, notes)
    med = m["med2"] or m["med3"]
    median = float(med) if med else (float(m["dlo"]) if m["median"] and not m["dhi"] else None)
    median_fx = int(m["flo"]) if median is not None and not m["fhi"] else None
    if extra:  # "median 40 Gy in 5 fractions (30-60 Gy, 3-10 fractions)": the range is the regimen
        reg = _regimen(extra["dlo"], extra["dhi"], extra["flo"], extra["fhi"], text)
    else:
        reg = _regimen(m["rlo"] or m["rlo2"] or m["dlo"], m["rhi"] or m["rhi2"] or m["dhi"], m["flo"], m["fhi"], text)
    return DoseSpec(text, (reg,), median, notes, median_fx)


def _slash_spec(body: str, printed: str, text: str, notes: tuple) -> DoseSpec:
    """Regimens as total/fractions separated by ``,`` or ``or``, optionally followed by a median."""
    median = None
    ms = _MEDIAN_SUFFIX.search(body)
    if ms:
        median = float(ms["median"])
        body = body[: ms.start()]
    regimens = []
    for part in re.split(r"\s*,\s*|\s+or\s+", body):
        mm = _SLASH.match(part)
        if not mm:
            raise CellParseError(f"dose {printed!r}: cannot read {part!r} as total/fractions")
        regimens.append(_regimen(mm["dlo"], mm["dhi"], mm["flo"], mm["fhi"], text))
    return DoseSpec(text, tuple(regimens), median, notes)


def parse_dose(printed: str) -> DoseSpec | None:
    """Parse a printed dose cell; ``None`` when the cell says the dose is not reported.

    Raises :class:`CellParseError` when the cell does not parse. Parts after a ``;``
    are notes (``8 single fraction``); a part saying ``fractions not reported``
    leaves the total dose, if one is printed, and no BED.
    """
    text = _dose_text(printed)
    if text.lower() == "not reported":
        return None
    main, *rest = [part.strip() for part in text.split(";")]
    notes = tuple(rest)
    if any(_NOT_REPORTED.search(part) for part in rest):
        m = _TOTAL_ONLY.match(main)
        total = float(m["total"]) if m else None
        return DoseSpec(text, (), total, notes if m else (main, *notes))
    body, extra = _dose_body(main)
    m = _PROSE.match(body)
    if m:
        return _prose_spec(m, extra, printed, text, notes)
    return _slash_spec(body, printed, text, notes)
