"""Three-level random-effects model: arms nested in studies, as metafor's ``rma.mv``.

The model for arm (or row) ``j`` of study ``i`` is

    y_ij = x_ij' beta + u_i + w_ij + e_ij,
    u_i ~ N(0, sigma2_study), w_ij ~ N(0, sigma2_arm), e_ij ~ N(0, v_ij),

that is ``rma.mv(yi, vi, random = ~ 1 | study/arm, mods = X, method, test)``
(Konstantopoulos, Res Synth Methods 2011;2:61-76; Van den Noortgate et al., Behav
Res Methods 2013;45:576-594; Viechtbauer, J Stat Softw 2010;36(3):1-48). The
variance components are estimated by (restricted) maximum likelihood (Harville,
J Am Stat Assoc 1977;72:320-338), the fixed effects by generalised least squares
given them, with Wald-type z tests or t tests on k - p degrees of freedom as
metafor's ``test = "t"`` with ``dfs = "residual"``.

Computation. The marginal covariance is block-diagonal by study,
``V_i = diag(v) + sigma2_arm * Z_a Z_a' + sigma2_study * 1 1'`` (``Z_a`` groups the
rows of one arm; it is the identity when every row is its own arm), so two nested
Sherman-Morrison updates give every quadratic form ``a' V^-1 b`` and
``log det V`` in closed form. The (restricted) log-likelihood, its gradient and
its exact Hessian (Harville 1977), and the GLS estimates then cost O(k p^2); no
k x k matrix is formed. The likelihood is maximised over the variances
themselves, sigma2 >= 0, by projected Newton steps (Fisher scoring where the
Hessian is not negative definite) with step halving and an active set at 0: a
component whose score at 0 is <= 0 is reported as exactly 0, where metafor's
nlminb, which works on log(sigma2), stops at some tiny positive value. Newton
starts where rma.mv starts; when it ends on an edge (one component 0), both edges
are also searched, since the likelihood can have a second local maximum there.

Studies with a single arm contribute to both components only through their sum;
at least one study must have two or more arms for the components to be
separately identifiable (otherwise ValueError; use the two-level model).

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from scipy import stats

from sbrtmeta.stats.inference import (
    LIKELIHOOD_TAU2,
    T_CI,
    Coefficients,
    FixedEffects,
    Heterogeneity,
    Prediction,
    check_ci_method,
    check_effect_sizes,
    check_level,
    check_tau2_method,
    critical_value,
    default_names,
    predict_rows,
)

_LOG2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class MultilevelResult(Coefficients):
    """A fitted three-level model, on the scale of the effect sizes, as metafor's
    ``rma.mv(yi, vi, random = ~ 1 | study/arm, mods = X, method, test)``
    (Konstantopoulos, Res Synth Methods 2011;2:61-76).

    Attributes
    ----------
    fixed : the fixed effects (:class:`~sbrtmeta.stats.inference.FixedEffects`, one per
        column of the design matrix): names, estimates, covariance, df (k - p, at least 1,
        as metafor, for ``ci_method == "t"``; None for z), level and the omnibus Wald test
        of the coefficients ``btt`` (all but the intercept when the model has one and
        p > 1, else all): χ² on ``QM_df = (m, None)``, or for ``"t"`` F = QM/m on
        ``(m, df)``. Forwarded as ``coef``, ``se``, ``zval`` (``tval``), ``pval``,
        ``ci_low``, ``ci_high``, ``vcov``, ``QM``, ``QM_df``, ``QM_p``, ``btt``, ``df``,
        ``level``, ``coef_names``, ``p``.
    heterogeneity : test for residual heterogeneity (metafor's QE; weights 1/v; q = 0
        and q_p = 1 when q_df = k - p is 0); forwarded as ``q``, ``q_df``, ``q_p``.
    loglik : the log-likelihood at the optimum -- the restricted one for REML --
        on metafor's scale, so it equals ``logLik(res)``.
    sigma2 : variance components ``(sigma2_study, sigma2_arm)``, as ``res$sigma2``.
    k : number of rows (arms); n_studies : number of studies; n_arms : number of
        distinct (study, arm) pairs (equals k unless an arm has several rows).
    tau2_method, ci_method : what was fitted (``"REML"``/``"ML"``, ``"z"``/``"t"``).
    X : the design matrix used (k x p), for fitted values in ``predict_multilevel``.
    intercept_only : True when X is a single column of ones.
    n_iter : iterations of the optimiser.
    """

    fixed: FixedEffects
    heterogeneity: Heterogeneity
    loglik: float
    sigma2: np.ndarray
    k: int
    n_studies: int
    n_arms: int
    tau2_method: str
    ci_method: str
    X: np.ndarray
    intercept_only: bool
    n_iter: int

    @property
    def sigma2_study(self) -> float:
        return float(self.sigma2[0])

    @property
    def sigma2_arm(self) -> float:
        return float(self.sigma2[1])


# ----------------------------------------------------------------------------- input


def _labels(x, name: str, k: int) -> np.ndarray:
    """Integer codes for a grouping variable (numbers or strings); missing labels
    (None, NaN) are refused."""
    a = np.asarray(x)
    if a.dtype.kind in "US" and not isinstance(x, np.ndarray):
        a = np.asarray(x, dtype=object)  # a list of strings and NaN would make NaN the text "nan"
    if a.ndim != 1 or a.size != k:
        raise ValueError(f"{name} must be a 1-d array with one label per effect size (k = {k})")
    if a.dtype.kind == "f" and np.isnan(a).any():
        raise ValueError(f"{name} has missing labels (NaN)")
    if a.dtype.kind == "O":
        try:
            missing = np.asarray((a != a) | (a == None), dtype=bool)  # noqa: E711 (elementwise)
        except TypeError:  # e.g. pandas.NA, whose truth value is ambiguous
            missing = np.array([True])
        if missing.any():
            raise ValueError(f"{name} has missing labels (None or NaN)")
        seen: dict = {}
        try:  # codes in order of first appearance (the order of groups does not matter)
            return np.fromiter((seen.setdefault(val, len(seen)) for val in a), dtype=np.int64, count=k)
        except TypeError:  # unhashable labels: compare them as text
            _, codes = np.unique(a.astype(str), return_inverse=True)
    else:
        _, codes = np.unique(a, return_inverse=True)
    return codes.reshape(-1)


def _check(y, v, study, arm, X, tau2_method, ci_method, level):
    y, v = check_effect_sizes(y, v)
    k = y.size
    check_tau2_method(tau2_method, LIKELIHOOD_TAU2)  # (RE)ML variance components
    check_ci_method(ci_method, T_CI)
    check_level(level)
    s_code = _labels(study, "study", k)
    a_lab = _labels(arm, "arm", k)
    if X is None:
        X = np.ones((k, 1))
    else:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] != k:
            raise ValueError(f"X must have one row per effect size (k = {k}), got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("the design matrix X must be finite (found NaN or inf)")
    p = X.shape[1]
    if p == 0:
        raise ValueError("X has no columns")
    if k < 2:
        raise ValueError("need at least k = 2 effect sizes")
    if k <= p:
        raise ValueError(f"need more effect sizes than coefficients (k = {k}, p = {p})")
    if np.any(np.linalg.eigvalsh(X.T @ X) <= 1e-7):
        raise ValueError("the design matrix X is not of full column rank")
    return y, v, s_code, a_lab, X


# ------------------------------------------------------------------ block structure


def _quad(F, Hinv):
    """Column-wise quadratic forms ``F[:, r] @ Hinv @ F[:, r]`` (F is p x n)."""
    if F.shape[0] == 1:
        return F[0] ** 2 * Hinv[0, 0]
    return ((Hinv @ F) * F).sum(axis=0)


def _tr(A, B):
    """tr(A @ B) for square matrices."""
    return float((A * B.T).sum())


class _Blocks:
    """Sufficient sums for the block-diagonal covariance.

    Rows are grouped into arms g (the rows of one arm of one study; one row each
    unless an arm is repeated) and arms into studies i. With ``Z = [X, y]`` and
    ``w = 1/v``: ``S_g = sum w``, ``T_g = sum w Z`` (stored as columns of an
    (p+1) x G array) and ``P0 = Z' diag(w) Z``. Arms are sorted by study;
    ``gstart`` marks the first arm of each study.
    """

    def __init__(self, y, v, s_code, a_code, X):
        k, p = X.shape
        pair = s_code.astype(np.int64) * (int(a_code.max()) + 1) + a_code
        _, g_code = np.unique(pair, return_inverse=True)  # sorted by study, then arm
        g_code = g_code.reshape(-1)
        n_groups = int(g_code.max()) + 1
        w = 1.0 / v
        Zw = np.vstack([X.T, y]) * w  # (p+1) x k
        self.P0 = Zw @ np.column_stack([X, y])
        if n_groups == k:
            inv = np.empty(k, dtype=np.intp)
            inv[g_code] = np.arange(k)
            self.S, self.T = w[inv], np.ascontiguousarray(Zw[:, inv])
            g_study = s_code[inv]
        else:
            self.S = np.bincount(g_code, weights=w, minlength=n_groups)
            self.T = np.vstack([np.bincount(g_code, weights=row, minlength=n_groups) for row in Zw])
            g_study = np.empty(n_groups, dtype=s_code.dtype)
            g_study[g_code] = s_code
        self.gstart = np.flatnonzero(np.r_[True, g_study[1:] != g_study[:-1]])
        self.n_studies = self.gstart.size
        self.gs = np.repeat(np.arange(self.n_studies), np.diff(np.r_[self.gstart, n_groups]))  # study of each arm
        self.sum_log_v = float(np.log(v).sum())
        self.k, self.p, self.n_groups = k, p, n_groups
        self.logdet_XtX = float(np.linalg.slogdet(X.T @ X)[1])

    def _by_study(self, x):
        """Sums over the arms of each study (x has the arms along its last axis)."""
        return np.add.reduceat(x, self.gstart, axis=-1)

    def evaluate(self, s: float, a: float, reml: bool, deriv: int = 2):
        """The (restricted) log-likelihood at (sigma2_study, sigma2_arm) = (s, a).

        Returns ``(ll, grad, hess, info, beta, Hinv)``: the gradient and Hessian
        with respect to (s, a) (when ``deriv`` >= 1, 2), the expected information
        ``0.5 tr(P V_j P V_k)`` (P = V^-1 for ML), the GLS estimate and
        ``(X' V^-1 X)^-1``. With ``V_j = dV/d sigma2_j`` and ``q = V^-1 (y - X beta)``:
        grad_j = -1/2 (tr(P V_j) - q' V_j q) and
        hess_jk = 1/2 tr(P V_j P V_k) - q' V_j P V_k q (Harville 1977). Every
        trace and quadratic form is a sum over studies and arms of inner products
        with their indicator vectors, 1_i' V^-1 1_i, 1_g' V^-1 Z, ..., which the
        Sherman-Morrison forms give directly.
        """
        pt = self._likelihood(s, a, reml)
        if pt is None:
            return -np.inf, None, None, None, None, None
        if deriv == 0:
            return pt.ll, None, None, None, pt.beta, pt.Hinv
        grad = self._gradient(pt, s, reml)
        if deriv == 1:
            return pt.ll, grad, None, None, pt.beta, pt.Hinv
        info = 0.5 * self._trace_terms(pt, s, reml)
        hess = info - self._quadratic_terms(pt, s)
        return pt.ll, grad, hess, info, pt.beta, pt.Hinv

    def _likelihood(self, s: float, a: float, reml: bool) -> SimpleNamespace | None:
        """The log-likelihood, GLS estimate and ``(X' V^-1 X)^-1`` at (s, a), with the
        Sherman-Morrison sums the derivatives reuse; None where V or X' V^-1 X is not
        positive definite."""
        p = self.p
        cg = 1.0 / (1.0 + a * self.S)
        St = self.S * cg  # 1_g' B^-1 1_g  (B = diag(v) + a Z_a Z_a')
        Tt = self.T * cg  # 1_g' B^-1 Z
        R = self._by_study(St)  # 1_i' B^-1 1_i
        U = self._by_study(Tt)  # 1_i' B^-1 Z
        ci = 1.0 / (1.0 + s * R)
        Ui = U * ci  # 1_i' V^-1 Z
        A = self.P0 - a * (self.T @ Tt.T) - s * (U @ Ui.T)  # Z' V^-1 Z
        if not (np.all(cg > 0) and np.all(ci > 0)):
            return None
        H = A[:p, :p]
        b = A[:p, p]
        try:
            L = np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return None
        Hinv = np.linalg.inv(H)
        beta = Hinv @ b
        rss = float(A[p, p] - b @ beta)
        logdetV = self.sum_log_v + float(np.log1p(a * self.S).sum()) + float(np.log1p(s * R).sum())
        if reml:
            ll = -0.5 * (
                (self.k - p) * _LOG2PI - self.logdet_XtX + logdetV + 2.0 * float(np.log(np.diag(L)).sum()) + rss
            )
        else:
            ll = -0.5 * (self.k * _LOG2PI + logdetV + rss)
        return SimpleNamespace(ll=ll, beta=beta, Hinv=Hinv, St=St, Tt=Tt, R=R, U=U, ci=ci, Ui=Ui)

    def _gradient(self, pt: SimpleNamespace, s: float, reml: bool) -> np.ndarray:
        """grad_j = -1/2 (tr(P V_j) - q' V_j q); stores on ``pt`` the inner products with
        the study and arm indicators that the second derivatives reuse."""
        p, St, ci, beta = self.p, pt.St, pt.ci, pt.beta
        pt.E = E = pt.Ui[:p]  # X' V^-1 1_i          (p x studies)
        pt.qi = qi = pt.Ui[p] - beta @ E  # 1_i' q
        pt.c = c = pt.R * ci  # 1_i' V^-1 1_i
        pt.d = d = St * ci[self.gs]  # 1_i' V^-1 1_g, g in i
        Fz = pt.Tt - (s * d) * pt.U[:, self.gs]  # Z' V^-1 1_g          ((p+1) x arms)
        pt.F = F = Fz[:p]
        pt.qg = qg = Fz[p] - beta @ F  # 1_g' q
        tr_s = c
        tr_a = St - s * St * d  # 1_g' V^-1 1_g
        if reml:
            tr_s = tr_s - _quad(E, pt.Hinv)
            tr_a = tr_a - _quad(F, pt.Hinv)
        return -0.5 * np.array([float((tr_s - qi**2).sum()), float((tr_a - qg**2).sum())])

    def _trace_terms(self, pt: SimpleNamespace, s: float, reml: bool) -> np.ndarray:
        """tr(M V_j M V_k) = sum over pairs of indicators of (1_alpha' M 1_beta)^2."""
        St, ci, c, d, E, F, Hinv = pt.St, pt.ci, pt.c, pt.d, pt.E, pt.F, pt.Hinv
        St2 = self._by_study(St**2)
        Tss = float((c**2).sum())
        Tsa = float((d**2).sum())
        Taa = float(St2.sum() - 2.0 * s * (ci * self._by_study(St**3)).sum() + s**2 * (ci**2 * St2**2).sum())
        if reml:
            W0 = self._by_study(St * F)  # sum_{g in i} St_g F_g
            W = W0 * ci  # sum_{g in i} (1_i'V^-1 1_g) F_g
            EE, FF = E @ E.T, F @ F.T
            HE, HF = Hinv @ EE, Hinv @ FF
            Tss += -2.0 * _tr(Hinv, (E * c) @ E.T) + _tr(HE, HE)
            Tsa += -2.0 * _tr(Hinv, E @ W.T) + _tr(HE, HF)
            Taa += -2.0 * _tr(Hinv, (F * St) @ F.T - s * (W0 @ W.T)) + _tr(HF, HF)
        return np.array([[Tss, Tsa], [Tsa, Taa]])

    def _quadratic_terms(self, pt: SimpleNamespace, s: float) -> np.ndarray:
        """q' V_j P V_k q."""
        St, ci, c, qi, qg, Hinv = pt.St, pt.ci, pt.c, pt.qi, pt.qg, pt.Hinv
        Eq, Fq = pt.E @ qi, pt.F @ qg
        Sq = self._by_study(St * qg)
        Qss = float((c * qi**2).sum() - Eq @ Hinv @ Eq)
        Qsa = float((qi * ci * Sq).sum() - Eq @ Hinv @ Fq)
        Qaa = float((St * qg**2).sum() - s * (ci * Sq**2).sum() - Fq @ Hinv @ Fq)
        return np.array([[Qss, Qsa], [Qsa, Qaa]])


# ---------------------------------------------------------------------- optimiser


def _newton(blocks: _Blocks, reml: bool, th, floor: float, max_iter: int = 200):
    """Projected Newton ascent from ``th`` with an active set at 0.

    Where the Hessian of the free components is not negative definite the step is
    a Fisher-scoring one (expected information) instead; steps are halved until
    the likelihood does not fall. A component at 0 whose score is <= 0 stays at
    0 (the constrained optimum). Iteration stops when the Newton step of every
    free component is below 1e-10 of its value.
    """
    th = np.array(th, dtype=float)
    cur = blocks.evaluate(th[0], th[1], reml)
    if not np.isfinite(cur[0]):
        raise RuntimeError("three-level model: likelihood not finite at the starting values")
    for it in range(1, max_iter + 1):
        ll, g, hess, info = cur[:4]
        free = ~((th == 0.0) & (g <= 0.0))
        if not free.any():
            return th, ll, it
        idx = np.flatnonzero(free)
        gf, Hf, If = g[idx], hess[np.ix_(idx, idx)], info[np.ix_(idx, idx)]
        newton = bool(np.all(np.linalg.eigvalsh(Hf) < 0.0))
        try:
            step = np.linalg.solve(-Hf, gf) if newton else np.linalg.solve(If, gf)
        except np.linalg.LinAlgError:
            newton, step = False, gf * (th[idx].max() + floor) / max(float(np.abs(gf).max()), 1e-300)
        if newton and np.all(np.abs(step) <= 1e-10 * np.maximum(th[idx], floor)):
            # converged: the last Newton step is below the resolution of the likelihood
            th[idx] = np.maximum(th[idx] + step, 0.0)
            return th, blocks.evaluate(th[0], th[1], reml, deriv=0)[0], it
        t = 1.0
        while True:
            new = th.copy()
            new[idx] = np.maximum(th[idx] + t * step, 0.0)
            nxt = blocks.evaluate(new[0], new[1], reml)
            if np.isfinite(nxt[0]) and nxt[0] >= ll - 1e-12 * max(1.0, abs(ll)):
                break
            t *= 0.5
            if t < 1e-12:
                raise RuntimeError("three-level model: step halving failed (likelihood not improving)")
        th, cur = new, nxt
    raise RuntimeError("three-level model: variance components did not converge")


def _maximise(blocks: _Blocks, reml: bool, y, v, X):
    """Variance components at the maximum of the (restricted) likelihood over
    sigma2 >= 0.

    Newton starts where rma.mv starts (half the excess residual variance of the
    weighted least-squares fit in each component). The likelihood can have a
    second local maximum on the other edge (all variance in the other
    component), so when that run ends on an edge each edge is searched too: the
    profile along it is scanned on a log grid and Newton restarted from the best
    grid point. The highest likelihood wins.
    """
    p = blocks.p
    beta_fe = np.linalg.solve(blocks.P0[:p, :p], blocks.P0[:p, p])
    total = max(0.002, float(np.var(y - X @ beta_fe, ddof=1)) - 1.0 / float(np.mean(1.0 / v)))
    floor = 1e-10 * max(total, float(np.mean(v)))
    best = _newton(blocks, reml, [total / 2.0, total / 2.0], floor)
    n_iter = best[2]
    if np.any(best[0] == 0.0):
        top = max(total, float(best[0].sum()), float(np.mean(v)))
        grid = np.r_[0.0, np.geomspace(1e-6 * top, 1e2 * top, 33)]
        for j in (0, 1):
            lls = []
            for u in grid:
                th = np.zeros(2)
                th[j] = u
                lls.append(blocks.evaluate(th[0], th[1], reml, deriv=0)[0])
            start = np.zeros(2)
            start[j] = grid[int(np.nanargmax(lls))]
            run = _newton(blocks, reml, start, floor)
            n_iter += run[2]
            if run[1] > best[1] + 1e-12 * max(1.0, abs(best[1])):
                best = run
    return best[0], best[1], n_iter


# ---------------------------------------------------------------------------- fit


def _intercept_columns(X):
    return np.all(np.abs(X - 1.0) < 1e-8, axis=0)


def _fixed_effects(beta, vb, X, names, ci_method: str, level: float, tau2_method: str, n_iter: int) -> dict:
    """The fields every fit shares: its :class:`FixedEffects` (z, or t on k - p df; the
    omnibus test of the moderators, all but an intercept) and what was fitted."""
    k, p = X.shape
    is_int = _intercept_columns(X)
    btt = np.flatnonzero(~is_int) if (is_int.any() and p > 1) else np.arange(p)
    df = max(k - p, 1) if ci_method == "t" else None
    return dict(
        fixed=FixedEffects(names, beta, vb, df, float(level), tuple(int(j) for j in btt)),
        k=int(k),
        tau2_method=tau2_method,
        ci_method=ci_method,
        X=X.copy(),
        intercept_only=bool(p == 1 and is_int[0]),
        n_iter=int(n_iter),
    )


def _names(coef_names, X) -> tuple:
    """``coef_names`` checked against the columns of X, or the default names."""
    if coef_names is None:
        return default_names(X)
    names = tuple(str(c) for c in coef_names)
    if len(names) != X.shape[1]:
        raise ValueError(f"{len(names)} coefficient names for {X.shape[1]} columns of X")
    return names


def _residual_q(blocks, y, v, X):
    """Test for residual heterogeneity (metafor's QE): weighted least squares with weights 1/v."""
    k, p = X.shape
    beta_fe = np.linalg.solve(blocks.P0[:p, :p], blocks.P0[:p, p])
    q_df = k - p
    if q_df == 0:
        return 0.0, q_df, 1.0
    q = float((1.0 / v * (y - X @ beta_fe) ** 2).sum())
    return q, q_df, float(stats.chi2.sf(q, q_df))


def fit_multilevel(
    y,
    v,
    study,
    arm,
    X=None,
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
    coef_names=None,
) -> MultilevelResult:
    """Fit the three-level model ``rma.mv(y, v, random = ~ 1 | study/arm, mods = X)``.

    Parameters
    ----------
    y, v : effect sizes and their sampling variances (k of each; v > 0).
    study, arm : labels; rows with the same study share a study effect, rows with
        the same (study, arm) share an arm effect (arm labels are nested: "a" in
        two studies are two arms).
    X : design matrix (k x p) including the intercept column if wanted; default
        intercept only.
    tau2_method : "REML" (default) or "ML" (metafor's ``method``).
    ci_method : "z" (Wald) or "t" (t and F tests on k - p df, metafor's test = "t").
    level : confidence level, e.g. 0.95.
    coef_names : names of the columns of X (default: ``"intrcpt"`` for a column of ones,
        ``"X<j>"`` for the others).

    Raises ValueError for empty or non-finite input, v <= 0, mismatched lengths,
    a rank-deficient X, k <= p, or data in which no study has two arms (then the
    study and arm variances are not separately identifiable).
    """
    y, v, s_code, a_lab, X = _check(y, v, study, arm, X, tau2_method, ci_method, level)
    blocks = _Blocks(y, v, s_code, a_lab, X)
    if blocks.n_groups == blocks.n_studies:
        raise ValueError(
            "no study has more than one arm: the study and arm variances are not "
            "separately identifiable (use a two-level model)"
        )
    reml = tau2_method == "REML"
    s2, ll, n_iter = _maximise(blocks, reml, y, v, X)
    ll, _, _, _, beta, vb = blocks.evaluate(s2[0], s2[1], reml, deriv=0)
    q, q_df, q_p = _residual_q(blocks, y, v, X)
    return MultilevelResult(
        **_fixed_effects(beta, vb, X, _names(coef_names, X), ci_method, level, tau2_method, n_iter),
        heterogeneity=Heterogeneity(q=q, q_df=int(q_df), q_p=q_p),
        loglik=float(ll),
        sigma2=s2,
        n_studies=int(blocks.n_studies),
        n_arms=int(blocks.n_groups),
    )


def predict_multilevel(result: MultilevelResult, newX=None, level: float | None = None) -> Prediction:
    """Predicted effects with confidence and prediction intervals, as ``predict(res)``.

    ``newX`` holds full design rows (with the intercept column if the model has
    one); a 1-d array is one row. Without it, an intercept-only model gives its
    pooled estimate and a model with moderators the fitted values of its k rows,
    as ``predict.rma`` does. ``level`` defaults to the fit's. The prediction
    interval uses ``sqrt(se^2 + sigma2_study + sigma2_arm)`` and the critical value
    of the confidence interval (normal, or t on the fit's df), as metafor does for
    models with only ``sigma2`` components.
    """
    level = result.level if level is None else check_level(level)
    if newX is None:
        Xn = np.ones((1, 1)) if result.intercept_only else result.X
    else:
        Xn = np.asarray(newX, dtype=float)
        if Xn.ndim == 1:
            Xn = Xn[None, :] if result.p > 1 or Xn.size == 1 else Xn[:, None]
        if Xn.ndim != 2 or Xn.shape[1] != result.p:
            raise ValueError(f"newX must have {result.p} columns (the model's design), got shape {Xn.shape}")
        if not np.all(np.isfinite(Xn)):
            raise ValueError("newX must be finite")
    return predict_rows(Xn, result.coef, result.vcov, float(np.sum(result.sigma2)), result.df, level)


# ======================================================================================
# Correlated sampling errors and a structured random effect: dense per-study blocks
# ======================================================================================
#
#   rma.mv(yi, V, mods = X, random = ~ t | study, struct = "CAR" | "HCS" | "ID")
#   rma.mv(yi, V, mods = X, random = list(~ 1 | study, ~ t | arm), struct = ...)
#
# V may link rows of one study (the rates of one cohort at several times), so the
# marginal covariance is block-diagonal by study with dense blocks
# M_i = V_i + sigma2 J + G_i(theta). Studies are grouped by block size m and each group's
# blocks are inverted together (arrays n_m x m x m), so a fit costs O(sum m_i^3 + k p^2):
# linear in the number of studies, no k x k matrix.

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
    coef_names : names of the columns of X (as :func:`fit_multilevel`).

    Raises ValueError for bad input (see :func:`fit_multilevel`), a V that links
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
    return q, q_df, float(stats.chi2.sf(q, q_df))


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
