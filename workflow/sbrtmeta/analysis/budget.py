"""The pre-flight budget: what a config would make, estimated before any job runs, against
config ``limits:`` (defaults that fit 2 cores and 8 GB; the schema documents each).

Every estimate is an upper bound from config and the size of the input sheets alone (no job
has run, so the cells are not known): the largest number of studies a cell can hold is the
number of data rows of all sheets (``max_rows``). A config over a limit is refused with one
line naming the key to change, the estimate and the limit (:func:`budget_faults`):

* ``limits.curve_rows``: rows of ``survival_curves.csv``, the month grid (``curves.from``,
  ``to``, ``step``) times the curves (site x histology x endpoint);
* ``limits.gosh_subsets`` and ``limits.gosh_bytes``: the subsets of one GOSH cell (every
  subset up to ``exhaustive_max``, else ``samples``) and the bytes of its table, which the
  gather holds one cell at a time;
* ``limits.multiverse_specs``: the multiverse's specifications, counted without listing them
  (:func:`sbrtmeta.analysis.multiverse_design.specification_count`);
* ``limits.figure_pixels``: the pixels of each figure whose height grows with its studies (forest,
  leave-one-out, cumulative, risk-of-bias traffic light, GOSH panels), each capped by its
  ``max_studies`` (the GOSH plot by ``highlight`` or the studies), at ``figures.dpi``.
"""

from __future__ import annotations

import math

from sbrtmeta.analysis.multiverse_design import specification_count
from sbrtmeta.data.config_source import config_value
from sbrtmeta.data.vocabulary import HISTOLOGIES

# Defaults of config `limits:` (the schema holds the same numbers; these serve a config without them).
LIMITS = dict(
    curve_rows=1_000_000,
    gosh_subsets=4_194_304,
    gosh_bytes=2_000_000_000,
    multiverse_specs=100_000,
    figure_pixels=150_000_000,
)
GOSH_ROW_BYTES = 160  # a subset's row of a part and of gosh_<cell>.csv, besides its 0/1 study columns
# Figure geometry (inches), as the plots lay them out: width, fixed height and height per study row.
PAGE_IN = 17 / 2.54
LABEL_IN = 3.5  # the widest label column (labels are shortened, sbrtmeta.plots.labels.shorten)
FIGURES = {
    # kind: (key of its study cap, height per row, fixed height, extra rows)
    "forest": ("figures.forest.max_studies", 0.18, 2.5, 30),
    "leave-one-out": ("figures.leave_one_out.max_studies", 0.18, 2.0, 10),
    "cumulative": ("sensitivity.cumulative.max_studies", 0.18, 2.0, 4),
    "risk-of-bias traffic light": ("figures.risk_of_bias.max_studies", 0.2, 1.9, 0),
}


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _over(key: str, what: str, estimate: float, unit: str, limit_key: str, limit: float, fix: str) -> tuple[str, str]:
    return key, f"{what} about {_n(estimate)} {unit}, over {limit_key} {_n(limit)}: {fix}"


def curve_grid(curves: dict) -> int:
    """Months of the curves' grid: from, from + step, ..., to."""
    start, stop, step = float(curves.get("from", 6)), float(curves.get("to", 60)), float(curves.get("step", 3))
    return int(math.floor((stop - start) / step + 1e-9)) + 1 if stop >= start and step > 0 else 0


def _curve_faults(config: dict, limits: dict) -> list[tuple[str, str]]:
    curves = config.get("curves") or {}
    start, stop = float(curves.get("from", 6)), float(curves.get("to", 60))
    if start > stop:
        return [("curves.from", f"{start:g} is after curves.to {stop:g}: the grid would be empty")]
    inclusion = config.get("inclusion") or {}
    curves_n = len(inclusion.get("sites", [])) * len(inclusion.get("endpoints", [])) * len(HISTOLOGIES)
    rows = curve_grid(curves) * max(curves_n, 1)
    if rows > limits["curve_rows"]:
        return [
            _over(
                "curves.step",
                f"survival_curves.csv would have {_n(curve_grid(curves))} months x {curves_n} curves =",
                rows,
                "rows",
                "limits.curve_rows",
                limits["curve_rows"],
                "raise curves.step or narrow curves.from..to",
            )
        ]
    return []


def gosh_estimate(gosh: dict, max_studies: int) -> tuple[int, int, str]:
    """``(subsets, bytes, key)`` of the largest GOSH cell of at most ``max_studies`` studies: every
    subset when 2^k - 1 is at most ``exhaustive_max`` or the sample size (as gosh()), else
    ``samples`` subsets; ``key`` the setting that decides it."""
    exhaustive, samples = int(gosh.get("exhaustive_max", 2**20)), int(gosh.get("samples", 10**6))
    most = max(exhaustive, samples)
    k_every = min(int(math.log2(most + 1)), max_studies)  # the largest cell fitted subset by subset
    every = (2**k_every - 1, (2**k_every - 1) * (GOSH_ROW_BYTES + 2 * k_every))
    key = "robustness.gosh.exhaustive_max" if exhaustive >= samples else "robustness.gosh.samples"
    if max_studies <= k_every:  # no cell can be sampled
        return *every, key
    sampled = (samples, samples * (GOSH_ROW_BYTES + 2 * max_studies))
    return (*every, key) if every[1] > sampled[1] else (*sampled, "robustness.gosh.samples")


def _gosh_faults(config: dict, limits: dict, max_studies: int) -> list[tuple[str, str]]:
    gosh = config_value(config, "robustness.gosh") or {}
    if not gosh.get("enabled", True):
        return []
    subsets, size, key = gosh_estimate(gosh, max_studies)
    faults = []
    if subsets > limits["gosh_subsets"]:
        faults.append(
            _over(
                key,
                "a GOSH cell would fit",
                subsets,
                "subsets",
                "limits.gosh_subsets",
                limits["gosh_subsets"],
                f"lower {key}",
            )
        )
    elif size > limits["gosh_bytes"]:
        faults.append(
            _over(
                key,
                f"a GOSH cell of up to {max_studies:,} studies would take {_n(subsets)} subsets of "
                f"{_n(size / max(subsets, 1))} bytes =",
                size,
                "bytes",
                "limits.gosh_bytes",
                limits["gosh_bytes"],
                f"lower {key}",
            )
        )
    return faults


def _multiverse_faults(config: dict, limits: dict) -> list[tuple[str, str]]:
    multiverse = config_value(config, "robustness.multiverse") or {}
    if not multiverse.get("enabled", True) or "inclusion" not in multiverse:
        return []
    count = specification_count(multiverse)
    max_specs = int(multiverse.get("max_specs", 0))
    fitted = min(count, max_specs) if max_specs > 0 else count
    if fitted > limits["multiverse_specs"]:
        return [
            _over(
                "robustness.multiverse.max_specs",
                f"the multiverse would fit {_n(fitted)} of its {_n(count)} specifications:",
                fitted,
                "specifications",
                "limits.multiverse_specs",
                limits["multiverse_specs"],
                "set robustness.multiverse.max_specs to sample fewer, or list fewer alternatives",
            )
        ]
    return []


def figure_rows(config: dict, max_studies: int) -> dict[str, tuple[str, int]]:
    """Per figure kind with a study axis: ``(the key that caps it, its most rows)``."""
    out = {}
    sites = len(config_value(config, "inclusion.sites", []) or [])
    for kind, (key, _, _, extra) in FIGURES.items():
        cap = config_value(config, key, None)
        rows = min(int(cap), max_studies) if cap is not None else max_studies
        out[kind] = (key, rows + extra + (3 * sites if kind == "forest" else 0))
    gosh = config_value(config, "robustness.gosh") or {}
    if gosh.get("enabled", True):
        panels = 1 + (len(gosh.get("highlight") or []) or max_studies)
        out["GOSH"] = ("robustness.gosh.highlight", -(-panels // 4))
    return out


def figure_pixels(kind: str, rows: int, dpi: int) -> float:
    """Pixels of one figure of ``kind`` with ``rows`` rows (GOSH: rows of 4 panels) at ``dpi``."""
    if kind == "GOSH":
        height = 0.95 + 1.7 * rows
        width = PAGE_IN
    else:
        _, row_in, fixed_in, _ = FIGURES[kind]
        height = fixed_in + row_in * rows
        width = PAGE_IN + LABEL_IN
    return width * dpi * height * dpi


def _figure_faults(config: dict, limits: dict, max_studies: int) -> list[tuple[str, str]]:
    dpi = int(config_value(config, "figures.dpi", 200))
    faults = []
    for kind, (key, rows) in figure_rows(config, max_studies).items():
        pixels = figure_pixels(kind, rows, dpi)
        if pixels > limits["figure_pixels"]:
            faults.append(
                _over(
                    key,
                    f"a {kind} figure of {rows:,} rows at {dpi} dpi would have",
                    pixels,
                    "pixels",
                    "limits.figure_pixels",
                    limits["figure_pixels"],
                    f"lower {key} or figures.dpi",
                )
            )
    return faults


def budget_faults(config: dict, max_studies: int) -> list[tuple[str, str]]:
    """``(key, message)`` for every estimate of ``config`` over its ``limits`` (:data:`LIMITS` where
    unset); ``max_studies``: the most studies a cell can have (the data rows of all sheets)."""
    limits = {**LIMITS, **(config.get("limits") or {})}
    return [
        *_curve_faults(config, limits),
        *_gosh_faults(config, limits, max_studies),
        *_multiverse_faults(config, limits),
        *_figure_faults(config, limits, max_studies),
    ]
