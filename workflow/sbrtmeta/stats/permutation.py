"""Permutation tests of a mixed-effects meta-regression, as metafor's ``permutest``.

Under the null hypothesis that the moderators are unrelated to the effects, every
assignment of the rows of the design matrix X to the studies' (y, v) is equally
likely (Higgins & Thompson, Stat Med 2004;23:1663-1682; Viechtbauer et al.,
Psychol Methods 2015;20:360-374). ``permutest.rma.uni`` refits the model to each
permutation of X's rows and reports, for the omnibus test of the moderators, the
share of permutations whose statistic is at least the observed one, and for each
coefficient the share whose |z| (or |t|) is at least the observed one, both with
metafor's tolerance ``sqrt(.Machine$double.eps)`` below the observed value.

* **Exact test**: all *distinct* permutations, i.e. all arrangements of X's rows
  counted as a multiset (rows that are equal are one kind): ``k! / prod(n_j!)``
  arrangements, the observed one among them. metafor enumerates them with
  ``.genuperms``; here they are built per kind with ``itertools.combinations``. The
  set is the same, so the p-values are equal (the order of a set does not matter).
* **Random test**: ``iterations`` permutations drawn from a seeded generator, the
  first replaced by the observed data (as metafor does, so p >= 1/iterations). The
  draws differ from R's, so a random p-value matches metafor's only in distribution.

Permuting X's rows against fixed (y, v) is the same fit as permuting (y, v) against
fixed X, so every permutation is a row of a batch ``Y, V`` of shape (m, k) fitted with
one X: τ² by DL, FE, or REML and ML with metafor's own iteration (Fisher scoring from
the HE estimate, then ``ll0check``; polished by Newton steps to machine precision), so
that where a permuted likelihood has several local maxima the one metafor reports is
taken (:func:`sbrtmeta.stats.meta_regression.fit_meta_regression` takes the highest, which
for the observed data is the same in every fixture); then the GLS coefficients and the
test statistics, all with (m, k, p) array operations.
Functions take arrays and return result objects; no I/O.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from sbrtmeta.stats.distributions import chi2_sf, f_sf, norm_sf, t_sf
from sbrtmeta.stats.inference import (
    CI_METHODS,
    KNHA_SCALED,
    REGRESSION_TAU2,
    check_ci_method,
    check_effect_sizes,
    check_tau2_method,
)

COMPTOL = float(np.sqrt(np.finfo(float).eps))  # metafor's control$comptol
_EPS = 4 * np.finfo(float).eps


@dataclass(frozen=True)
class PermutationResult:
    """A permutation test of a meta-regression, as ``permutest(rma(yi, vi, mods, ...))``.

    Attributes
    ----------
    coef_names : the coefficients (columns of X).
    coef : the observed estimates.
    zval : observed test statistics b / se (t statistics under ``"t"``/``"knha"``).
    pval_parametric : their parametric two-sided p-values (normal, or t on k - p df).
    pval : permutation p-values of the coefficients (metafor's ``pval`` of
        ``permutest``): the share of permutations with |z| >= |z_obs| - comptol.
    QM, QM_df, QM_p : the observed omnibus test of the coefficients ``btt`` and its
        parametric p-value (χ² on m df; for ``"t"``/``"knha"`` F = QM/m on (m, k - p)).
    QMp : the permutation p-value of QM (metafor's ``QMp``).
    btt : 0-based indices of the coefficients QM tests.
    exact : True when every distinct permutation was used.
    n_distinct : number of distinct permutations of X's rows (``permutest(exact = "i")``),
        as a float (it may exceed the largest integer a float holds exactly; ``inf`` beyond 1.8e308).
    n_perm : permutations used (n_distinct when exact, else ``iterations``).
    n_failed : permutations whose fit failed (left out of the p-values, as metafor's NA).
    seed : the seed of the random permutations (None for the exact test).
    tau2_method, ci_method : the model's (metafor's ``method`` and ``test``).
    tau2 : the observed fit's τ².
    k, p : studies and coefficients.
    """

    coef_names: tuple
    coef: np.ndarray
    zval: np.ndarray
    pval_parametric: np.ndarray
    pval: np.ndarray
    QM: float
    QM_df: tuple
    QM_p: float
    QMp: float
    btt: tuple
    exact: bool
    n_distinct: float
    n_perm: int
    n_failed: int
    seed: int | None
    tau2_method: str
    ci_method: str
    tau2: float
    k: int
    p: int


# --------------------------------------------------------------------------- the batch fit


class _Batch:
    """GLS quantities of the meta-regression of each row of Y on X at τ² (one per row)."""

    def __init__(self, X, Y, V, tau2):
        self.w = w = 1.0 / (V + tau2[:, None])
        self.XtW = XtW = X.T[None, :, :] * w[:, None, :]  # (m, p, k)
        self.Finv = np.linalg.inv(XtW @ X)  # (X'WX)^-1, (m, p, p)
        self.beta = (self.Finv @ (XtW @ Y[:, :, None]))[:, :, 0]
        self.r = Y - self.beta @ X.T
        self.u = w * self.r  # P y

    def rss(self):
        """Σ w r², the weighted residual sum of squares (y'Py)."""
        return (self.u * self.r).sum(axis=1)

    def loglik(self, reml: bool):
        """The (restricted) log-likelihood up to a constant, to choose between local maxima."""
        ll = -0.5 * (np.log(1.0 / self.w).sum(axis=1) + self.rss())
        return ll + 0.5 * np.linalg.slogdet(self.Finv)[1] if reml else ll

    def hat_product(self, X, power: int):
        """(X'WX)^-1 X'W^power X, per row."""
        return self.Finv @ ((self.XtW * self.w[:, None, :] ** (power - 1)) @ X)

    def score(self, X, reml: bool):
        """f = y'PPy - tr(P) (REML) or y'PPy - Σw (ML), -f', and the expected information
        tr(PP) (REML) or Σw² (ML), per row."""
        w, u = self.w, self.u
        ypp = (u * u).sum(axis=1)
        sw, sw2 = w.sum(axis=1), (w * w).sum(axis=1)
        Xu = (self.XtW @ u[:, :, None])[:, :, 0]
        uPu = (w * u * u).sum(axis=1) - (Xu * (self.Finv @ Xu[:, :, None])[:, :, 0]).sum(axis=1)
        if not reml:
            return ypp - sw, 2.0 * uPu - sw2, sw2
        F2 = self.hat_product(X, 2)
        F3 = self.hat_product(X, 3)
        trP = sw - np.trace(F2, axis1=1, axis2=2)
        trPP = sw2 - 2.0 * np.trace(F3, axis1=1, axis2=2) + (F2 * np.swapaxes(F2, 1, 2)).sum(axis=(1, 2))
        return ypp - trP, 2.0 * uPu - trPP, trPP


def _tau2_dl(X, Y, V) -> np.ndarray:
    """DerSimonian-Laird τ² of meta-regression, (QE - (k - p)) / tr(P), ≥ 0, per row."""
    k, p = X.shape
    fe = _Batch(X, Y, V, np.zeros(Y.shape[0]))
    trP = fe.w.sum(axis=1) - np.trace(fe.hat_product(X, 2), axis1=1, axis2=2)
    return np.maximum(0.0, (fe.rss() - (k - p)) / trP)


_FISHER_MAX_ITER = 10_000
_LL0_TOL = float(np.finfo(float).eps ** 0.25)  # metafor's control$tol, used by its ll0check


def _tau2_he(X, Y, V) -> np.ndarray:
    """The Hedges (HE) estimate of every row, (y'My - tr(M diag v)) / (k - p), M = I - X(X'X)⁻¹X'."""
    k, p = X.shape
    M = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
    return (np.einsum("mk,kl,ml->m", Y, M, Y) - V @ np.diag(M)) / (k - p)


def _fisher(X, Y, V, t, reml: bool, tol: float, scale) -> np.ndarray:
    """metafor's Fisher scoring for τ² from ``t``: step = score / information (tr(PP) for
    REML, Σw² for ML), halved while it would take τ² below 0, until a step moves τ² by at
    most ``tol`` times τ² (or times ``scale``, the mean sampling variance, near 0)."""
    t = t.copy()
    out = t.copy()
    live = np.arange(t.size)
    for _ in range(_FISHER_MAX_ITER):
        f, _, info = _Batch(X, Y[live], V[live], t).score(X, reml)
        adj = f / info
        new = t + adj
        below = new < 0
        if below.any():  # halve the step until τ² stays ≥ 0 (at τ² = 0 it stays there)
            with np.errstate(divide="ignore", invalid="ignore"):
                halvings = np.ceil(np.log2(-adj / t))
            new = np.where(below, np.where(t > 0, np.maximum(t + adj / 2.0**halvings, 0.0), 0.0), new)
        done = np.abs(new - t) <= tol * np.maximum(new, scale[live])
        out[live] = t = new
        if done.all():
            break
        live, t = live[~done], t[~done]
    return out


def _newton(X, Y, V, t, reml: bool):
    """Newton steps from each τ² > 0 to the root of the score next to it; returns the roots and
    whether each converged with every step within a factor 2 of τ²."""
    out, ok = t.copy(), np.ones(t.size, dtype=bool)
    live = np.arange(t.size)
    for _ in range(8):
        f, slope, _ = _Batch(X, Y[live], V[live], out[live]).score(X, reml)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = out[live] + f / slope
        good = np.isfinite(new) & (new > 0.5 * out[live]) & (new < 2.0 * out[live])
        ok[live[~good]] = False
        done = ~good | (np.abs(new - out[live]) <= _EPS * out[live])
        out[live] = np.where(good, new, out[live])
        live = live[~done]
        if live.size == 0:
            break
    ok[live] = False
    return out, ok


def _tau2_likelihood(X, Y, V, reml: bool) -> np.ndarray:
    """ML or REML τ² ≥ 0 of every row by metafor's own algorithm, so that a likelihood with
    several local maxima gives the one metafor gives: Fisher scoring from the HE estimate (0
    if negative; :func:`_fisher`) until it settles (1e-4), then Newton steps to machine
    precision on the root it approaches (:func:`_newton`; rows where they do not converge,
    e.g. on the way to τ² = 0, go on with Fisher scoring to 1e-10 instead), then τ² = 0 if
    the likelihood there is higher by more than metafor's ``tol`` (``ll0check``)."""
    scale = V.mean(axis=1)
    tau2 = _fisher(X, Y, V, np.maximum(_tau2_he(X, Y, V), 0.0), reml, 1e-4, scale)
    pos = np.flatnonzero(tau2 > 0)
    if pos.size:
        root, ok = _newton(X, Y[pos], V[pos], tau2[pos], reml)
        tau2[pos[ok]] = root[ok]
        slow = pos[~ok]
        if slow.size:
            tau2[slow] = _fisher(X, Y[slow], V[slow], tau2[slow], reml, 1e-10, scale[slow])
    pos = np.flatnonzero(tau2 > 0)
    if pos.size:
        ll0 = _Batch(X, Y[pos], V[pos], np.zeros(pos.size)).loglik(reml)
        ll = _Batch(X, Y[pos], V[pos], tau2[pos]).loglik(reml)
        tau2[pos[ll0 - ll > _LL0_TOL]] = 0.0
    return tau2


def _tau2_batch(X, Y, V, method: str) -> np.ndarray:
    if method == "FE":
        return np.zeros(Y.shape[0])
    if method == "DL":
        return _tau2_dl(X, Y, V)
    return _tau2_likelihood(X, Y, V, reml=method == "REML")


def fit_statistics(X, Y, V, tau2_method: str, ci_method: str, btt):
    """τ², coefficients, their statistics b/se and the omnibus statistic of every row of
    ``Y``/``V`` (m × k) regressed on ``X`` (k × p), as ``rma(..., method, test)`` reports
    them: QM (χ²) for ``"z"``, F = QM/m for ``"t"`` and ``"knha"`` (Knapp-Hartung scale
    s² = Σ w r² / (k - p), not truncated)."""
    k, p = X.shape
    tau2 = _tau2_batch(X, Y, V, tau2_method)
    fit = _Batch(X, Y, V, tau2)
    vb = fit.Finv
    if ci_method in KNHA_SCALED:
        s2w = fit.rss() / (k - p)
        vb = vb * (np.maximum(s2w, 1.0) if ci_method == "adhoc" else s2w)[:, None, None]
    se = np.sqrt(np.einsum("mii->mi", vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = fit.beta / se
        bb = fit.beta[:, list(btt)]
        sub = vb[:, list(btt)][:, :, list(btt)]
        qm = np.einsum("mi,mi->m", bb, np.linalg.solve(sub, bb[:, :, None])[:, :, 0])
    if ci_method != "z":
        qm = qm / len(btt)
    return tau2, fit.beta, z, qm


# --------------------------------------------------------------------------- permutations


def _row_kinds(X) -> np.ndarray:
    """A code per row of X; equal rows share a code."""
    return np.unique(X, axis=0, return_inverse=True)[1].ravel()


def _as_float(count: int) -> float:
    """An exact integer count as a float: ``inf`` beyond the floats' range (k! of some 170 or more studies
    of two kinds overflows ``float()``), where only the random permutations are used anyway."""
    return float(count) if count.bit_length() <= 1023 else math.inf


def count_distinct_permutations(X) -> int:
    """The number of distinct permutations of X's rows, k! / prod(n_j!) over the kinds of
    equal rows (metafor's ``permutest(res, exact = "i")``), as an exact integer."""
    counts = np.bincount(_row_kinds(np.asarray(X, float)))
    out = math.factorial(int(counts.sum()))
    for c in counts:
        out //= math.factorial(int(c))
    return out


def distinct_arrangements(kinds) -> np.ndarray:
    """Every distinct arrangement of the multiset ``kinds`` (codes 0..J-1), one per row
    (an array of shape (k! / prod(n_j!), k)): the positions of each kind are chosen in
    turn among the positions left, with ``itertools.combinations``."""
    kinds = np.asarray(kinds)
    counts = np.bincount(kinds)
    order = np.argsort(counts, kind="stable")  # the most frequent kind fills what is left
    k = kinds.size
    A = np.full((1, k), order[-1], dtype=np.int32)
    free = np.arange(k)[None, :]
    for j in order[:-1]:
        n_j = int(counts[j])
        if n_j == 0:
            continue
        combos = np.array(list(itertools.combinations(range(free.shape[1]), n_j)), dtype=np.int64)
        N, C = A.shape[0], combos.shape[0]
        chosen = free[:, combos]  # (N, C, n_j) positions
        A = np.repeat(A, C, axis=0)
        A[np.arange(N * C)[:, None], chosen.reshape(N * C, n_j)] = j
        keep = np.ones((C, free.shape[1]), dtype=bool)
        keep[np.arange(C)[:, None], combos] = False
        free = np.repeat(free, C, axis=0)[np.tile(keep, (N, 1))].reshape(N * C, -1)
    return A


def _permuted_data(y, v, kinds, arrangements):
    """(Y, V) for fixed X: arrangement a (the kind of X-row at each position) pairs
    position i's (y_i, v_i) with a row of kind a_i; rows of X of one kind are equal, so
    the data of position i can go to any row of that kind, taken in order."""
    rows_by_kind = np.argsort(kinds, kind="stable")
    pos_by_kind = np.argsort(arrangements, axis=1, kind="stable")
    Y = np.empty(arrangements.shape)
    V = np.empty(arrangements.shape)
    Y[:, rows_by_kind] = y[pos_by_kind]
    V[:, rows_by_kind] = v[pos_by_kind]
    return Y, V


def _check_design(X, k):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != k:
        raise ValueError(f"X must be a k × p matrix with k = {k} rows (got shape {X.shape})")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (found NaN or inf)")
    if k <= X.shape[1]:
        raise ValueError(f"k = {k} studies cannot fit p = {X.shape[1]} coefficients")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("X is rank-deficient: a moderator is constant or a combination of others")
    if np.all(X == X[0]):
        raise ValueError("every row of X is the same: there is nothing to permute")
    return X


def permutation_test(
    y,
    v,
    X,
    tau2_method: str = "REML",
    ci_method: str = "z",
    btt=None,
    coef_names=None,
    exact_max: int = 100_000,
    iterations: int = 1000,
    seed: int = 0,
    chunk: int = 20_000,
) -> PermutationResult:
    """Permutation test of the meta-regression of ``y`` on ``X``, as metafor's
    ``permutest(rma(yi, vi, mods = X, intercept = FALSE, method, test), exact, iter)``.

    Exact (every distinct permutation of X's rows) when there are at most ``exact_max``
    of them, else ``iterations`` random permutations from ``numpy.random.default_rng(seed)``,
    the first being the observed data. ``btt`` (0-based) selects the coefficients of the
    omnibus test, by default every column that is not all ones. ``tau2_method`` is one of
    REML, ML, DL, FE; ``ci_method`` z, t or knha (metafor's ``test``).
    """
    y, v = check_effect_sizes(y, v)
    check_tau2_method(tau2_method, REGRESSION_TAU2)
    check_ci_method(ci_method, CI_METHODS)
    if int(exact_max) < 1 or int(iterations) < 2:
        raise ValueError("exact_max must be >= 1 and iterations >= 2")
    k = y.size
    X = _check_design(X, k)
    p = X.shape[1]
    if btt is None:
        btt = tuple(j for j in range(p) if not np.all(X[:, j] == 1.0)) or (0,)
    btt = tuple(int(b) for b in btt)
    names = tuple(coef_names) if coef_names is not None else tuple(f"X{j}" for j in range(p))
    n_distinct = count_distinct_permutations(X)
    exact = n_distinct <= int(exact_max)
    tau2_obs, b_obs, z_obs, qm_obs = fit_statistics(X, y[None, :], v[None, :], tau2_method, ci_method, btt)
    kinds = _row_kinds(X)
    if exact:
        arrangements = distinct_arrangements(kinds)
        n_perm = arrangements.shape[0]
    else:
        rng = np.random.default_rng(seed)
        n_perm = int(iterations)
        perms = rng.permuted(np.tile(np.arange(k), (n_perm, 1)), axis=1)
        perms[0] = np.arange(k)  # the observed data, as metafor's first permutation
    qm_count, z_count, failed = 0, np.zeros(p), 0
    for c in range(0, n_perm, chunk):
        if exact:
            Y, V = _permuted_data(y, v, kinds, arrangements[c : c + chunk])
        else:
            Y, V = y[perms[c : c + chunk]], v[perms[c : c + chunk]]
        with np.errstate(all="ignore"):
            _, _, z, qm = fit_statistics(X, Y, V, tau2_method, ci_method, btt)
        ok = np.isfinite(qm) & np.all(np.isfinite(z), axis=1)
        failed += int((~ok).sum())
        qm_count += int(np.sum(qm[ok] >= qm_obs[0] - COMPTOL))
        z_count += np.sum(np.abs(z[ok]) >= np.abs(z_obs[0]) - COMPTOL, axis=0)
    used = n_perm - failed
    df = None if ci_method == "z" else k - p
    m = len(btt)
    if df is None:
        pz, qm_p = 2 * norm_sf(np.abs(z_obs[0])), float(chi2_sf(qm_obs[0], m))
    else:
        pz, qm_p = 2 * t_sf(np.abs(z_obs[0]), df), float(f_sf(qm_obs[0], m, df))
    return PermutationResult(
        coef_names=names,
        coef=b_obs[0],
        zval=z_obs[0],
        pval_parametric=pz,
        pval=np.minimum(z_count / used, 1.0),
        QM=float(qm_obs[0]),
        QM_df=(m, df),
        QM_p=qm_p,
        QMp=float(qm_count / used),
        btt=btt,
        exact=bool(exact),
        n_distinct=_as_float(n_distinct),
        n_perm=int(n_perm),
        n_failed=int(failed),
        seed=None if exact else int(seed),
        tau2_method=tau2_method,
        ci_method=ci_method,
        tau2=float(tau2_obs[0]),
        k=int(k),
        p=int(p),
    )
