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

Models with a within-study covariance V and a structured random effect (``struct``) are
:mod:`sbrtmeta.stats.block_model`'s; the batched refits of the bootstrap are
:mod:`sbrtmeta.stats.multilevel_batch`'s.

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from sbrtmeta.stats.distributions import chi2_sf
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


def _newton(blocks: _Blocks, reml: bool, th, floor: float, max_iter: int = 200, held=(False, False)):
    """Projected Newton ascent from ``th`` with an active set at 0.

    Where the Hessian of the free components is not negative definite the step is
    a Fisher-scoring one (expected information) instead; steps are halved until
    the likelihood does not fall. A component at 0 whose score is <= 0 stays at
    0 (the constrained optimum). Iteration stops when the Newton step of every
    free component is below 1e-10 of its value. A ``held`` component stays where it
    starts (sigma2_study held at 0 is the two-level model, with every row its own study).
    """
    th = np.array(th, dtype=float)
    cur = blocks.evaluate(th[0], th[1], reml)
    if not np.isfinite(cur[0]):
        raise RuntimeError("three-level model: likelihood not finite at the starting values")
    for it in range(1, max_iter + 1):
        ll, g, hess, info = cur[:4]
        free = ~((th == 0.0) & (g <= 0.0)) & ~np.asarray(held, dtype=bool)
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
        for j in (0, 1):
            run = _newton(blocks, reml, _edge_start(blocks, reml, j, top), floor)
            n_iter += run[2]
            if run[1] > best[1] + 1e-12 * max(1.0, abs(best[1])):
                best = run
    return best[0], best[1], n_iter


def _edge_start(blocks: _Blocks, reml: bool, j: int, top: float) -> np.ndarray:
    """The best point of a log grid (with 0) along the edge where only component ``j`` is not 0."""
    grid = np.r_[0.0, np.geomspace(1e-6 * top, 1e2 * top, 33)]
    lls = []
    for u in grid:
        th = np.zeros(2)
        th[j] = u
        lls.append(blocks.evaluate(th[0], th[1], reml, deriv=0)[0])
    start = np.zeros(2)
    start[j] = grid[int(np.nanargmax(lls))]
    return start


class DesignProfile:
    """The maximised log-likelihood of one set of effect sizes and random effects under design
    matrices that change from call to call: the profile likelihood of a parameter that enters only
    the design, as α/β enters the dose column of the dose-response model
    (:func:`sbrtmeta.stats.alpha_beta_profile.profile_alpha_beta`).

    ``study_effect=True`` is :func:`fit_multilevel`'s model (``rma.mv(yi, vi, mods = X, random =
    ~ 1 | study/arm)``), False the two-level model (``rma(yi, vi, mods = X)``: one tau2, here
    sigma2_arm with every row its own study and sigma2_study held at 0). Each call is ``logLik(res)``
    of that model fitted to X by ``tau2_method`` (ML by default: the likelihoods of different designs
    are comparable under ML, not under REML). The first call maximises as :func:`fit_multilevel` does;
    later ones start Newton from the previous call's variance components (designs close to the last
    one converge in a few steps), and search again from scratch where that ends on an edge.
    """

    def __init__(self, y, v, study, arm, tau2_method: str = "ML", study_effect: bool = True):
        k = np.asarray(y).size
        if not study_effect:
            study = arm = np.arange(k)
        self.y, self.v, self.s_code, self.a_code, _ = _check(y, v, study, arm, None, tau2_method, "z", 0.95)
        self.reml, self.study_effect = tau2_method == "REML", study_effect
        self.theta: np.ndarray | None = None

    def __call__(self, X) -> float:
        """The maximised log-likelihood with design X (k x p); sets ``theta`` (sigma2_study, sigma2_arm)."""
        X = np.asarray(X, dtype=float)
        blocks = _Blocks(self.y, self.v, self.s_code, self.a_code, X)
        floor = 1e-10 * float(np.mean(self.v))
        held = (not self.study_effect, False)
        if self.theta is not None:
            th, ll, _ = _newton(blocks, self.reml, self.theta, floor, held=held)
        if self.theta is None or np.any(th[int(held[0]) :] == 0.0):
            if self.study_effect:
                th, ll, _ = _maximise(blocks, self.reml, self.y, self.v, X)
            else:
                start = _edge_start(blocks, self.reml, 1, float(np.var(self.y)) + float(np.mean(self.v)))
                th, ll, _ = _newton(blocks, self.reml, start, floor, held=held)
        self.theta = th
        return float(ll)


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
    return q, q_df, float(chi2_sf(q, q_df))


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
