"""The multiverse's gathered tables: the shards' parts joined into ``multiverse.csv`` (a row per
specification × cell, the columns :data:`COLUMNS`), and per cell of ``pooled.csv`` the share of
specifications within the equivalence margin of the main analysis and the choice that moves the
estimate most (``multiverse_summary.csv``, Steegen et al., Perspect Psychol Sci 2016;11:702-712),
with the mean and median per choice and level (``multiverse_choices.csv``).

The gather job reads and summarises tables only, so this module imports no statistics: the fits
are :mod:`sbrtmeta.analysis.multiverse`'s, in the shards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.analysis.multiverse_design import CHOICES
from sbrtmeta.data.cells import CELL, same_cell

RESULT_COLUMNS = ("k", "n_total", "estimate", "ci_low", "ci_high", "tau2", "i2", "note")
COLUMNS = ("spec", *CHOICES, *CELL, *RESULT_COLUMNS)
SUMMARY_COLUMNS = (
    *CELL,
    "k_main",
    "main_estimate",
    "margin",
    "total_specs",
    "specs",
    "specs_within",
    "share_within",
    "min_estimate",
    "median_estimate",
    "max_estimate",
    "most_influential_choice",
    "influential_range",
    "influential_levels",
)
CHOICE_COLUMNS = (*CELL, "choice", "level", "specs", "mean_estimate", "median_estimate")


def _level_means(rows: pd.DataFrame) -> list[dict]:
    """Per choice and level (levels sorted, as ``groupby``): the specifications, mean and median estimate.
    Each level's estimates are taken in table order, so the means are those of ``groupby``'s groups."""
    est = rows["estimate"].to_numpy(dtype=float)
    out = []
    for choice in CHOICES:
        codes, levels = pd.factorize(rows[choice], sort=True)  # a missing level: code -1, left out
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(levels) + 1))
        for j, level in enumerate(levels):
            got = est[order[bounds[j] : bounds[j + 1]]]
            out.append(
                dict(
                    choice=choice,
                    level=str(level),
                    specs=len(got),
                    mean_estimate=float(np.mean(got)),
                    median_estimate=float(np.median(got)),
                )
            )
    return out


def _most_influential(levels: list[dict]) -> tuple[str, float, str]:
    """The choice whose levels' mean estimates lie furthest apart (choices with one level left
    out); ``"none"`` when no choice moves the mean by more than rounding (1e-9)."""
    best = ("none", 0.0, "")
    for choice in CHOICES:
        means = [d for d in levels if d["choice"] == choice]
        if len(means) < 2:
            continue
        spread = max(d["mean_estimate"] for d in means) - min(d["mean_estimate"] for d in means)
        if spread > max(best[1], 1e-9):
            text = "; ".join(f"{d['level']}: {100 * d['mean_estimate']:.1f}%" for d in means)
            best = (choice, float(spread), text)
    return best


@dataclass(frozen=True)
class MultiverseTables:
    """``multiverse.csv`` (every specification × cell), ``multiverse_summary.csv`` (per cell of
    the main analysis) and ``multiverse_choices.csv`` (per cell, choice and level)."""

    table: pd.DataFrame
    summary: pd.DataFrame
    choices: pd.DataFrame


def gather_multiverse(parts: list[pd.DataFrame], pooled: pd.DataFrame, margin: float) -> MultiverseTables:
    """Join the shards' parts (in shard order: specification order) and summarise, per cell of
    ``pooled.csv``, the share of specifications whose estimate is within ``margin`` (a
    proportion) of the main analysis's and the choice that moves the estimate most."""
    parts = [p for p in parts if len(p)]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(COLUMNS))
    if len(table) and np.any(np.diff(table["spec"].to_numpy()) < 0):
        raise ValueError("multiverse parts are not in specification order (a shard is missing or misplaced)")
    summary, choices = [], []
    for r in pooled.itertuples():
        rows = table[same_cell(table, r)]
        rows = rows[np.isfinite(rows["estimate"].to_numpy(dtype=float))]
        place = {c: getattr(r, c) for c in CELL}
        place["timepoint_months"] = float(place["timepoint_months"])
        est = rows["estimate"].to_numpy(dtype=float)
        within = np.abs(est - r.estimate) <= margin + 1e-12
        levels = _level_means(rows) if len(rows) else []
        choice, spread, text = _most_influential(levels)
        summary.append(
            dict(
                **place,
                k_main=int(r.k),
                main_estimate=float(r.estimate),
                margin=float(margin),
                total_specs=int(table["spec"].nunique()),
                specs=len(rows),
                specs_within=int(within.sum()),
                share_within=float(within.mean()) if len(rows) else np.nan,
                min_estimate=float(est.min()) if len(rows) else np.nan,
                median_estimate=float(np.median(est)) if len(rows) else np.nan,
                max_estimate=float(est.max()) if len(rows) else np.nan,
                most_influential_choice=choice,
                influential_range=spread,
                influential_levels=text,
            )
        )
        choices += [{**place, **d} for d in levels]
    return MultiverseTables(
        table,
        pd.DataFrame(summary, columns=list(SUMMARY_COLUMNS)),
        pd.DataFrame(choices, columns=list(CHOICE_COLUMNS)),
    )
