"""GOSH of every pooled cell with three or more studies, in shards.

The studies of each cell come from ``pooled_studies.csv`` (their ``yi``/``vi`` on the
model's scale). A cell's subsets are all 2^k - 1 of them when that is at most
``exhaustive_max``, else a seeded random sample of ``samples`` subsets
(:mod:`sbrtmeta.stats.gosh`). The subsets are cut into chunks of
:data:`sbrtmeta.stats.gosh.CHUNK`; shard s of S fits the chunks
[⌊sC/S⌋, ⌊(s+1)C/S⌋) of every cell, so the gathered table is the same, byte for byte,
whatever the number of shards. The gather step then writes one table per cell and the
per-study summary: the mean estimate and I² of the subsets with and without each study.

Any k works: a cell of more than :data:`sbrtmeta.stats.gosh.MAX_STUDIES` studies has 2^k - 1
subsets, more than any ``exhaustive_max`` the schema allows, so it is sampled; its subsets are a
boolean matrix and its ``subset`` column the bit mask in hexadecimal
(:func:`sbrtmeta.stats.gosh.subset_ids`). The gather (:func:`gather_cells`) reads the parts as
streams of chunks and holds one cell at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.data.cells import CELL, cell_name
from sbrtmeta.stats.effect_sizes import inverse_transform
from sbrtmeta.stats.gosh import (
    CHUNK,
    all_subsets,
    gosh_fits,
    sampled_membership,
    subset_count,
    subset_ids,
    subset_matrix,
)
from sbrtmeta.stats.inference import refit_tau2

MIN_STUDIES = 3
FIT_COLUMNS = ("k", "estimate", "rate", "q", "i2", "h2", "tau2")
PART_COLUMNS = ("cell", "row", "subset", *FIT_COLUMNS)
STUDY_SUMMARY_COLUMNS = (
    "cell",
    *CELL,
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


def gosh_cells(studies: pd.DataFrame, exhaustive_max: int, samples: int) -> list[GoshCell]:
    """The cells of ``pooled_studies.csv`` with at least :data:`MIN_STUDIES` studies, in its order."""
    out = []
    for key, rows in studies.groupby(CELL, sort=True):
        if len(rows) < MIN_STUDIES:
            continue
        k = len(rows)
        # as gosh(): every subset when there are no more than asked for (exhaustive_max, or the sample size)
        sampled = subset_count(k) > max(exhaustive_max, samples)
        total = int(samples) if sampled else subset_count(k)
        place = dict(zip(CELL, key))
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
    incl = sampled_membership(k, seed, start, stop) if cell.sampled else subset_matrix(all_subsets(k, start, stop), k)
    fits = gosh_fits(cell.studies["yi"], cell.studies["vi"], incl, tau2_method, threads=threads)
    n = cell.studies["n"].to_numpy(dtype=float)
    rate = _rates(fits.estimate, incl, n, transform)
    return pd.DataFrame(
        dict(
            cell=cell.name,
            row=np.arange(start, stop),
            subset=subset_ids(incl),
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
        parts.append(_cell_part(cell, a, b, refit_tau2(pooling["tau2_method"]), pooling["transform"], seed, threads))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(PART_COLUMNS))


def cell_table(cell: GoshCell, fits: pd.DataFrame) -> pd.DataFrame:
    """``gosh_<cell>.csv``: one row per subset (in metafor's order, or the sample's draw
    order), its fit, and one 0/1 column per study (metafor's ``incl``)."""
    fits = fits.sort_values("row", kind="mergesort")
    table = fits[["row", "subset", *FIT_COLUMNS]].reset_index(drop=True)
    incl = subset_matrix(table["subset"].to_numpy(), len(cell.studies))
    columns = [f"in_{sid}" for sid in cell.studies["study_id"]]
    return pd.concat([table, pd.DataFrame(incl.astype(np.int8), columns=columns)], axis=1)


def study_shifts(cell: GoshCell, table: pd.DataFrame, tau2_method: str, transform: str) -> pd.DataFrame:
    """Per study of the cell: the mean rate and I² of the subsets with it and without it,
    and their difference (with - without), as a GOSH plot's colouring by study shows."""
    incl = subset_matrix(table["subset"].to_numpy(), len(cell.studies))
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


class _PartStream:
    """A shard's part read as a stream of chunks (DataFrames): its cells come in
    :func:`gosh_cells` order, each cell's rows together, so :meth:`take` hands out one
    cell's rows and keeps only the rest of the current chunk."""

    def __init__(self, chunks: Iterable[pd.DataFrame]):
        self.chunks, self.buffer = iter(chunks), None

    def take(self, name: str) -> list[pd.DataFrame]:
        got = []
        while True:
            if self.buffer is None or self.buffer.empty:
                self.buffer = next(self.chunks, None)
                if self.buffer is None:
                    return got
                continue
            other = (self.buffer["cell"] != name).to_numpy()
            n = int(other.argmax()) if other.any() else len(other)
            got.append(self.buffer.iloc[:n])
            self.buffer = self.buffer.iloc[n:]
            if n < len(other):
                return got


def gather_cells(
    parts: list[Iterable[pd.DataFrame]], studies: pd.DataFrame, pooling: dict, gosh: dict
) -> Iterator[tuple[GoshCell, pd.DataFrame, pd.DataFrame]]:
    """Each cell's table and per-study summary, ``(cell, table, shifts)``, one cell at a time,
    from the shards' parts, each given as a stream of chunks (``pd.read_csv(..., chunksize=)``)."""
    streams = [_PartStream(p) for p in parts]
    for cell in gosh_cells(studies, gosh["exhaustive_max"], gosh["samples"]):
        pieces = [piece for s in streams for piece in s.take(cell.name) if len(piece)]
        got = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=list(PART_COLUMNS))
        if len(got) != cell.total or not np.array_equal(np.sort(got["row"].to_numpy()), np.arange(cell.total)):
            raise ValueError(f"GOSH parts of {cell.name}: {len(got)} of {cell.total} subsets (a shard is missing)")
        table = cell_table(cell, got)
        yield cell, table, study_shifts(cell, table, refit_tau2(pooling["tau2_method"]), pooling["transform"])


def gather_gosh(parts: list[pd.DataFrame], studies: pd.DataFrame, pooling: dict, gosh: dict) -> GoshTables:
    """Join the shards' parts (whole tables) into each cell's table and the per-study summary."""
    tables, summaries = {}, []
    for cell, table, shifts in gather_cells([[p] for p in parts], studies, pooling, gosh):
        tables[cell.name] = table
        summaries.append(shifts)
    return GoshTables(tables, study_summary(summaries))


def study_summary(shifts: list[pd.DataFrame]) -> pd.DataFrame:
    """``gosh_studies.csv`` from each cell's per-study shifts (its header alone when there are none)."""
    return pd.concat(shifts, ignore_index=True) if shifts else pd.DataFrame(columns=list(STUDY_SUMMARY_COLUMNS))
