"""GOSH of every pooled cell with three or more studies, in shards.

The studies of each cell come from ``pooled_studies.csv`` (their ``yi``/``vi`` on the
model's scale). A cell's subsets are all 2^k - 1 of them when that is at most
``exhaustive_max``, else a seeded random sample of ``samples`` subsets
(:mod:`sbrtmeta.stats.gosh`). The subsets are cut into chunks of
:data:`sbrtmeta.stats.gosh.CHUNK`; shard s of S fits the chunks
[⌊sC/S⌋, ⌊(s+1)C/S⌋) of every cell, so the gathered table is the same, byte for byte,
whatever the number of shards. The gather step then writes one table per cell and the
per-study summary: the mean estimate and I² of the subsets with and without each study.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.stats.effect_sizes import inverse_transform
from sbrtmeta.stats.gosh import CHUNK, all_subsets, gosh_fits, sampled_subsets, subset_count, subset_matrix

PLACE = ["site", "histology", "endpoint", "timepoint_months"]
MIN_STUDIES = 3
FIT_COLUMNS = ("k", "estimate", "rate", "q", "i2", "h2", "tau2")
PART_COLUMNS = ("cell", "row", "subset", *FIT_COLUMNS)
STUDY_SUMMARY_COLUMNS = (
    "cell",
    *PLACE,
    "k",
    "subsets",
    "sampled",
    "tau2_method",
    "transform",
    "study_id",
    "label",
    "bit",
    "subsets_with",
    "subsets_without",
    "mean_rate_with",
    "mean_rate_without",
    "rate_shift",
    "mean_i2_with",
    "mean_i2_without",
    "i2_shift",
)


@dataclass(frozen=True)
class GoshCell:
    """One cell's studies (in ``pooled_studies.csv`` order: study j is bit j) and its plan."""

    name: str
    place: dict
    studies: pd.DataFrame
    total: int  # subsets fitted
    sampled: bool  # a random sample (else every subset)

    @property
    def chunks(self) -> int:
        return -(-self.total // CHUNK)


def cell_name(site: str, histology: str, endpoint: str, timepoint_months: float) -> str:
    """``lung_colorectal_LC_24m``: the cell's part of ``gosh_<cell>.csv``."""
    return f"{site}_{histology}_{endpoint}_{float(timepoint_months):g}m".replace(" ", "_")


def gosh_cells(studies: pd.DataFrame, exhaustive_max: int, samples: int) -> list[GoshCell]:
    """The cells of ``pooled_studies.csv`` with at least :data:`MIN_STUDIES` studies, in its order."""
    out = []
    for key, rows in studies.groupby(PLACE, sort=True):
        if len(rows) < MIN_STUDIES:
            continue
        k = len(rows)
        # as gosh(): every subset when there are no more than asked for (exhaustive_max, or the sample size)
        sampled = k > 62 or subset_count(k) > max(exhaustive_max, samples)
        total = int(samples) if sampled else subset_count(k)
        place = dict(zip(PLACE, key))
        out.append(GoshCell(cell_name(*key), place, rows.reset_index(drop=True), total, sampled))
    return out


def shard_range(chunks: int, shard: int, shards: int) -> tuple[int, int]:
    """The chunks [a, b) of ``chunks`` that shard ``shard`` (0-based) of ``shards`` fits."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not in 0..{shards - 1}")
    return chunks * shard // shards, chunks * (shard + 1) // shards


def _rates(estimate, incl, n, transform):
    """The subsets' estimates on the proportion scale (PFT: each at its own studies' harmonic mean n)."""
    if transform != "PFT":
        return inverse_transform(estimate, transform)
    nhm = incl.sum(axis=1) / (incl @ (1.0 / n))
    return inverse_transform(estimate, transform, nhm[:, None])


def _cell_part(cell: GoshCell, a: int, b: int, tau2_method, transform, seed, threads) -> pd.DataFrame:
    k = len(cell.studies)
    start, stop = a * CHUNK, min(b * CHUNK, cell.total)
    if start >= stop:
        return pd.DataFrame(columns=list(PART_COLUMNS))
    subsets = sampled_subsets(k, seed, start, stop) if cell.sampled else all_subsets(k, start, stop)
    fits = gosh_fits(cell.studies["yi"], cell.studies["vi"], subsets, tau2_method, threads=threads)
    n = cell.studies["n"].to_numpy(dtype=float)
    rate = _rates(fits.estimate, subset_matrix(subsets, k), n, transform)
    return pd.DataFrame(
        dict(
            cell=cell.name,
            row=np.arange(start, stop),
            subset=subsets,
            k=fits.k,
            estimate=fits.estimate,
            rate=rate,
            q=fits.q,
            i2=fits.i2,
            h2=fits.h2,
            tau2=fits.tau2,
        )
    )


def gosh_shard(
    studies: pd.DataFrame, pooling: dict, gosh: dict, seed: int, shard: int, shards: int, threads: int = 1
) -> pd.DataFrame:
    """Shard ``shard`` of ``shards``: its chunks of every cell's subsets, fitted as
    ``gosh(rma(yi, vi, method = pooling["tau2_method"]))``; one row per subset."""
    parts = []
    for cell in gosh_cells(studies, gosh["exhaustive_max"], gosh["samples"]):
        a, b = shard_range(cell.chunks, shard, shards)
        parts.append(_cell_part(cell, a, b, pooling["tau2_method"], pooling["transform"], seed, threads))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(PART_COLUMNS))


def cell_table(cell: GoshCell, fits: pd.DataFrame) -> pd.DataFrame:
    """``gosh_<cell>.csv``: one row per subset (in metafor's order, or the sample's draw
    order), its fit, and one 0/1 column per study (metafor's ``incl``)."""
    fits = fits.sort_values("row", kind="mergesort")
    table = fits[["row", "subset", *FIT_COLUMNS]].reset_index(drop=True)
    incl = subset_matrix(table["subset"].to_numpy(dtype=np.int64), len(cell.studies))
    for j, sid in enumerate(cell.studies["study_id"]):
        table[f"in_{sid}"] = incl[:, j].astype(np.int8)
    return table


def study_shifts(cell: GoshCell, table: pd.DataFrame, tau2_method: str, transform: str) -> pd.DataFrame:
    """Per study of the cell: the mean rate and I² of the subsets with it and without it,
    and their difference (with - without), as a GOSH plot's colouring by study shows."""
    incl = subset_matrix(table["subset"].to_numpy(dtype=np.int64), len(cell.studies))
    rate, i2 = table["rate"].to_numpy(), table["i2"].to_numpy()
    rows = []
    for j, s in enumerate(cell.studies.itertuples()):
        inn = incl[:, j]
        with_rate, without_rate = rate[inn].mean(), rate[~inn].mean() if (~inn).any() else np.nan
        with_i2, without_i2 = i2[inn].mean(), i2[~inn].mean() if (~inn).any() else np.nan
        rows.append(
            dict(
                cell=cell.name,
                **cell.place,
                k=len(cell.studies),
                subsets=len(table),
                sampled=cell.sampled,
                tau2_method=tau2_method,
                transform=transform,
                study_id=s.study_id,
                label=s.label,
                bit=j,
                subsets_with=int(inn.sum()),
                subsets_without=int((~inn).sum()),
                mean_rate_with=with_rate,
                mean_rate_without=without_rate,
                rate_shift=with_rate - without_rate,
                mean_i2_with=with_i2,
                mean_i2_without=without_i2,
                i2_shift=with_i2 - without_i2,
            )
        )
    return pd.DataFrame(rows, columns=list(STUDY_SUMMARY_COLUMNS))


@dataclass(frozen=True)
class GoshTables:
    """The gathered GOSH: ``gosh_<cell>.csv`` per cell (``cells``, by name) and ``gosh_studies.csv``."""

    cells: dict
    studies: pd.DataFrame


def gather_gosh(parts: list[pd.DataFrame], studies: pd.DataFrame, pooling: dict, gosh: dict) -> GoshTables:
    """Join the shards' parts into each cell's table and the per-study summary."""
    parts = [p for p in parts if len(p)]
    fits = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(PART_COLUMNS))
    tables, summaries = {}, []
    for cell in gosh_cells(studies, gosh["exhaustive_max"], gosh["samples"]):
        got = fits[fits["cell"] == cell.name]
        if len(got) != cell.total or not np.array_equal(np.sort(got["row"].to_numpy()), np.arange(cell.total)):
            raise ValueError(f"GOSH parts of {cell.name}: {len(got)} of {cell.total} subsets (a shard is missing)")
        tables[cell.name] = cell_table(cell, got)
        summaries.append(study_shifts(cell, tables[cell.name], pooling["tau2_method"], pooling["transform"]))
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame(columns=STUDY_SUMMARY_COLUMNS)
    return GoshTables(tables, summary)
