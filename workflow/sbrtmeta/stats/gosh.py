"""GOSH: the model fitted to every subset of the studies (or a random sample of them).

The graphical display of study heterogeneity (Olkin, Dahabreh & Trikalinos, Res Synth
Methods 2012;3:214-223) fits the meta-analysis to each of the 2^k - 1 non-empty subsets
of k studies and plots I² against the pooled estimate. This module matches metafor's
``gosh.rma`` (Viechtbauer, J Stat Softw 2010;36(3)) for intercept-only ``rma.uni``
models:

* the subsets are those of size 1 to k (p = 1 for an intercept-only model, so single
  studies are fits too: estimate yi, τ² = 0, Q = 0, I² = 0, H² = 1, as ``rma.uni`` with
  k = 1 gives);
* every fit uses the τ² estimator of the original fit (``x$method``) and records the
  estimate, Q (the common-effect Q of the subset, ``QE``), I², H² and τ²; I² is
  metafor's default definition (``i2def = "1"``: 100 τ² / (ṽ + τ²) with the typical
  variance ṽ = (k - 1) / (Σw - Σw²/Σw), w = 1/v; for a common-effect model
  100 (Q - (k - 1)) / Q, truncated at 0). For DL, as for FE, ``gosh.rma`` computes the
  fit in closed form and reports H² = Q / (k - 1), not truncated at 1 where the DL τ² is
  truncated at 0 (``rma.uni`` reports 1 there); these GOSH fits do the same;
* all subsets are taken in metafor's order (``expand.grid`` over the studies, the first
  study varying fastest, then ordered by subset size): by size, then by the subset's
  bit pattern read as a number (bit j set when study j + 1 is in);
* a random sample draws each subset uniformly from the 2^k - 1 non-empty ones, the
  distribution of metafor's sampler (a size from Binomial(k, 1/2) restricted to >= 1,
  then that many studies at random); duplicates may occur, as there.

All subsets of up to :data:`MAX_STUDIES` studies are integer bit masks (bit j = study j), so a
range of them is generated without listing the others: the m-subsets in increasing bit pattern
are the combinations in colexicographic order, unranked by the combinatorial number system
(every subset of more studies could never be fitted anyway). A sample is drawn as a boolean
matrix (subsets x k, metafor's ``incl``), for any k; :func:`subset_ids` names each subset by its
bit mask, an integer up to 62 studies and the same number in hexadecimal (``0x...``) above.
Fits run on the batch engine (:func:`sbrtmeta.stats.random_effects.fit_random_effects_batch`)
in fixed chunks of :data:`CHUNK` subsets numbered from the first subset, so memory stays
bounded and the numbers of a subset do not depend on where a caller splits the range; within
a chunk the subsets of each size m form one (n, m) batch, no padding and no mask.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import comb

import numpy as np

from sbrtmeta.stats.inference import check_effect_sizes, check_tau2_method
from sbrtmeta.stats.random_effects import fit_random_effects_batch

CHUNK = 2**13  # subsets per batch fit: arrays of CHUNK x k stay in cache
MAX_STUDIES = 62  # every subset (all_subsets) as int64 bit masks; a sample takes any k


@dataclass(frozen=True)
class GoshFits:
    """Fits of the model to subsets of k studies, as metafor's ``gosh.rma`` object
    (``res$res`` with ``res$incl`` as bit masks).

    Attributes
    ----------
    subset : each subset's studies: the bit mask (bit j set: study j is in) as int64 up to
        :data:`MAX_STUDIES` studies, else as :func:`subset_ids` writes it (``0x...``).
    k : number of studies in the subset.
    estimate : pooled estimate on the model's scale (``res$res$estimate``).
    q : Cochran's Q of the subset (``QE``; 0 for one study).
    i2, h2 : I² in % and H², metafor's default definition (``I2``, ``H2``).
    tau2 : τ² by ``tau2_method`` (``tau2``; 0 for one study and for FE).
    tau2_method : the τ² estimator of the original fit.
    """

    subset: np.ndarray
    k: np.ndarray
    estimate: np.ndarray
    q: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    tau2: np.ndarray
    tau2_method: str


def subset_count(k: int) -> int:
    """Number of non-empty subsets of k studies, 2^k - 1."""
    return 2**k - 1


def _check_k(k: int) -> int:
    k = int(k)
    if not 1 <= k <= MAX_STUDIES:
        raise ValueError(f"GOSH needs 1 to {MAX_STUDIES} studies (got k = {k})")
    return k


def _colex(k: int, m: int, ranks: np.ndarray) -> np.ndarray:
    """Bit masks of the m-subsets of k studies with colexicographic ranks ``ranks``
    (the m-subsets in increasing bit pattern): the combinatorial number system."""
    out = np.zeros(len(ranks), dtype=np.int64)
    rem = ranks.astype(np.int64)
    for j in range(m, 0, -1):
        table = np.array([comb(c, j) for c in range(k)], dtype=np.int64)  # non-decreasing in c
        c = np.searchsorted(table, rem, side="right") - 1
        out |= np.left_shift(np.int64(1), c.astype(np.int64))
        rem = rem - table[c]
    return out


def all_subsets(k: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Subsets ``start`` to ``stop - 1`` of the 2^k - 1 non-empty subsets of k studies,
    in metafor's order (by size, then by bit pattern), as bit masks."""
    k = _check_k(k)
    total = subset_count(k)
    stop = total if stop is None else min(int(stop), total)
    start = max(int(start), 0)
    parts, offset = [], 0
    for m in range(1, k + 1):
        size = comb(k, m)
        lo, hi = max(start, offset), min(stop, offset + size)
        if lo < hi:
            parts.append(_colex(k, m, np.arange(lo - offset, hi - offset, dtype=np.int64)))
        offset += size
        if offset >= stop:
            break
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def sampled_membership(k: int, seed: int, start: int, stop: int) -> np.ndarray:
    """Subsets ``start`` to ``stop - 1`` of a seeded random sample of non-empty subsets
    of k studies (any k >= 1), as a boolean matrix (subsets x k), each uniform over the 2^k - 1
    (every study in with probability 1/2, an empty draw drawn again). The sample is made in
    chunks of :data:`CHUNK` draws, chunk c from its own generator (``default_rng([seed, c])``),
    so any range of it is the same whoever draws it."""
    k = int(k)
    if k < 1:
        raise ValueError(f"GOSH needs at least 1 study (got k = {k})")
    out = []
    for c in range(start // CHUNK, -(-stop // CHUNK)):
        rng = np.random.default_rng([int(seed), c])
        bits = rng.random((CHUNK, k)) < 0.5
        empty = ~bits.any(axis=1)
        while empty.any():
            bits[empty] = rng.random((int(empty.sum()), k)) < 0.5
            empty = ~bits.any(axis=1)
        lo, hi = max(start - c * CHUNK, 0), min(stop - c * CHUNK, CHUNK)
        out.append(bits[lo:hi])
    return np.concatenate(out) if out else np.zeros((0, k), dtype=bool)


def sampled_subsets(k: int, seed: int, start: int, stop: int) -> np.ndarray:
    """:func:`sampled_membership` as int64 bit masks (k up to :data:`MAX_STUDIES`)."""
    k = _check_k(k)
    bits = sampled_membership(k, seed, start, stop)
    return (bits.astype(np.int64) << np.arange(k, dtype=np.int64)).sum(axis=1)


def subset_ids(incl: np.ndarray) -> np.ndarray:
    """Each row's bit mask (bit j = study j): int64 up to :data:`MAX_STUDIES` studies, else the
    same number as a hexadecimal string (``0x`` and two digits per 8 studies)."""
    incl = np.asarray(incl, dtype=bool)
    k = incl.shape[1]
    if k <= MAX_STUDIES:
        return (incl.astype(np.int64) << np.arange(k, dtype=np.int64)).sum(axis=1)
    packed = np.packbits(incl, axis=1, bitorder="little")[:, ::-1]  # most significant byte first
    return np.array(["0x" + row.tobytes().hex() for row in packed], dtype=object)


def subset_matrix(subsets, k: int) -> np.ndarray:
    """Boolean matrix (subsets x k) of which studies each subset holds (metafor's ``incl``), from
    :func:`subset_ids`' bit masks: int64 (k up to :data:`MAX_STUDIES`) or ``0x...`` strings."""
    subsets = np.asarray(subsets)
    if k <= MAX_STUDIES:
        return ((subsets.astype(np.int64)[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(bool)
    width = -(-k // 8)
    hexes = "".join(str(s)[2:].rjust(2 * width, "0") for s in subsets)
    packed = np.frombuffer(bytes.fromhex(hexes), dtype=np.uint8).reshape(len(subsets), width)[:, ::-1]
    return np.unpackbits(packed, axis=1, bitorder="little")[:, :k].astype(bool)


def _fit_chunk(y, v, incl, tau2_method):
    """Fits of one chunk (``incl``: subsets x k): the subsets of each size m packed into an (n, m)
    batch (no padding, no mask: the batch engine's fast path, and half the work of a k-wide masked
    batch on average)."""
    sizes = incl.sum(axis=1)
    out = np.empty((5, len(incl)))
    for m in np.unique(sizes):
        rows = np.nonzero(sizes == m)[0]
        cols = np.nonzero(incl[rows])[1].reshape(len(rows), m)  # each row's studies, in study order
        with np.errstate(divide="ignore", invalid="ignore"):  # k = 1: DL's denominator is 0 (τ² set to 0)
            fit = fit_random_effects_batch(y[cols], v[cols], tau2_method, "z")
        h2 = fit.h2
        if tau2_method == "DL":  # gosh.rma's closed form: H² = Q / (k - 1), also below 1
            h2 = np.where(m > 1, fit.q / max(m - 1, 1), 1.0)
        out[:, rows] = fit.estimate, fit.q, fit.i2, h2, fit.tau2
    return (sizes, *out)


def gosh_fits(y, v, subsets, tau2_method: str = "REML", threads: int = 1) -> GoshFits:
    """Fit the intercept-only model with ``tau2_method`` to each subset (int64 bit masks over
    the studies of ``y``/``v``, or a boolean matrix subsets x k for any k), as
    ``gosh(rma(yi, vi, method = tau2_method))``.

    The subsets are fitted in chunks of :data:`CHUNK` (the i-th chunk holds subsets
    i·CHUNK to (i+1)·CHUNK - 1 of ``subsets``); ``threads`` > 1 fits chunks in parallel
    threads (numpy releases the GIL), with the same numbers."""
    y, v = check_effect_sizes(y, v)
    check_tau2_method(tau2_method)
    subsets = np.asarray(subsets)
    if subsets.ndim == 2:
        incl = subsets.astype(bool)
        if incl.shape[1] != len(y) or (len(incl) and not incl.any(axis=1).all()):
            raise ValueError(f"subsets must be non-empty rows of {len(y)} studies")
        subsets = subset_ids(incl)
    else:
        k = _check_k(len(y))
        subsets = subsets.astype(np.int64)
        if len(subsets) and (subsets.min() < 1 or subsets.max() >= 2**k):
            raise ValueError(f"subsets must be non-empty bit masks of {k} studies")
        incl = subset_matrix(subsets, k)
    chunks = [incl[a : a + CHUNK] for a in range(0, len(incl), CHUNK)]
    if threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=int(threads)) as pool:
            parts = list(pool.map(lambda s: _fit_chunk(y, v, s, tau2_method), chunks))
    else:
        parts = [_fit_chunk(y, v, s, tau2_method) for s in chunks]
    cols = [np.concatenate(c) if parts else np.zeros(0) for c in zip(*parts)] if parts else [np.zeros(0)] * 6
    kk, est, q, i2, h2, tau2 = cols
    return GoshFits(
        subset=subsets,
        k=kk.astype(np.int64),
        estimate=est,
        q=q,
        i2=i2,
        h2=h2,
        tau2=tau2,
        tau2_method=tau2_method,
    )
