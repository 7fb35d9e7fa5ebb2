"""Models with a within-study covariance V and a structured random effect, as metafor's
``rma.mv`` with ``struct`` (the block model):

    rma.mv(yi, V, mods = X, random = ~ t | study, struct = "CAR" | "HCS" | "ID")
    rma.mv(yi, V, mods = X, random = list(~ 1 | study, ~ t | arm), struct = ...)

V may link rows of one study (the rates of one cohort at several times), so the marginal
covariance is block-diagonal by study with dense blocks M_i = V_i + sigma2 J + G_i(theta).
Studies are grouped by block size m and each group's blocks are inverted together (arrays
n_m x m x m), so a fit costs O(sum m_i^3 + k p^2): linear in the number of studies, no
k x k matrix. The variance components and correlation are estimated by REML or ML
(Harville, J Am Stat Assoc 1977;72:320-338) on metafor's optimisation scale
(Viechtbauer, J Stat Softw 2010;36(3):1-48); the input checks and the fixed-effect tests
are those of the three-level model (:mod:`sbrtmeta.stats.multilevel`).

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from sbrtmeta.stats.distributions import chi2_sf
from sbrtmeta.stats.inference import (
    Coefficients,
    FixedEffects,
    Heterogeneity,
    Prediction,
    check_level,
    critical_value,
    predict_rows,
)
from sbrtmeta.stats.multilevel import _LOG2PI, _check, _fixed_effects, _labels, _names

BLOCK_STRUCTS = ("CAR", "HCS", "ID")


@dataclass(frozen=True)
class BlockModelResult(Coefficients):
    """A fitted ``rma.mv`` model with a within-study covariance matrix V and a random
    effect ``~ t | inner`` of structure ``struct``, optionally with a study intercept
    (``random = list(~ 1 | study, ~ t | inner)``).

    The random effect of row a of study i is ``u_i + g_{i, inner_a}(t_a)`` with
    ``Cov(g(t_a), g(t_b)) = tau2 rho^|t_a - t_b|`` within one inner group (``CAR``,
    continuous-time autoregressive: Jones, Longitudinal Data with Serial Correlation,
    1993), ``sqrt(tau2_a tau2_b) rho`` for different levels of t and ``tau2_a`` for
    the same (``HCS``, heteroscedastic compound symmetry, t as a factor) or
    ``tau2 [t_a = t_b]`` (``ID``); 0 across inner groups. metafor's parameterisation
    (``.con.E`` in ``misc.func.hidden.rma.mv.r``): variances optimised on the log scale,
    the CAR correlation on the logit scale, the HCS one on the atanh scale; REML or ML
    (Harville 1977). As metafor, an HCS level of t that occurs once has its tau2 fixed
    at 0.

    Attributes
    ----------
    fixed : the fixed effects (:class:`~sbrtmeta.stats.inference.FixedEffects`), as
        ``res$beta``, ``vcov(res)`` etc., with the omnibus test of the moderators; forwarded
        as ``coef``, ``se``, ``zval``, ``pval``, ``ci_low``, ``ci_high``, ``vcov``, ``QM``,
        ``QM_df``, ``QM_p``, ``btt``, ``df`` (k - p for t), ``level``, ``coef_names``, ``p``.
    heterogeneity : test for residual heterogeneity (QE, with V^-1 as weights); forwarded
        as ``q``, ``q_df``, ``q_p``.
    loglik : (restricted) log-likelihood, as ``logLik(res)``.
    tau2 : the structure's variance(s) (``res$tau2``; one per level for HCS).
    tau2_levels : the levels of t of the HCS variances (empty otherwise).
    rho : the correlation (``res$rho``; NaN for ID).
    sigma2 : the study intercept's variance (``res$sigma2``), NaN when not in the model.
    weights : per-row weights in percent, ``diag(M^-1)`` normalised (``weights(res)``).
    k, n_studies, n_groups : rows, studies, inner groups.
    struct, tau2_method, ci_method, X, intercept_only, n_iter : what was fitted.
    """

    fixed: FixedEffects
    heterogeneity: Heterogeneity
    loglik: float
    tau2: np.ndarray
    tau2_levels: np.ndarray
    rho: float
    sigma2: float
    weights: np.ndarray
    k: int
    n_studies: int
    n_groups: int
    struct: str
    tau2_method: str
    ci_method: str
    X: np.ndarray
    intercept_only: bool
    n_iter: int


def _covariance_blocks(V, k: int):
    """``V`` as COO triplets ``(rows, cols, values)``: a 1-d array of variances, a dense k x k
    array or a scipy sparse matrix."""
    from scipy import sparse

    if sparse.issparse(V):
        if V.shape != (k, k):
            raise ValueError(f"V must be k x k (k = {k}), got {V.shape}")
        C = sparse.coo_matrix(V)
        return C.row.astype(np.int64), C.col.astype(np.int64), C.data.astype(float)
    A = np.asarray(V, dtype=float)
    if A.ndim == 1:
        if A.size != k:
            raise ValueError(f"v must have one variance per effect size (k = {k})")
        return np.arange(k), np.arange(k), A
    if A.shape != (k, k):
        raise ValueError(f"V must be k x k (k = {k}), got {A.shape}")
    r, c = np.nonzero(A)
    return r, c, A[r, c]


class _DenseBlocks:
    """Per-study blocks of y, X, V and of the random structure, grouped by block size."""

    def __init__(self, y, V, s_code, g_code, t, X, struct: str, study_effect: bool, study_labels=None):
        k, p = X.shape
        order = np.argsort(s_code, kind="stable")
        s_sorted = s_code[order]
        start = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
        size = np.diff(np.r_[start, k])
        self.k, self.p, self.n_studies = k, p, start.size
        self.struct, self.study_effect = struct, study_effect
        pos = np.empty(k, dtype=np.int64)  # position of each row within its block
        pos[order] = np.arange(k) - np.repeat(start, size)
        blk = np.empty(k, dtype=np.int64)  # block (study) of each row
        blk[order] = np.repeat(np.arange(start.size), size)
        study_names = np.empty(start.size, dtype=object)  # a label per block, for messages
        study_names[blk] = np.asarray(study_labels if study_labels is not None else s_code, dtype=object)
        rows, cols, vals = _covariance_blocks(V, k)
        if np.any(blk[rows] != blk[cols]):
            raise ValueError("V links rows of different studies: it must be block-diagonal by study")
        if not np.allclose(vals, _covariance_value(rows, cols, vals, k)):
            raise ValueError("V must be symmetric")
        levels, lev = np.unique(t, return_inverse=True)
        self.levels = levels
        lev = lev.reshape(-1)
        # HCS: a level of t that occurs once has its variance fixed at 0 (as metafor)
        counts = np.bincount(lev, minlength=levels.size)
        self.free_levels = counts > 1 if struct == "HCS" else np.ones(levels.size, bool)
        self.groups = []
        self.logdet_XtX = float(np.linalg.slogdet(X.T @ X)[1])
        for m in np.unique(size):
            studies = np.flatnonzero(size == m)
            idx = order[start[studies][:, None] + np.arange(m)[None, :]]  # n_m x m row indices
            where = np.full(start.size, -1, dtype=np.int64)
            where[studies] = np.arange(studies.size)
            Vb = np.zeros((studies.size, m, m))
            sel = where[blk[rows]] >= 0
            Vb[where[blk[rows[sel]]], pos[rows[sel]], pos[cols[sel]]] = vals[sel]
            ev = np.linalg.eigvalsh(Vb)
            singular = ev[:, 0] <= 1e-12 * np.maximum(ev[:, -1], 1e-300)  # e.g. two equal rates of a cohort
            tb, gb, lb = t[idx], g_code[idx], lev[idx]
            same = (gb[:, :, None] == gb[:, None, :]).astype(float)
            self.groups.append(
                SimpleNamespace(
                    idx=idx,
                    y=y[idx],
                    X=X[idx],
                    V=Vb,
                    A=same,
                    D=np.abs(tb[:, :, None] - tb[:, None, :]),
                    L=lb,
                    same_level=(lb[:, :, None] == lb[:, None, :]),
                    singular=singular,
                    names=study_names[studies],
                )
            )
        self.n_groups = int(np.unique(np.column_stack([s_code, g_code]), axis=0).shape[0])

    # --- parameters: natural <-> metafor's optimisation scale ---------------------------

    def n_tau2(self) -> int:
        return int(self.free_levels.sum()) if self.struct == "HCS" else 1

    def unpack(self, theta):
        """``(sigma2, tau2 per level or scalar, rho)`` from the optimisation vector."""
        i = 0
        sigma2 = 0.0
        if self.study_effect:
            sigma2, i = float(np.exp(theta[0])), 1
        nt = self.n_tau2()
        if self.struct == "HCS":
            tau2 = np.zeros(self.levels.size)
            tau2[self.free_levels] = np.exp(theta[i : i + nt])
        else:
            tau2 = float(np.exp(theta[i]))
        i += nt
        rho = np.nan
        if self.struct == "CAR":
            rho = float(1.0 / (1.0 + np.exp(-theta[i])))
        elif self.struct == "HCS":
            rho = float(np.tanh(theta[i]))
        return sigma2, tau2, rho

    def degenerate(self, theta):
        """The first study whose V block is singular and whose M block is (nearly) singular at
        ``theta`` too, or None. With a singular V (two equal rates of one cohort: under the
        binomial approximation without censoring they are one estimate) the likelihood is
        unbounded as the random effects' variance in that direction goes to 0: an optimum there
        is no estimate."""
        for grp in self.groups:
            if not grp.singular.any():
                continue
            M = self._components(grp, theta)[0][grp.singular]
            ev = np.linalg.eigvalsh(M)
            bad = ev[:, 0] <= 1e-8 * ev[:, -1]
            if bad.any():
                return grp.names[np.flatnonzero(grp.singular)[np.flatnonzero(bad)[0]]]
        return None

    def _components(self, grp, theta):
        """The block covariances M and their derivatives along each element of theta."""
        sigma2, tau2, rho = self.unpack(theta)
        derivs = []
        if self.struct == "ID":
            G = tau2 * grp.A * grp.same_level
            derivs.append(G)
        elif self.struct == "CAR":
            R = grp.A * np.where(grp.D == 0, 1.0, rho**grp.D)
            G = tau2 * R
            derivs += [G, tau2 * grp.A * grp.D * np.where(grp.D == 0, 0.0, rho**grp.D) * (1.0 - rho)]
        else:  # HCS
            sd = np.sqrt(tau2)[grp.L]
            C = np.where(grp.same_level, 1.0, rho)
            G = grp.A * sd[:, :, None] * sd[:, None, :] * C
            for lvl in np.flatnonzero(self.free_levels):
                on = (grp.L == lvl).astype(float)
                derivs.append(G * 0.5 * (on[:, :, None] + on[:, None, :]))
            derivs.append(grp.A * sd[:, :, None] * sd[:, None, :] * (~grp.same_level) * (1.0 - rho**2))
        M = grp.V + G
        if self.study_effect:
            M = M + sigma2
            derivs.insert(0, np.full(M.shape, sigma2))
        return M, derivs

    def evaluate(self, theta, reml: bool, grad: bool = True):
        """``(ll, gradient along theta, beta, (X' M^-1 X)^-1, extras)``; ll = -inf where M
        or X' M^-1 X is not positive definite."""
        p = self.p
        H = np.zeros((p, p))
        b = np.zeros(p)
        logdet = 0.0
        parts = []
        for grp in self.groups:
            M, derivs = self._components(grp, theta)
            if not np.all(np.isfinite(M)):
                return -np.inf, None, None, None, None
            try:
                Lc = np.linalg.cholesky(M)
                Mi = np.linalg.inv(M)
            except np.linalg.LinAlgError:
                return -np.inf, None, None, None, None
            logdet += 2.0 * float(np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum())
            MiX = Mi @ grp.X
            H += np.einsum("nap,naq->pq", grp.X, MiX)
            b += np.einsum("nap,na->p", MiX, grp.y)
            parts.append((grp, Mi, MiX, derivs))
        try:
            Lh = np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return -np.inf, None, None, None, None
        Hinv = np.linalg.inv(H)
        beta = Hinv @ b
        rss = 0.0
        qs = []
        for grp, Mi, _, _ in parts:
            r = grp.y - grp.X @ beta
            q = np.einsum("nab,nb->na", Mi, r)
            rss += float((r * q).sum())
            qs.append(q)
        if reml:
            ll = -0.5 * (
                (self.k - p) * _LOG2PI - self.logdet_XtX + logdet + 2.0 * float(np.log(np.diag(Lh)).sum()) + rss
            )
        else:
            ll = -0.5 * (self.k * _LOG2PI + logdet + rss)
        extras = SimpleNamespace(parts=parts, qs=qs)
        if not grad:
            return ll, None, beta, Hinv, extras
        n_par = len(parts[0][3])
        g = np.zeros(n_par)
        for (_, Mi, MiX, derivs), q in zip(parts, qs):
            # grad_j = -1/2 (tr(P dM_j) - q' dM_j q) = -1/2 sum(Q o dM_j) with, per block,
            # Q = M^-1 - [REML] M^-1 X H^-1 X' M^-1 - q q' (all symmetric)
            Q = Mi - q[:, :, None] * q[:, None, :]
            if reml:
                Q = Q - np.einsum("nap,pq,nbq->nab", MiX, Hinv, MiX)
            for j, dM in enumerate(derivs):
                g[j] += -0.5 * float((Q * dM).sum())
        return ll, g, beta, Hinv, extras


def _covariance_value(rows, cols, vals, k):
    """The value at (col, row) of each (row, col) entry, for the symmetry check."""
    key = rows * k + cols
    tkey = cols * k + rows
    order = np.argsort(key)
    pos = np.searchsorted(key[order], tkey)
    pos = np.minimum(pos, key.size - 1)
    hit = key[order][pos] == tkey
    return np.where(hit, vals[order][pos], 0.0)


def _start_theta(blocks: _DenseBlocks, y, X, rho0: float):
    """Starting values: the residual variance of the fixed-effects fit beyond the sampling
    variance, shared among the components, and ``rho0``."""
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    mean_v = float(np.mean(np.concatenate([np.diagonal(g.V, axis1=1, axis2=2).ravel() for g in blocks.groups])))
    total = max(0.01, float(np.var(y - X @ beta, ddof=1)) - mean_v)
    n_var = blocks.n_tau2() + int(blocks.study_effect)
    share = np.log(total / (2.0 if blocks.study_effect else 1.0))
    th = [share] * (int(blocks.study_effect) + blocks.n_tau2())
    del n_var
    if blocks.struct == "CAR":
        th.append(float(np.log(rho0 / (1.0 - rho0))))
    elif blocks.struct == "HCS":
        th.append(float(np.arctanh(rho0)))
    return np.array(th, dtype=float)


def _optimise_blocks(blocks: _DenseBlocks, reml: bool, y, X):
    """Maximum of the (restricted) likelihood on metafor's scale: quasi-Newton from a few
    starting correlations, then Newton steps on a numerical Hessian of the exact
    gradient until the step is below 1e-10."""
    from scipy import optimize

    def fun(th):
        if not np.all(np.isfinite(th)) or np.any(np.abs(th) > 50.0):
            return np.inf, np.zeros_like(th)
        ll, g, *_ = blocks.evaluate(th, reml)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(th)
        return -ll, -g

    def stationary(th):
        g = fun(th)[1]
        inside = np.abs(th) < 25.0
        return bool(np.all(np.isfinite(g)) and np.all(np.abs(g[inside]) <= 1e-4))

    candidates, n_iter = [], 0
    starts = (0.5,) if blocks.struct == "ID" else (0.2, 0.5, 0.8)
    for rho0 in starts:
        th0 = _start_theta(blocks, y, X, rho0)
        res = optimize.minimize(fun, th0, jac=True, method="BFGS", options=dict(gtol=1e-9, maxiter=2000))
        th, ll, it = _newton_polish(fun, np.clip(res.x, -30.0, 30.0))
        n_iter += int(res.nit) + it
        if not stationary(th):  # e.g. a line search that met a non-finite likelihood: bounded quasi-Newton
            res = optimize.minimize(
                fun,
                th0,
                jac=True,
                method="L-BFGS-B",
                bounds=[(-30.0, 30.0)] * th0.size,
                options=dict(gtol=1e-10, ftol=1e-15, maxiter=5000),
            )
            th, ll, it = _newton_polish(fun, np.clip(res.x, -30.0, 30.0))
            n_iter += int(res.nit) + it
        # rank: a stationary point where the likelihood is bounded first, then the likelihood
        candidates.append((stationary(th) and blocks.degenerate(th) is None, ll, th))
    best = max(candidates, key=lambda c: (c[0], c[1]))
    return best[2], n_iter


def _newton_polish(fun, th, max_iter: int = 50):
    """Newton steps with a central-difference Hessian of the exact gradient, with step
    halving; stops when the step is below 1e-10 or the parameters run off to a boundary."""
    f, g = fun(th)
    for it in range(1, max_iter + 1):
        h = 1e-5
        H = np.empty((th.size, th.size))
        for j in range(th.size):
            e = np.zeros(th.size)
            e[j] = h
            H[:, j] = (fun(th + e)[1] - fun(th - e)[1]) / (2.0 * h)
        H = 0.5 * (H + H.T)
        try:
            if np.any(np.linalg.eigvalsh(H) <= 0):
                return th, -f, it
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            return th, -f, it
        t = 1.0
        while t > 1e-8:
            new = th + t * step
            fn, gn = fun(new)
            if fn <= f + 1e-12 * max(1.0, abs(f)):
                break
            t *= 0.5
        else:
            return th, -f, it
        th, f, g = new, fn, gn
        if np.all(np.abs(t * step) < 1e-10) or np.any(np.abs(th) > 30.0):
            return th, -f, it
    return th, -f, max_iter


def fit_block_model(
    y,
    V,
    study,
    time,
    X=None,
    inner=None,
    struct: str = "CAR",
    study_effect: bool = False,
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
    coef_names=None,
) -> BlockModelResult:
    """Fit ``rma.mv(y, V, mods = X, random = ~ time | inner, struct = struct)``, with
    ``list(~ 1 | study, ~ time | inner)`` when ``study_effect``.

    Parameters
    ----------
    y : effect sizes (k).
    V : their sampling covariance: variances (1-d), or a k x k dense or scipy sparse
        matrix, block-diagonal by ``study``.
    study : labels of the studies (the blocks; rows of different studies are independent).
    time : numeric time of each row (CAR distances are in its units; levels for HCS, ID).
    X : design matrix with the intercept column if wanted (default: intercept only).
    inner : labels of the inner groups of the structured effect (nested in ``study``;
        default: the study itself, i.e. ``~ time | study``).
    struct : ``"CAR"``, ``"HCS"`` or ``"ID"``.
    tau2_method : ``"REML"`` or ``"ML"``; ci_method : ``"z"`` or ``"t"`` (k - p df).
    coef_names : names of the columns of X (as :func:`~sbrtmeta.stats.multilevel.fit_multilevel`).

    Raises ValueError for bad input (see :func:`~sbrtmeta.stats.multilevel.fit_multilevel`), a V that links
    studies or is not symmetric, an unknown struct, a fit that ends where a singular block
    of V (two equal rates of one cohort) makes the likelihood unbounded (rma.mv does not
    converge there either; an interior maximum with a singular V is kept, as metafor keeps
    it), and RuntimeError when the likelihood cannot be maximised.
    """
    y = np.asarray(y, dtype=float)
    k = y.size
    if struct not in BLOCK_STRUCTS:
        raise ValueError(f"struct {struct!r} is not one of {BLOCK_STRUCTS}")
    diag = _covariance_blocks(V, k) if k else (np.array([]),) * 3
    v = np.zeros(k)
    on = diag[0] == diag[1]
    v[diag[0][on]] = diag[2][on]
    y, v, s_code, _, X = _check(y, v, study, np.zeros(k), X, tau2_method, ci_method, level)
    t = np.asarray(time, dtype=float)
    if t.shape != (k,) or not np.all(np.isfinite(t)):
        raise ValueError(f"time must be {k} finite numbers")
    g_code = s_code if inner is None else _labels(inner, "inner", k)
    if inner is not None:  # inner groups are nested in studies
        g_code = np.unique(np.column_stack([s_code, g_code]), axis=0, return_inverse=True)[1].reshape(-1)
    blocks = _DenseBlocks(y, V, s_code, g_code, t, X, struct, study_effect, study_labels=np.asarray(study))
    reml = tau2_method == "REML"
    theta, n_iter = _optimise_blocks(blocks, reml, y, X)
    stuck = blocks.degenerate(theta)
    if stuck is not None:
        raise ValueError(
            f"the sampling covariance V of study {stuck} is singular (two equal rates of one cohort are one "
            "estimate under the binomial approximation) and the likelihood runs off to infinity as the "
            "random effects' variance goes to 0: no estimate"
        )
    score = blocks.evaluate(theta, reml)[1]
    inside = np.abs(theta) < 25.0  # a component run off to its boundary (variance 0, rho 0 or 1) has no zero score
    if score is None or np.any(np.abs(score[inside]) > 1e-4):
        raise RuntimeError("block model: the (restricted) likelihood was not maximised (score not 0 at the end)")
    ll, _, beta, vb, extras = blocks.evaluate(theta, reml, grad=False)
    if not np.isfinite(ll):
        raise RuntimeError("block model: likelihood not finite at the optimum")
    sigma2, tau2, rho = blocks.unpack(theta)
    w = np.empty(k)
    for grp, Mi, _, _ in extras.parts:
        w[grp.idx] = np.diagonal(Mi, axis1=1, axis2=2)
    q, q_df, q_p = _block_residual_q(blocks)
    return BlockModelResult(
        **_fixed_effects(beta, vb, X, _names(coef_names, X), ci_method, level, tau2_method, n_iter),
        heterogeneity=Heterogeneity(q=q, q_df=int(q_df), q_p=q_p),
        loglik=float(ll),
        tau2=np.atleast_1d(np.asarray(tau2, dtype=float)),
        tau2_levels=blocks.levels.copy() if struct == "HCS" else np.array([]),
        rho=float(rho),
        sigma2=float(sigma2) if study_effect else np.nan,
        weights=100.0 * w / w.sum(),
        n_studies=int(blocks.n_studies),
        n_groups=int(blocks.n_groups),
        struct=struct,
    )


def _block_residual_q(blocks: _DenseBlocks):
    """QE: the generalised least-squares residual sum of squares with V^-1 as weights
    (NaN when V is singular, e.g. two equal rates of one cohort: metafor gives none either)."""
    p = blocks.p
    H, b, yy = np.zeros((p, p)), np.zeros(p), 0.0
    q_df = blocks.k - p
    for grp in blocks.groups:
        try:
            np.linalg.cholesky(grp.V)
        except np.linalg.LinAlgError:
            return np.nan, q_df, np.nan
        Vi = np.linalg.inv(grp.V)
        ViX = Vi @ grp.X
        H += np.einsum("nap,naq->pq", grp.X, ViX)
        b += np.einsum("nap,na->p", ViX, grp.y)
        yy += float(np.einsum("na,nab,nb->", grp.y, Vi, grp.y))
    if q_df == 0:
        return 0.0, q_df, 1.0
    q = float(yy - b @ np.linalg.solve(H, b))
    return q, q_df, float(chi2_sf(q, q_df))


def predict_block_model(result: BlockModelResult, newX, time=None, level: float | None = None) -> Prediction:
    """Predictions with CI and PI at design rows ``newX``, as ``predict(res, newmods)``.

    The prediction interval adds the random effects' variance of a new row: ``sigma2 +
    tau2`` (CAR, ID), and for HCS ``sigma2 + tau2`` of the level ``time`` (metafor's
    ``tau2.levels``; NaN at a time that is not a level).
    """
    level = result.level if level is None else check_level(level)
    Xn = np.atleast_2d(np.asarray(newX, dtype=float))
    if Xn.shape[1] != result.p:
        raise ValueError(f"newX must have {result.p} columns (the model's design), got shape {Xn.shape}")
    extra = 0.0 if np.isnan(result.sigma2) else result.sigma2
    if result.struct == "HCS":
        t = np.broadcast_to(np.asarray(time, dtype=float), (Xn.shape[0],))
        lvl = {float(x): float(tv) for x, tv in zip(result.tau2_levels, result.tau2)}
        tau2 = np.array([lvl.get(float(x), np.nan) for x in t])
        pr = predict_rows(Xn, result.coef, result.vcov, 0.0, result.df, level)
        crit = critical_value(level, result.df)
        pi_se = np.sqrt(pr.se**2 + tau2 + extra)
        return Prediction(
            pr.pred, pr.se, pr.ci_low, pr.ci_high, pr.pred - crit * pi_se, pr.pred + crit * pi_se, pr.df, level
        )
    return predict_rows(Xn, result.coef, result.vcov, float(result.tau2[0]) + extra, result.df, level)
