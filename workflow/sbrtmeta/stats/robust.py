"""Cluster-robust (CR2) inference for a fitted meta-analytic model, as metafor's
``robust(fit, cluster = study, clubSandwich = TRUE)``.

When one study gives several rows (dose arms), a model whose random effects are wrong
misstates the coefficients' standard errors. The cluster-robust sandwich estimator
does not rely on the working covariance being right; with few clusters its bias
reduced form CR2 (Bell & McCaffrey, Surv Methodol 2002;28:169-181) with
Satterthwaite degrees of freedom for each coefficient and the Hotelling-T² "HTZ" test
for several coefficients (Tipton, Psychol Methods 2015;20:375-393; Tipton & Pustejovsky,
J Educ Behav Stat 2015;40:604-634; Pustejovsky & Tipton, J Bus Econ Stat
2018;36:672-683) keeps tests close to their nominal level. metafor's ``robust`` with
``clubSandwich = TRUE`` calls ``clubSandwich::vcovCR(type = "CR2")``, ``coef_test(test =
"Satterthwaite")``, ``conf_int`` and ``Wald_test(test = "HTZ")``; this module computes
the same quantities.

With the working covariance V (block-diagonal by cluster), weights W = V⁻¹ (the model's
own, clubSandwich's ``inverse_var``), M = (X'WX)⁻¹ and residuals r = y - Xb:

* A_j = R_j' [R_j (I - X_j M X_j' W_j) V_j R_j']^(-1/2) R_j, R_j the upper Cholesky
  factor of V_j (eigenvalues below 1e-12 dropped, as clubSandwich's ``matrix_power``);
* V_CR2 = M [Σ_j X_j' W_j A_j r_j r_j' A_j W_j X_j] M;
* the Satterthwaite df of coefficient i is (tr P_i)² / ||P_i||²_F with
  P_i = diag_j(||g_ij||²) - H_i'H_i, g_ij = (M X_j' W_j A_j R_j')_i and
  H_ij = (M X_j' W_j A_j X_j L)_i, L L' = M (clubSandwich's ``get_P_array``);
* HTZ: ν = q(q+1) / Σ Var(Ω^(-1/2) C V_CR2 C' Ω^(-1/2)), F = (ν - q + 1)/ν · Q/q on
  (q, ν - q + 1) df, Q = (Cb)'(C V_CR2 C')⁻¹(Cb) (``Wald_testing``, ``total_variance_mat``).

Functions take arrays and return result objects; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.stats.distributions import f_sf
from sbrtmeta.stats.inference import Coefficients, FixedEffects, check_level


@dataclass(frozen=True)
class RobustResult(Coefficients):
    """CR2 cluster-robust tests of a model's coefficients, as ``robust(fit, cluster,
    clubSandwich = TRUE)``.

    Attributes
    ----------
    fixed : the coefficients (:class:`~sbrtmeta.stats.inference.FixedEffects`): the
        model's names and estimates (unchanged by ``robust``), the CR2 covariance matrix,
        Satterthwaite degrees of freedom, one per coefficient (metafor's ``ddf``), and the
        HTZ test of the coefficients ``btt``: F on ``(q, ν - q + 1)`` df (metafor's ``QM``,
        ``QMdf``, ``QMp``; NaN when it cannot be formed). Forwarded: ``coef``, ``se`` (CR2),
        ``zval`` (t statistics; also ``tval``), ``pval`` (on t(df)), ``ci_low``,
        ``ci_high`` (t(df) intervals at ``level``), ``vcov``, ``df``, ``QM``, ``QM_df``,
        ``QM_p``, ``btt``, ``level``, ``coef_names``, ``p``.
    loglik : the fitted model's log-likelihood, as given (``robust`` keeps the fit's
        ``logLik``; NaN when not given).
    n_clusters : clusters (studies).
    """

    fixed: FixedEffects
    loglik: float
    n_clusters: int


def marginal_covariance(vi, study=None, arm=None, sigma2=None, tau2: float | None = None) -> np.ndarray:
    """The model's marginal covariance of the rows: ``diag(vi + tau2)`` for ``rma``, or for
    ``rma.mv(random = ~ 1 | study/arm)`` ``diag(vi) + σ²_study [same study] + σ²_arm [same
    study and arm]`` with ``sigma2 = (σ²_study, σ²_arm)``."""
    vi = np.asarray(vi, dtype=float)
    if sigma2 is None:
        return np.diag(vi + float(tau2 or 0.0))
    s = pd.Index(np.asarray(study).astype(str))
    a = pd.Index([f"{x}\x00{y}" for x, y in zip(s, np.asarray(arm).astype(str))])
    same_study = (s.to_numpy()[:, None] == s.to_numpy()[None, :]).astype(float)
    same_arm = (a.to_numpy()[:, None] == a.to_numpy()[None, :]).astype(float)
    return np.diag(vi) + float(sigma2[0]) * same_study + float(sigma2[1]) * same_arm


def _matrix_power(A, power: float) -> np.ndarray:
    """A^power of a symmetric matrix by its eigenvalues, those <= 1e-12 set to 0
    (clubSandwich's ``matrix_power``)."""
    vals, vecs = np.linalg.eigh((A + A.T) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(vals > 1e-12, np.abs(vals) ** power, 0.0)
    return (vecs * p) @ vecs.T


def _clusters(cluster, k: int) -> list:
    c = np.asarray(cluster).astype(str)
    if c.ndim != 1 or c.size != k:
        raise ValueError(f"cluster must give one label per row (k = {k})")
    codes, levels = pd.factorize(pd.Index(c), sort=True)
    if levels.size < 2:
        raise ValueError("cluster-robust variance needs at least 2 clusters")
    return [np.flatnonzero(codes == j) for j in range(levels.size)]


def robust_cr2(
    y, X, V, cluster, btt=None, level: float = 0.95, coef_names=None, loglik: float = float("nan")
) -> RobustResult:
    """CR2 cluster-robust tests of the GLS fit of ``y`` on ``X`` with working covariance
    ``V`` (k × k; rows of different clusters must be uncorrelated), as metafor's
    ``robust(fit, cluster, clubSandwich = TRUE)`` for an ``rma.uni`` or ``rma.mv`` fit
    whose marginal covariance is V (:func:`marginal_covariance`). ``btt`` (0-based)
    selects the coefficients of the HTZ test; by default all but an all-ones column.
    ``loglik`` is the fitted model's log-likelihood, kept as metafor's ``robust`` keeps it.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    V = np.asarray(V, dtype=float)
    level = check_level(level)
    k, p = X.shape
    if y.shape != (k,) or V.shape != (k, k):
        raise ValueError("y must have k values and V be k × k for X with k rows")
    groups = _clusters(cluster, k)
    for g in groups:
        outside = np.setdiff1d(np.arange(k), g)
        if np.any(V[np.ix_(g, outside)] != 0.0):
            raise ValueError("V correlates rows of different clusters: the random effects are not nested in them")
    if btt is None:
        btt = tuple(j for j in range(p) if not np.all(X[:, j] == 1.0)) or (0,)
    btt = tuple(int(b) for b in btt)
    W = [np.linalg.inv(V[np.ix_(g, g)]) for g in groups]
    Xs = [X[g] for g in groups]
    M = np.linalg.inv(sum(x.T @ w @ x for x, w in zip(Xs, W)))
    b = M @ sum(x.T @ w @ y[g] for x, w, g in zip(Xs, W, groups))
    r = y - X @ b
    E, Gs = [], []  # X_j' W_j A_j and its product with R_j'
    for x, w, g in zip(Xs, W, groups):
        Vj = V[np.ix_(g, g)]
        R = np.linalg.cholesky(Vj).T  # upper, R'R = V_j
        IH = np.eye(len(g)) - x @ M @ x.T @ w
        A = R.T @ _matrix_power(R @ IH @ Vj @ R.T, -0.5) @ R
        E.append(x.T @ w @ A)
        Gs.append(M @ E[-1] @ R.T)
    comps = np.column_stack([e @ r[g] for e, g in zip(E, groups)])  # p × J
    vcov = M @ comps @ comps.T @ M
    L = np.linalg.cholesky(M)
    H = np.stack([M @ e @ x @ L for e, x in zip(E, Xs)])  # J × p × p
    G2 = np.stack([np.sum(g * g, axis=1) for g in Gs])  # J × p
    df = np.empty(p)
    for i in range(p):
        P = -H[:, i, :] @ H[:, i, :].T + np.diag(G2[:, i])
        df[i] = np.trace(P) ** 2 / np.sum(P * P)
    names = tuple(coef_names) if coef_names is not None else tuple(f"X{j}" for j in range(p))
    omnibus = _htz(b, vcov, H, Gs, btt)
    return RobustResult(
        fixed=FixedEffects(names, b, vcov, df, level, btt, omnibus=omnibus),
        loglik=float(loglik),
        n_clusters=len(groups),
    )


def _htz(b, vcov, H, Gs, btt):
    """The HTZ Wald test of the coefficients ``btt`` (clubSandwich's ``Wald_test(test = "HTZ")``
    as metafor's ``robust`` reports it: F truncated at 0, denominator df at 0)."""
    q = len(btt)
    C = np.eye(b.size)[list(btt)]
    CH = np.einsum("qp,jpu->qju", C, H)  # q × J × u
    CG = [C @ g for g in Gs]
    P = -np.einsum("sau,tbu->stab", CH, CH)
    for j, g in enumerate(CG):
        P[:, :, j, j] += g @ g.T
    Omega = np.einsum("staa->st", P)
    On = _matrix_power(Omega, -0.5)
    B = np.einsum("is,stab,tj->ijab", On, P, On)
    var = np.empty((q, q))
    for s in range(q):
        for t in range(s + 1):
            var[s, t] = var[t, s] = np.sum(B[s, t] * B[t, s]) + np.sum(B[s, s] * B[t, t])
    nu = q * (q + 1) / np.sum(var)
    Cb = C @ b
    try:
        Q = float(Cb @ np.linalg.solve(C @ vcov @ C.T, Cb))
    except np.linalg.LinAlgError:
        return float("nan"), (q, float("nan")), float("nan")
    delta = max((nu - q + 1) / nu, 0.0)
    df2 = nu - q + 1
    F = delta * Q / q
    p = float(f_sf(F, q, df2)) if df2 > 0 else float("nan")
    return max(0.0, F), (q, max(0.0, df2)), p
