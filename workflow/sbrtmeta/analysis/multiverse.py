"""The multiverse: every cell pooled under every combination of defensible choices.

A specification is one choice per dimension (Voracek, Kossmeier, Tran, Z Psychol
2019;227:64-82; Steegen et al., Perspect Psychol Sci 2016;11:702-712):

* inclusion: ``min_n``, the time-point tolerance, crude proportions (left out, or pooled
  at the median follow-up), mixed primaries (in or out), overlapping cohorts (the later
  report only, or every report);
* pooling: the histology grouping, the transform, the model (inverse-variance random
  effects or the binomial-normal GLMM, which pools logits and has its own τ² and Wald CI),
  the τ² estimator and the CI method.

The inclusion of a specification is :func:`sbrtmeta.data.inclusion.apply_inclusion` run on
the config's criteria with those choices; its cells are grouped as
:func:`sbrtmeta.analysis.pooling.pool_cells` groups them and fitted on the batch engine
(:func:`sbrtmeta.stats.random_effects.fit_random_effects_batch`, the GLMM by
:func:`sbrtmeta.stats.glmm.fit_glmm_logit`), so the specification that equals the main
analysis reproduces ``pooled.csv``. Specifications are the full factorial (GLMM
combinations kept once, with PLO) in a fixed order, or a seeded sample of it; they are
fitted in blocks of :data:`BLOCK` (within a block, one batch per transform, τ² estimator and CI
method), and shard s of S takes blocks [⌊sB/S⌋, ⌊(s+1)B/S⌋),
so the gathered table is the same bytes whatever the number of shards. The gather and its
summaries are :mod:`sbrtmeta.analysis.multiverse_summary` (no statistics imported: the gather job
reads and summarises tables).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.analysis.multiverse_design import (
    CHOICES,
    INCLUSION_CHOICES,
    inclusion_criteria,
    model_block,
    outer_levels,
    specification_count,
)
from sbrtmeta.analysis.multiverse_summary import COLUMNS, RESULT_COLUMNS
from sbrtmeta.analysis.pooling import _histology_groups
from sbrtmeta.data.cells import CELL, TARGET_CELL, cell_place
from sbrtmeta.data.inclusion import apply_inclusion
from sbrtmeta.stats.effect_sizes import inverse_transform, proportion_effect_sizes
from sbrtmeta.stats.glmm import fit_glmm_logit
from sbrtmeta.stats.inference import critical_value
from sbrtmeta.stats.random_effects import fit_random_effects_batch

BLOCK = 400  # specifications fitted together (one batch per transform × τ² × CI method)


def _unrank(index: np.ndarray, outer: list[list], block: list[tuple]) -> pd.DataFrame:
    """The specifications at positions ``index`` of the factorial order (the last choice fastest)."""
    index = np.asarray(index, dtype=object)  # Python ints: a factorial may pass 2^63
    inner = [int(i) % len(block) for i in index]
    rest = [int(i) // len(block) for i in index]
    columns: dict = {}
    for name, levels in reversed(list(zip(CHOICES[: len(outer)], outer))):
        columns[name] = [levels[r % len(levels)] for r in rest]
        rest = [r // len(levels) for r in rest]
    for j, name in enumerate(CHOICES[len(outer) :]):
        columns[name] = [block[i][j] for i in inner]
    return pd.DataFrame({c: columns[c] for c in CHOICES}, columns=list(CHOICES))


def specifications(multiverse: dict, seed: int) -> pd.DataFrame:
    """The specifications, one row each (``spec`` numbered from 0): the full factorial of
    ``multiverse["inclusion"]`` and ``multiverse["pooling"]`` in the order of
    :data:`CHOICES` (the last varying fastest), a GLMM kept once per other choice with
    PLO; or, with ``max_specs`` > 0 and fewer than the factorial, a seeded sample of it
    (in factorial order), drawn by position: the factorial is never listed whole."""
    outer, block = outer_levels(multiverse), model_block(multiverse)
    count = specification_count(multiverse)
    max_specs = int(multiverse.get("max_specs", 0))
    if 0 < max_specs < count:
        keep = np.sort(np.random.default_rng(int(seed)).choice(count, max_specs, replace=False))
    else:
        keep = np.arange(count)
    specs = _unrank(keep, outer, block) if count else pd.DataFrame(columns=list(CHOICES))
    specs.insert(0, "spec", np.arange(len(specs)))
    return specs


class _Cell:
    """One cell of one inclusion and grouping: its counts, and its effect sizes per transform (made once)."""

    def __init__(self, place: dict, x: np.ndarray, n: np.ndarray):
        self.place, self.x, self.n = place, x, n
        self.k, self.n_total = len(x), int(n.sum())
        self.nhm = len(n) / np.sum(1.0 / n)  # harmonic mean n (the PFT back-transform)
        self._effects: dict = {}

    def effects(self, transform: str):
        if transform not in self._effects:
            self._effects[transform] = proportion_effect_sizes(self.x, self.n, transform)
        return self._effects[transform]


@dataclass
class _Row:
    spec: int
    cell: _Cell
    transform: str
    model: str
    tau2_method: str
    ci_method: str
    out: dict


def _cells(included: pd.DataFrame, histology: str) -> list[_Cell]:
    """Every cell, grouped as :func:`sbrtmeta.analysis.pooling.pool_cells` groups them (the same keys, sorted)."""
    grouped = _histology_groups(included, histology)
    events, n = grouped["events"].to_numpy(dtype=float), grouped["n"].to_numpy(dtype=float)
    out = []
    for (site, hist, endpoint, t), rows in sorted(grouped.groupby(TARGET_CELL, sort=True).indices.items()):
        place = cell_place(site, hist, endpoint, t)
        out.append(_Cell(place, events[rows], n[rows]))
    return out


def _back(values: dict, transform: str, nhm: np.ndarray, rows: list[_Row]) -> None:
    """Estimates and CI bounds (model scale) to proportions, into each row's output."""
    for key, val in values.items():
        back = inverse_transform(val, transform, nhm[:, None])
        for r, b in zip(rows, back):
            r.out[key] = float(b)


def _fit_group(rows: list[_Row], level: float) -> None:
    """Random-effects fits of rows sharing transform, τ² and CI method: one batch (NaN pads)."""
    transform, tau2_method, ci_method = rows[0].transform, rows[0].tau2_method, rows[0].ci_method
    width = max(r.cell.k for r in rows)
    Y = np.full((len(rows), width), np.nan)
    V = np.ones((len(rows), width))
    N = np.ones((len(rows), width))  # GENQ's and GENQM's weights: the arms' patients, as in pooling
    for i, r in enumerate(rows):
        y, v = r.cell.effects(transform)
        Y[i, : len(y)], V[i, : len(v)], N[i, : len(v)] = y, v, r.cell.n
    fit = fit_random_effects_batch(Y, V, tau2_method, ci_method, level, weights=N)
    nhm = np.array([r.cell.nhm for r in rows])
    _back(dict(estimate=fit.estimate, ci_low=fit.ci_low, ci_high=fit.ci_high), transform, nhm, rows)
    for i, r in enumerate(rows):
        r.out.update(tau2=float(fit.tau2[i]), i2=float(fit.i2[i]))


def _fit_single(rows: list[_Row], level: float) -> None:
    """A cell of one study: the study with its Wald interval (as pooled.csv reports it)."""
    for transform in sorted({r.transform for r in rows}):
        group = [r for r in rows if r.transform == transform]
        y = np.array([r.cell.effects(transform)[0][0] for r in group])
        half = critical_value(level) * np.sqrt(np.array([r.cell.effects(transform)[1][0] for r in group]))
        nhm = np.array([r.cell.nhm for r in group])
        _back(dict(estimate=y, ci_low=y - half, ci_high=y + half), transform, nhm, group)
        for r in group:
            r.out.update(tau2=np.nan, i2=np.nan)


def _fit_glmm(rows: list[_Row], level: float, cache: dict) -> None:
    """The binomial-normal GLMM of each cell (one fit per distinct cell, however many specs share it)."""
    for r in rows:
        key = (r.cell.x.tobytes(), r.cell.n.tobytes())
        if key not in cache:
            try:
                cache[key] = fit_glmm_logit(r.cell.x, r.cell.n, level=level)
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
                cache[key] = str(exc)
        fit = cache[key]
        if isinstance(fit, str):
            r.out.update(estimate=np.nan, ci_low=np.nan, ci_high=np.nan, tau2=np.nan, i2=np.nan)
            r.out["note"] = f"GLMM not fitted: {fit}"
            continue
        est, lo, hi = inverse_transform(np.array([fit.estimate, fit.ci_low, fit.ci_high]), "PLO")
        r.out.update(estimate=float(est), ci_low=float(lo), ci_high=float(hi), tau2=fit.tau2, i2=fit.i2)


class _Inclusions:
    """Each distinct inclusion of the specifications, applied once, and its cells per grouping."""

    def __init__(self, tidy: pd.DataFrame, inclusion: dict, risk_of_bias: dict | None = None):
        self.tidy, self.inclusion, self.rob, self.cache = tidy, inclusion, risk_of_bias, {}

    def cells(self, spec: dict) -> list[_Cell]:
        key = tuple(spec[c] for c in INCLUSION_CHOICES)
        if key not in self.cache:
            self.cache[key] = (apply_inclusion(self.tidy, inclusion_criteria(self.inclusion, spec), self.rob)[0], {})
        included, by_histology = self.cache[key]
        histology = spec["histology_grouping"]
        if histology not in by_histology:
            by_histology[histology] = _cells(included, histology)
        return by_histology[histology]


def _block(specs: pd.DataFrame, inclusions: _Inclusions, level: float, glmm_cache: dict) -> pd.DataFrame:
    rows = []
    for spec in specs.to_dict("records"):
        model, transform, tau2_method, ci_method = (spec[c] for c in ("model", "transform", "tau2_method", "ci_method"))
        for cell in inclusions.cells(spec):
            rows.append(_Row(spec["spec"], cell, transform, model, tau2_method, ci_method, {"note": ""}))
    single = [r for r in rows if r.cell.k == 1]
    if single:
        _fit_single(single, level)
    glmm = [r for r in rows if r.cell.k > 1 and r.model == "glmm"]
    if glmm:
        _fit_glmm(glmm, level, glmm_cache)
    groups: dict = {}
    for r in rows:
        if r.cell.k > 1 and r.model != "glmm":
            groups.setdefault((r.transform, r.tau2_method, r.ci_method), []).append(r)
    for key in sorted(groups):
        _fit_group(groups[key], level)
    chosen = specs.set_index("spec").loc[[r.spec for r in rows]].reset_index()
    places = pd.DataFrame([r.cell.place for r in rows], columns=CELL)
    results = pd.DataFrame(
        {
            "k": [r.cell.k for r in rows],
            "n_total": [r.cell.n_total for r in rows],
            **{c: [r.out[c] for r in rows] for c in RESULT_COLUMNS[2:]},
        }
    )
    return pd.concat([chosen, places, results], axis=1)[list(COLUMNS)]


def shard_blocks(n_specs: int, shard: int, shards: int) -> tuple[int, int]:
    """The specifications [a, b) of shard ``shard`` (0-based) of ``shards``: whole blocks of :data:`BLOCK`."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not in 0..{shards - 1}")
    blocks = -(-n_specs // BLOCK)
    a, b = blocks * shard // shards, blocks * (shard + 1) // shards
    return a * BLOCK, min(b * BLOCK, n_specs)


def multiverse_shard(
    tidy: pd.DataFrame,
    inclusion: dict,
    pooling: dict,
    multiverse: dict,
    seed: int,
    shard: int,
    shards: int,
    risk_of_bias: dict | None = None,
) -> pd.DataFrame:
    """Shard ``shard`` of ``shards``: its specifications, every cell of each pooled; a row per specification × cell.
    ``risk_of_bias`` (``{study_id: overall}``) serves ``inclusion.max_risk_of_bias``, as in pooling."""
    specs = specifications(multiverse, seed)
    a, b = shard_blocks(len(specs), shard, shards)
    inclusions, glmm_cache = _Inclusions(tidy, inclusion, risk_of_bias), {}
    parts = [
        _block(specs.iloc[s : min(s + BLOCK, b)], inclusions, pooling["level"], glmm_cache) for s in range(a, b, BLOCK)
    ]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(COLUMNS))
