"""Survival curves from published rates: one model for every time point a study prints.

Studies print Kaplan-Meier rates S(t_1), S(t_2), ... of one cohort. Treated as
binomial proportions of one group of n patients followed without censoring, the
rates at t_i < t_j are nested (the survivors at t_j are a subset of those at t_i), so

    Var(S_i) = S_i (1 - S_i) / n,    Cov(S_i, S_j) = S_j (1 - S_i) / n,

and by the delta method on the logit scale (d logit S / dS = 1 / (S (1 - S)))

    Cov(logit S_i, logit S_j) = 1 / (n S_i (1 - S_j)),   t_i <= t_j,

whose diagonal is the usual 1 / (n S (1 - S)) (Dear, Biometrics 1994;50:989-1002;
Arends et al., Stat Med 2008;27:4381-4396). Limits of the approximation: censoring
makes the true variances larger than binomial ones at late times (fewer patients at
risk than n), and when a study prints different denominators at different times the
smaller is used for the covariance. The continuity correction is the pooling's
(``escalc(add = 1/2, to = "only0")``): a rate of 0 or 1 gets 1/2 added to its events
and non-events, so S = (x + 1/2) / (n + 1) and n becomes n + 1 for that row.

The curve model is ``rma.mv(yi, V, mods = ~ f(t), random = ~ t | study, struct)``
(:func:`sbrtmeta.stats.block_model.fit_block_model`), with f(t) = ln t, t, or a natural
cubic spline of t with ``df`` degrees of freedom (the basis of R's ``splines::ns``,
interior knots at quantiles of t; predictions are invariant to the basis).

A survival or local-control curve cannot rise. For f(t) = ln t or t the slope is fitted
under the constraint slope <= 0. When the unconstrained slope is <= 0 it is the answer; when
it is positive the fit is at the bound, slope 0: the model without the f(t) term,
``rma.mv(yi, V, random = ~ t | study, struct)`` (:attr:`CurveFit.at_bound`). For ML this is
the constrained maximum whenever the profile likelihood of the slope has one mode; for REML,
whose likelihood integrates the fixed effects out, it is the REML fit with the slope fixed
at 0 (the variance components re-estimated). A spline has
no such one-parameter constraint: :func:`first_rise` finds where its fitted curve rises,
and the analysis refuses such a fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from sbrtmeta.stats.block_model import BlockModelResult, fit_block_model, predict_block_model
from sbrtmeta.stats.inference import Prediction
from sbrtmeta.stats.multilevel import _labels

TIME_FUNCTIONS = ("log", "linear", "spline")


def logit_rate_covariance(events, n, time, group):
    """Logits of the rates and their sampling covariance (scipy sparse, block-diagonal by
    ``group``: the rows of one cohort).

    Returns ``(yi, V, rising)``: ``yi = log(x / (n - x))`` with the continuity correction,
    V with ``V_ij = 1 / (min(n_i, n_j) S_a (1 - S_b))`` (a the earlier, b the later time;
    the diagonal ``1 / x + 1 / (n - x)``), and the pairs of row indices ``(i, j)``,
    t_i < t_j of one group, whose rate rises with time (S_j > S_i), which a survival curve
    cannot do. Such a pair keeps its printed rates; its covariance is that of the two
    rates taken in decreasing order, ``1 / (n max(S) (1 - min(S)))``, which keeps V a
    covariance matrix (the printed order would give a correlation above 1). Two rows of
    one group at the same time are refused.
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    t = np.asarray(time, dtype=float)
    k = x.size
    if not (x.shape == n.shape == t.shape == (k,)) or k == 0:
        raise ValueError("events, n and time must be 1-d arrays of one length")
    if np.any(n < 1) or np.any(x < 0) or np.any(x > n) or not np.all(np.isfinite(t)):
        raise ValueError("each rate needs n >= 1, 0 <= events <= n and a finite time")
    g = _labels(group, "group", k)
    m = n - x
    zero = (x == 0) | (m == 0)
    xa, ma = np.where(zero, x + 0.5, x), np.where(zero, m + 0.5, m)
    na = xa + ma
    s = xa / na
    yi = np.log(xa / ma)
    order = np.lexsort((t, g))
    gs = g[order]
    start = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    size = np.diff(np.r_[start, k])
    rows, cols, vals, rising = [], [], [], []
    for m_ in np.unique(size):
        first = start[size == m_]
        idx = order[first[:, None] + np.arange(m_)[None, :]]  # rows of each group, by time
        ti = t[idx]
        if m_ > 1 and np.any(np.diff(ti, axis=1) == 0):
            bad = idx[np.flatnonzero(np.any(np.diff(ti, axis=1) == 0, axis=1))[0]]
            raise ValueError(f"two rates of one group at the same time (rows {bad.tolist()})")
        a, b = np.triu_indices(m_)  # a <= b: a is the earlier time
        ia, ib = idx[:, a], idx[:, b]
        nn = np.minimum(na[ia], na[ib])
        hi, lo = np.maximum(s[ia], s[ib]), np.minimum(s[ia], s[ib])
        cov = 1.0 / (nn * hi * (1.0 - lo))  # = 1 / (n S_a (1 - S_b)) when S_a >= S_b
        diag = a == b
        cov[:, diag] = 1.0 / xa[ia[:, diag]] + 1.0 / ma[ia[:, diag]]
        rows += [ia.ravel(), ib[:, ~diag].ravel()]
        cols += [ib.ravel(), ia[:, ~diag].ravel()]
        vals += [cov.ravel(), cov[:, ~diag].ravel()]
        up = s[ib[:, ~diag]] > s[ia[:, ~diag]]
        rising += list(zip(ia[:, ~diag][up].tolist(), ib[:, ~diag][up].tolist()))
    V = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(k, k))
    return yi, V, rising


@dataclass(frozen=True)
class TimeBasis:
    """The columns f(t) of the curve model and how to evaluate them at new times.

    ``kind`` is ``log`` (ln t), ``linear`` (t) or ``spline`` (``splines::ns(t, df)``:
    natural cubic B-splines with ``knots`` inside and ``boundary`` at the ends,
    linear beyond them)."""

    kind: str
    df: int = 1
    knots: tuple = ()
    boundary: tuple = ()

    @classmethod
    def of(cls, t, kind: str = "log", df: int = 3) -> TimeBasis:
        t = np.asarray(t, dtype=float)
        if kind not in TIME_FUNCTIONS:
            raise ValueError(f"time function {kind!r} is not one of {TIME_FUNCTIONS}")
        if kind == "log" and np.any(t <= 0):
            raise ValueError("ln t needs times > 0")
        if kind != "spline":
            return cls(kind=kind, df=1)
        if int(df) < 1:
            raise ValueError("a spline needs df >= 1")
        n_inner = int(df) - 1
        probs = np.linspace(0.0, 1.0, n_inner + 2)[1:-1]
        knots = tuple(float(q) for q in np.quantile(t, probs)) if n_inner else ()
        return cls(kind="spline", df=int(df), knots=knots, boundary=(float(t.min()), float(t.max())))

    def columns(self, t) -> np.ndarray:
        """The design columns (without the intercept) at times ``t``: len(t) x df."""
        t = np.asarray(t, dtype=float)
        if self.kind == "log":
            return np.log(t)[:, None]
        if self.kind == "linear":
            return t[:, None]
        return _ns_basis(t, np.asarray(self.knots), self.boundary)

    def design(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return np.column_stack([np.ones(t.size), self.columns(t)])

    def describe(self) -> str:
        if self.kind == "log":
            return "ln t"
        if self.kind == "linear":
            return "t"
        return f"natural spline of t, df {self.df}"


def _ns_basis(x, knots, boundary):
    """``splines::ns(x, knots = knots, Boundary.knots = boundary)`` (intercept = FALSE):
    cubic B-splines whose second derivative vanishes at the boundary knots, projected as
    ns does (QR of the constraint), linear beyond the boundary."""
    from scipy.interpolate import BSpline  # here: a job fitting no spline skips scipy.interpolate's import

    lo, hi = boundary
    aknots = np.r_[[lo] * 4, knots, [hi] * 4]
    nb = aknots.size - 4

    def design(u, deriv=0):
        out = np.empty((u.size, nb))
        for j in range(nb):
            c = np.zeros(nb)
            c[j] = 1.0
            spl = BSpline(aknots, c, 3, extrapolate=True)
            out[:, j] = spl(u, nu=deriv) if deriv else spl(u)
        # the right boundary belongs to the last interval (as splineDesign)
        return out

    const = design(np.array([lo, hi]), deriv=2)[:, 1:]
    q, _ = np.linalg.qr(const.T, mode="complete")

    def project(B):
        return (q.T @ B[:, 1:].T).T[:, 2:]

    inside = (x >= lo) & (x <= hi)
    out = np.empty((x.size, nb - 3))
    if inside.any():
        xi = np.minimum(x[inside], np.nextafter(hi, lo))  # BSpline is right-open at hi
        B = design(xi)
        at_hi = x[inside] == hi
        if at_hi.any():
            B[at_hi] = design(np.array([hi - 1e-12 * max(1.0, abs(hi))]))
        out[inside] = project(B)
    for edge, sel in ((lo, x < lo), (hi, x > hi)):
        if sel.any():
            e = np.array([edge if edge == lo else hi - 1e-12 * max(1.0, abs(hi))])
            val, slope = project(design(e))[0], project(design(e, deriv=1))[0]
            out[sel] = val + (x[sel] - edge)[:, None] * slope
    return out


def singular_groups(V, group) -> list[np.ndarray]:
    """The rows (index arrays) of each cohort of ``group`` (as in :func:`logit_rate_covariance`)
    whose block of V is singular or not positive definite, in order of first appearance. Under
    the binomial approximation a cohort printing the same rate at two times has two perfectly
    correlated logits (metafor warns that V is not positive definite)."""
    g = _labels(group, "group", V.shape[0])
    A = V.tocsr() if sparse.issparse(V) else sparse.csr_matrix(np.asarray(V, dtype=float))
    out = []
    for code in dict.fromkeys(g.tolist()):
        idx = np.flatnonzero(g == code)
        if idx.size < 2:
            continue
        ev = np.linalg.eigvalsh(A[idx][:, idx].toarray())
        if ev[0] <= 1e-10 * max(ev[-1], np.finfo(float).tiny):
            out.append(idx)
    return out


@dataclass(frozen=True)
class CurveFit:
    """A fitted curve model: the :class:`BlockModelResult` on the logit scale and its
    time basis (``rma.mv(yi, V, mods = ~ f(t), random = ~ t | study, struct)``).

    ``at_bound`` is True when the slope of f(t) (ln t or t) met its constraint, slope <= 0:
    then ``model`` is the fit without the f(t) term (``mods = ~ 1``), the slope is 0, and
    ``free_slope`` is the slope of the unconstrained fit, which rose (NaN otherwise)."""

    model: BlockModelResult
    basis: TimeBasis
    times: np.ndarray
    at_bound: bool = False
    free_slope: float = float("nan")

    def coefficients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(coef, se, ci_low, ci_high, pval)`` of every term of f(t); a slope at its bound
        is 0 with no standard error, interval or p-value (NaN)."""
        m = self.model
        cols = [np.asarray(x, dtype=float) for x in (m.coef, m.se, m.ci_low, m.ci_high, m.pval)]
        if not self.at_bound:
            return tuple(cols)
        return tuple(np.r_[c, 0.0 if j == 0 else np.nan] for j, c in enumerate(cols))


def fit_curve(
    events,
    n,
    time,
    study,
    group=None,
    f: str = "log",
    df: int = 3,
    struct: str = "CAR",
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
    monotone: bool = True,
) -> CurveFit:
    """Fit the curve model to rates ``events / n`` printed at ``time`` by ``study``.

    ``group`` labels the cohort of each rate (rates of one cohort are correlated, V);
    default the study. For f = ``log`` or ``linear`` the slope is constrained to be <= 0
    (a positive unconstrained slope gives the fit at the bound, :class:`CurveFit`) unless
    ``monotone`` is False (the unconstrained fit, for comparisons).
    Returns :class:`CurveFit`.
    """
    t = np.asarray(time, dtype=float)
    yi, V, _ = logit_rate_covariance(events, n, t, study if group is None else group)
    basis = TimeBasis.of(t, f, df)
    options = dict(struct=struct, tau2_method=tau2_method, ci_method=ci_method, level=level)
    X = basis.design(t)
    model = fit_block_model(yi, V, study, t, X=X, **options)
    if not monotone or basis.kind == "spline" or model.coef[1] <= 0:
        return CurveFit(model=model, basis=basis, times=t)
    flat = fit_block_model(yi, V, study, t, X=X[:, :1], **options)
    return CurveFit(model=flat, basis=basis, times=t, at_bound=True, free_slope=float(model.coef[1]))


def predict_curve(fit: CurveFit, months, level: float | None = None) -> Prediction:
    """The pooled logit S(t) at ``months`` with CI and PI (``predict(res, newmods = f(t))``;
    at the bound, the intercept alone)."""
    months = np.asarray(months, dtype=float)
    X = fit.basis.design(months)
    return predict_block_model(fit.model, X[:, :1] if fit.at_bound else X, time=months, level=level)


def first_rise(fit: CurveFit, months) -> tuple[float, float] | None:
    """The first pair of consecutive ``months`` between which the fitted curve rises, or None
    (a curve at its bound is flat and never rises)."""
    months = np.unique(np.asarray(months, dtype=float))
    if fit.at_bound or months.size < 2:
        return None
    pred = predict_curve(fit, months).pred
    up = np.flatnonzero(np.diff(pred) > 1e-12 * np.maximum(1.0, np.abs(pred[:-1])))
    return None if up.size == 0 else (float(months[up[0]]), float(months[up[0] + 1]))
