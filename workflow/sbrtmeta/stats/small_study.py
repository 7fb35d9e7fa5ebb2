"""Small-study effects: the rank correlation test, Egger's regression test and trim-and-fill.

They follow metafor 3.8 (Viechtbauer, J Stat Softw 2010;36(3)) step by step:

* :func:`ranktest` is ``ranktest()`` (Begg & Mazumdar, Biometrics
  1994;50:1088-1101): Kendall's tau between the standardized effect sizes and
  the sampling variances, with the p-value of R's ``cor.test(method =
  "kendall", exact = TRUE)``;
* :func:`regtest` is ``regtest()`` (Egger et al., BMJ 1997;315:629-634; Sterne &
  Egger, in *Publication Bias in Meta-Analysis*, 2005): the test of the predictor (the
  standard error by default) in a meta-regression of the effect sizes on it
  (:func:`sbrtmeta.stats.meta_regression.fit_meta_regression`), or the classical
  weighted least-squares form;
* :func:`trimfill` is ``trimfill.rma.uni()`` (Duval & Tweedie, Biometrics
  2000;56:455-463 and J Am Stat Assoc 2000;95:89-98): the L0, R0 and Q0
  estimators of the number of missing studies, the side chosen from the sign of
  the slope of an Egger-type meta-regression on the standard errors, and a
  refit of the model on the augmented data.

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from math import factorial

import numpy as np

from sbrtmeta.stats.distributions import norm_cdf, norm_sf
from sbrtmeta.stats.inference import INTERCEPT_NAME, REGRESSION_TAU2, check_effect_sizes, check_level
from sbrtmeta.stats.meta_regression import MetaRegressionResult, estimate_regression_tau2, fit_meta_regression
from sbrtmeta.stats.random_effects import RandomEffectsResult, fit_random_effects

ESTIMATORS = ("L0", "R0", "Q0")
SIDES = ("left", "right")
REGTEST_MODELS = ("rma", "lm")
REGTEST_PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")


# --------------------------------------------------------------------------- rank test


@dataclass(frozen=True)
class RankTestResult:
    """Begg & Mazumdar's rank correlation test for funnel-plot asymmetry.

    Begg CB, Mazumdar M. Operating characteristics of a rank correlation test for
    publication bias. Biometrics 1994;50:1088-1101.

    Attributes
    ----------
    tau : Kendall's tau (tau-b) between the standardized effect sizes
        ``(y - theta) / sqrt(v - 1/sum(1/v))`` (``theta`` the inverse-variance
        weighted mean) and the sampling variances. NaN when either is constant.
    pval : two-sided p-value. From the exact null distribution of Kendall's
        statistic when ``exact`` is requested and there are no ties, otherwise
        from the normal approximation with R's tie-corrected variance (no
        continuity correction), as ``cor.test`` computes it.
    statistic : the exact statistic T (number of concordant pairs) or the z value.
    exact : whether the exact distribution was used.
    ties : whether either variable has ties.
    k : number of studies.
    """

    tau: float
    pval: float
    statistic: float
    exact: bool
    ties: bool
    k: int


def _r_sum(x: np.ndarray) -> float:
    """``sum()`` as R computes it: sequential accumulation in long double."""
    return float(np.cumsum(np.asarray(x, dtype=np.longdouble))[-1])


def _kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(x.size, 1)
    sx, sy = sx[iu], sy[iu]
    den = np.sqrt((sx * sx).sum()) * np.sqrt((sy * sy).sum())
    if den == 0:
        return float("nan")
    return float((sx * sy).sum() / den)


@lru_cache(maxsize=64)
def _mahonian(n: int, upto: int) -> tuple[int, ...]:
    """Numbers of permutations of ``n`` items with 0..``upto`` inversions (exact integers).

    ``c_m(q) = sum_{i=0}^{m-1} c_{m-1}(q - i)``, evaluated with prefix sums of
    Python integers (numpy object arrays), so nothing overflows or cancels.
    """
    c = np.array([1], dtype=object)
    for m in range(2, n + 1):
        top = min(m * (m - 1) // 2, upto)
        prefix = np.concatenate([np.array([0], dtype=object), np.cumsum(c)])
        q = np.arange(top + 1)
        hi = np.minimum(q, c.size - 1) + 1
        lo = np.maximum(q - m + 1, 0)
        c = prefix[hi] - prefix[lo]
    return tuple(int(x) for x in c)


def _pkendall(q: int, n: int) -> float:
    """P(T <= q) for Kendall's T with ``n`` untied pairs of observations (exact)."""
    total = n * (n - 1) // 2
    if q < 0:
        return 0.0
    if q >= total:
        return 1.0
    return float(Fraction(sum(_mahonian(n, q)), factorial(n)))


def _kendall_exact_two_sided(tau: float, n: int) -> tuple[float, float]:
    q = int(np.round((tau + 1) * n * (n - 1) / 4))
    total = n * (n - 1) // 2
    if q > n * (n - 1) / 4:
        # upper tail P(T >= q) = P(T <= total - q) by symmetry; R computes it as
        # 1 - pkendall(q - 1), which is the same number up to cancellation
        p = _pkendall(total - q, n)
    else:
        p = _pkendall(q, n)
    return float(q), min(2.0 * p, 1.0)


def _tie_sizes(x: np.ndarray) -> np.ndarray:
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(float)


def _kendall_normal_two_sided(tau: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    n = float(x.size)
    xt, yt = _tie_sizes(x), _tie_sizes(y)
    t0 = n * (n - 1) / 2
    t1 = (xt * (xt - 1)).sum() / 2
    t2 = (yt * (yt - 1)).sum() / 2
    s = tau * np.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt = (xt * (xt - 1) * (2 * xt + 5)).sum()
    vu = (yt * (yt - 1) * (2 * yt + 5)).sum()
    v1 = (xt * (xt - 1)).sum() * (yt * (yt - 1)).sum()
    v2 = (xt * (xt - 1) * (xt - 2)).sum() * (yt * (yt - 1) * (yt - 2)).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        var_s = (v0 - vt - vu) / 18 + np.float64(v1) / (2 * n * (n - 1)) + np.float64(v2) / (9 * n * (n - 1) * (n - 2))
        z = np.float64(s) / np.sqrt(var_s)
    return float(z), float(2 * min(norm_cdf(z), norm_sf(z)))


def ranktest(y, v, exact: bool = True) -> RankTestResult:
    """Rank correlation test for funnel-plot asymmetry, as metafor's ``ranktest()``.

    The effect sizes are centred at the inverse-variance weighted (common-effect)
    mean and divided by ``sqrt(v - 1/sum(1/v))``, whatever model was fitted;
    Kendall's tau between them and ``v`` is then tested as
    ``cor.test(..., method = "kendall", exact = exact)``. ``exact=True``
    (metafor's default) uses the exact null distribution at any k when there are
    no ties, and the normal approximation with tie-corrected variance when there
    are; ``exact=False`` always uses the approximation.

    When all effect sizes are identical the standardized effects are constant and
    tau is undefined: tau and the p-value are NaN (metafor returns NA with
    R's warning "the standard deviation is zero"), and a ``RuntimeWarning`` is
    issued. The exact p-value is computed with integer arithmetic at any k;
    metafor's (R's) overflows and returns NaN from k = 171 on.
    """
    y, v = check_effect_sizes(y, v)
    k = y.size
    if k < 2:
        raise ValueError("the rank correlation test needs k >= 2 studies")
    wi = 1.0 / v
    if np.ptp(y) == 0:
        theta = y[0]  # the weighted mean of identical values is that value
    else:
        theta = _r_sum(y * wi) / _r_sum(wi)
    vb = 1.0 / _r_sum(wi)
    y_star = (y - theta) / np.sqrt(v - vb)
    tau = _kendall_tau_b(y_star, v)
    ties = bool(np.unique(y_star).size < k or np.unique(v).size < k)
    if not np.isfinite(tau):
        warnings.warn(
            "rank correlation test: the standardized effect sizes or the variances are "
            "constant, so Kendall's tau is undefined (NaN)",
            RuntimeWarning,
            stacklevel=2,
        )
        return RankTestResult(
            tau=float("nan"), pval=float("nan"), statistic=float("nan"), exact=bool(exact and not ties), ties=ties, k=k
        )
    if exact and not ties:
        statistic, pval = _kendall_exact_two_sided(tau, k)
    else:
        statistic, pval = _kendall_normal_two_sided(tau, y_star, v)
    return RankTestResult(tau=tau, pval=pval, statistic=statistic, exact=bool(exact and not ties), ties=ties, k=k)


# --------------------------------------------------------------------------- trim and fill


@dataclass(frozen=True)
class TrimFillResult:
    """Trim-and-fill analysis of one set of effect sizes.

    Duval S, Tweedie R. Trim and fill: a simple funnel-plot-based method of
    testing and adjusting for publication bias in meta-analysis. Biometrics
    2000;56:455-463. Duval S, Tweedie R. A nonparametric "trim and fill" method
    of accounting for publication bias in meta-analysis. J Am Stat Assoc
    2000;95:89-98.

    Attributes
    ----------
    k0 : estimated number of missing studies (imputed on ``side``).
    se_k0 : its standard error, as metafor computes it for the estimator (for R0,
        ``sqrt(2 max(0, k0) + 2)``); NaN when metafor's variance formula is negative.
    p_k0 : for R0, the probability of observing at least ``k0`` under the null
        (``0.5 ** (k0 + 1)``, metafor's ``p.k0``); NaN for L0 and Q0.
    side : side of the funnel on which studies were imputed ("left"/"right").
    estimator : "L0", "R0" or "Q0".
    k : number of observed studies.
    yi, vi : the augmented data: the observed studies in their original order,
        then the ``k0`` imputed ones (the observed data when ``k0 == 0``).
    filled : boolean mask over ``yi``, True for imputed studies.
    fit : the model refitted on ``yi``/``vi`` with the same tau² and CI methods
        (the model on the observed data when ``k0 == 0``).
    iterations : number of trim-and-fill iterations.
    mirrors : for each imputed study, the index (in the input) of the observed study it
        reflects (empty when ``k0 == 0``).
    """

    k0: int
    se_k0: float
    p_k0: float
    side: str
    estimator: str
    k: int
    yi: np.ndarray
    vi: np.ndarray
    filled: np.ndarray
    fit: RandomEffectsResult
    iterations: int
    mirrors: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))


def _regression_tau2(y, v, X, method: str) -> float:
    """τ² of a meta-regression with design ``X``, as ``rma.uni(mods = ...)``: the
    meta-regression's own estimator (:mod:`sbrtmeta.stats.meta_regression`)."""
    if method not in REGRESSION_TAU2:
        raise ValueError(
            f"side=None is implemented for tau2_method in {REGRESSION_TAU2}; "
            f"pass side='left' or side='right' for {method!r}"
        )
    return estimate_regression_tau2(y, v, X, method)


def _egger_slope(y: np.ndarray, v: np.ndarray, tau2_method: str) -> float:
    """Slope of ``rma.uni(y, v, mods = sqrt(v), method = tau2_method)``."""
    k = y.size
    if tau2_method not in REGRESSION_TAU2:
        _regression_tau2(y, v, np.ones((k, 1)), tau2_method)  # raises the explanation
    need = 2 if tau2_method == "FE" else 3
    if k < need:
        raise ValueError(
            f"choosing the trim-and-fill side fits a meta-regression on sqrt(v) with "
            f"{tau2_method}, which needs k >= {need} studies (k = {k}); pass side='left' or 'right'"
        )
    sei = np.sqrt(v)
    centred = sei - sei.mean()
    if np.linalg.norm(centred) <= 1e-7 * np.linalg.norm(sei):
        raise ValueError(
            "cannot choose the trim-and-fill side: all sampling variances are equal, so the "
            "regression on sqrt(v) is not identified; pass side='left' or 'right'"
        )
    if np.ptp(y) == 0:
        return 0.0  # identical effect sizes: the slope is exactly zero
    X = np.column_stack([np.ones(k), sei])
    tau2 = _regression_tau2(y, v, X, tau2_method)
    w = 1.0 / (v + tau2)
    wx = X * w[:, None]
    beta = np.linalg.solve(X.T @ wx, wx.T @ y)
    return float(beta[1])


def _check_trimfill_options(estimator: str, side: str | None, k: int) -> None:
    """ValueError for an unknown estimator or side, or k < 2."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator {estimator!r} is not one of {ESTIMATORS}")
    if side is not None and side not in SIDES:
        raise ValueError(f"side {side!r} is not one of {SIDES} (or None to choose it)")
    if k < 2:
        raise ValueError("trim and fill needs k >= 2 studies (metafor: 'Stopped because k = 1.')")


def _trim(ys: np.ndarray, vs: np.ndarray, estimator: str, tau2_method: str, maxiter: int):
    """The trim-and-fill iterations on the sorted effects ``ys`` (negated for the right side):
    ``(k0, beta, yi_c, se_k0, iterations)`` with ``beta`` the last pooled estimate of the
    ``k - k0`` smallest studies and ``yi_c = ys - beta``."""
    k = ys.size
    k0_sav, k0, iteration = -1, 0, 0
    beta = float("nan")
    yi_c = np.zeros(k)
    se_k0 = float("nan")
    while abs(k0 - k0_sav) > 0:
        k0_sav = k0
        iteration += 1
        if iteration > maxiter:
            raise ValueError(f"trim and fill did not converge in maxiter = {maxiter} iterations")
        if k - k0 < 1:
            raise ValueError(
                f"trim and fill estimated k0 = {k0} missing studies out of k = {k}, which leaves "
                "no study to estimate the effect from (metafor: 'k = 0')"
            )
        trimmed_y, trimmed_v = ys[: k - k0], vs[: k - k0]
        if np.ptp(trimmed_y) == 0:
            # one study, or identical ones: the estimate is that value exactly, so
            # their deviations are exactly 0 rather than rounding noise of either sign
            beta = trimmed_y[0]
        else:
            beta = fit_random_effects(trimmed_y, trimmed_v, tau2_method, "z").estimate
        yi_c = ys - beta
        rank = np.empty(k)
        rank[np.argsort(np.abs(yi_c), kind="stable")] = np.arange(1, k + 1)  # ties.method = "first"
        k0_raw, se_k0 = _k0_estimate(np.sign(yi_c) * rank, estimator)
        k0 = int(max(0.0, np.round(k0_raw)))
        se_k0 = float(np.maximum(0.0, se_k0))  # NaN stays NaN, as R's max(0, NaN)
    return k0, beta, yi_c, se_k0, iteration


def _k0_estimate(signed: np.ndarray, estimator: str):
    """``(k0, se(k0))`` before rounding, from the signed ranks of the deviations, by the
    L0, R0 or Q0 estimator with metafor's standard errors."""
    k = signed.size
    if estimator == "R0":
        neg = signed[signed < 0]
        if neg.size:
            k0_raw = (k - np.max(-neg)) - 1
        elif np.any(signed > 0):
            raise ValueError(
                "R0: no study lies below the trimmed estimate, so the rightmost run of positive ranks is undefined"
            )
        else:
            k0_raw = -1.0  # all deviations zero: no run of positive ranks
        return k0_raw, float(np.sqrt(2 * max(0.0, k0_raw) + 2))
    sr = float(signed[signed > 0].sum())
    if estimator == "L0":
        k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
    else:
        disc = 2 * k**2 - 4 * sr + 0.25
        if disc < 0:
            raise ValueError(
                "Q0: 2k^2 - 4 Sr + 1/4 is negative, so the estimator is undefined "
                "(metafor stops with 'missing value where TRUE/FALSE needed')"
            )
        k0_raw = k - 0.5 - np.sqrt(disc)
    var_sr = (
        k * (k + 1) * (2 * k + 1)
        + 10 * k0_raw**3
        + 27 * k0_raw**2
        + 17 * k0_raw
        - 18 * k * k0_raw**2
        - 18 * k * k0_raw
        + 6 * k**2 * k0_raw
    ) / 24
    with np.errstate(invalid="ignore", divide="ignore"):
        if estimator == "L0":
            se_k0 = float(4 * np.sqrt(np.float64(var_sr)) / (2 * k - 1))
        else:
            se_k0 = float(
                2 * np.sqrt(np.float64(var_sr)) / np.sqrt(np.float64((k - 0.5) ** 2 - k0_raw * (2 * k - k0_raw - 1)))
            )
    return k0_raw, se_k0


def trimfill(
    y,
    v,
    tau2_method: str = "REML",
    ci_method: str = "z",
    estimator: str = "L0",
    side: str | None = None,
    maxiter: int = 100,
    level: float = 0.95,
) -> TrimFillResult:
    """Trim and fill, as metafor's ``trimfill()`` for an ``rma.uni`` model.

    ``side=None`` chooses the side as metafor does: fit
    ``rma.uni(y, v, mods = sqrt(v), method = tau2_method)`` and impute on the
    right when the slope is negative, else on the left. Then, with the effects
    sorted (negated first for the right side), iterate: estimate the pooled effect
    from the ``k - k0`` smallest studies (``tau2_method``), rank the absolute
    deviations from it, and update ``k0`` with the chosen estimator, until ``k0``
    no longer changes. The ``k0`` largest studies are reflected about the last
    pooled estimate and the model is refitted on the augmented data with
    ``tau2_method`` and ``ci_method``.

    Note: metafor 3.8-1 refits with its default test (``"z"``) unless ``test``
    is passed to ``trimfill()``; this function's default ``ci_method="z"``
    matches that, and other values match ``trimfill(res, test = ...)``.

    Where metafor's result hinges on rounding, this function uses exact
    arithmetic: when the trimmed studies are one study (or identical ones) the
    pooled estimate is that value, so their deviations are exactly 0 (metafor's
    ``(1/w) * (w * y)`` can come out one ulp above, which on k = 2 data makes it
    trim every study and stop); with all effect sizes identical the side
    regression's slope is exactly 0, so ``side=None`` gives "left" (metafor's
    choice there follows the sign of rounding noise).

    Raises ``ValueError`` where metafor stops: k < 2; ``side=None`` with too few
    studies for the side regression (k < 3 with a tau² estimator) or equal
    variances; Q0 when its square root is of a negative number; trimming all
    studies; no convergence within ``maxiter`` iterations; and R0 when no study
    lies below the trimmed estimate while some lie above it.
    """
    y, v = check_effect_sizes(y, v)
    _check_trimfill_options(estimator, side, y.size)
    k = y.size
    # validates tau2_method and ci_method before any work
    original = fit_random_effects(y, v, tau2_method, ci_method, level)
    if side is None:
        side = "right" if _egger_slope(y, v, tau2_method) < 0 else "left"

    ys = -1.0 * y if side == "right" else y.copy()
    order = np.argsort(ys, kind="stable")  # R's sort(index.return = TRUE) is stable
    ys, vs = ys[order], v[order]
    k0, beta, yi_c, se_k0, iteration = _trim(ys, vs, estimator, tau2_method, maxiter)

    if k0 > 0:
        yi_c = -1.0 * (yi_c - beta) if side == "right" else yi_c - beta
        yi_fill = np.concatenate([y, -1.0 * yi_c[k - k0 :]])
        vi_fill = np.concatenate([v, vs[k - k0 :]])
        fit = fit_random_effects(yi_fill, vi_fill, tau2_method, ci_method, level)
        filled = np.concatenate([np.zeros(k, bool), np.ones(k0, bool)])
    else:
        yi_fill, vi_fill, fit, filled = y.copy(), v.copy(), original, np.zeros(k, bool)
    if estimator == "R0":
        m = np.arange(-1, k0)
        p_k0 = float(1 - np.sum(0.5 ** (m + 2)))
    else:
        p_k0 = float("nan")
    return TrimFillResult(
        k0=k0,
        se_k0=se_k0,
        p_k0=p_k0,
        side=side,
        estimator=estimator,
        k=k,
        yi=yi_fill,
        vi=vi_fill,
        filled=filled,
        fit=fit,
        iterations=iteration,
        mirrors=order[k - k0 :] if k0 > 0 else np.empty(0, dtype=int),
    )


# --------------------------------------------------------------------------- regression test


@dataclass(frozen=True)
class RegtestResult:
    """Egger's regression test, as metafor's ``regtest``.

    Attributes
    ----------
    model : ``"rma"`` (mixed-effects meta-regression on the predictor) or
        ``"lm"`` (weighted least squares with a multiplicative dispersion
        parameter: the classical Egger test).
    predictor : the predictor added to the model ("sei" = standard error, ...).
    zval : statistic of the predictor's coefficient (a t statistic for
        ``"lm"`` and for ``ci_method="knha"``; also :attr:`tval`).
    pval : its two-sided p-value.
    df : t degrees of freedom, k - 2 (None for a z test).
    est, ci_low, ci_high : the limit estimate: the intercept, i.e. the effect
        expected as the predictor goes to 0 (sei → 0, vi → 0 or 1/n → 0), with its
        CI; None for the predictors "ni" and "sqrtni", for which metafor gives none.
    fit : the fitted model. For ``"lm"`` it is the fixed-effects fit with the
        Knapp-Hartung scale, which is the same fit as ``lm(yi ~ sei, weights = 1/vi)``.
    """

    model: str
    predictor: str
    zval: float
    pval: float
    df: int | None
    est: float | None
    ci_low: float | None
    ci_high: float | None
    fit: MetaRegressionResult

    @property
    def tval(self) -> float:
        return self.zval


def regtest(
    y,
    v,
    model: str = "rma",
    predictor: str = "sei",
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
    ni=None,
) -> RegtestResult:
    """Egger's regression test for funnel-plot asymmetry, as metafor's ``regtest``.

    ``model="rma"`` (metafor's default) fits the mixed-effects meta-regression
    ``y = b0 + b1·predictor`` with ``tau2_method`` and ``ci_method`` and tests b1;
    ``model="lm"`` is the classical Egger test: weighted least squares with
    weights 1/v and a multiplicative dispersion parameter, t test with k - 2 df.
    ``predictor`` is ``"sei"`` (√v, the default), ``"vi"``, or, with sample sizes
    ``ni``, ``"ni"``, ``"ninv"`` (1/n), ``"sqrtni"`` or ``"sqrtninv"`` (1/√n).

    ``est`` is metafor's limit estimate: the intercept b0, i.e. the effect
    expected for a study whose predictor is 0 (sei → 0, the "limit" or PET
    estimate), with its CI at ``level`` (from the fit, or t(k - 2) for ``"lm"``).
    Needs k >= 3.
    """
    y, v = check_effect_sizes(y, v)
    if model not in REGTEST_MODELS:
        raise ValueError(f"model {model!r} is not one of {REGTEST_MODELS}")
    if predictor not in REGTEST_PREDICTORS:
        raise ValueError(f"predictor {predictor!r} is not one of {REGTEST_PREDICTORS}")
    level = check_level(level)
    k = y.size
    if k < 3:
        raise ValueError(f"regtest needs k >= 3 studies (got k = {k})")
    if predictor in ("sei", "vi"):
        x = np.sqrt(v) if predictor == "sei" else v
    else:
        if ni is None:
            raise ValueError(f"predictor {predictor!r} needs the sample sizes ni")
        n = np.asarray(ni, dtype=float)
        if n.shape != y.shape or not np.all(np.isfinite(n)) or np.any(n <= 0):
            raise ValueError("ni must be k finite sample sizes > 0")
        x = {"ni": n, "ninv": 1.0 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1.0 / np.sqrt(n)}[predictor]
    X = np.column_stack([np.ones(k), x])
    if np.ptp(x) == 0.0:
        raise ValueError(f"predictor {predictor!r} is the same in every study: the test is undefined")
    if model == "rma":
        fit = fit_meta_regression(y, v, X, tau2_method, ci_method, level, coef_names=[INTERCEPT_NAME, predictor])
    else:
        # lm(yi ~ predictor, weights = 1/vi): the fixed-effects fit scaled by the
        # residual mean square, which is the Knapp-Hartung scale with tau2 = 0
        fit = fit_meta_regression(y, v, X, "FE", "knha", level, coef_names=[INTERCEPT_NAME, predictor])
    limit = predictor in ("sei", "vi", "ninv", "sqrtninv")
    return RegtestResult(
        model=model,
        predictor=predictor,
        zval=float(fit.zval[1]),
        pval=float(fit.pval[1]),
        df=fit.df,
        est=float(fit.coef[0]) if limit else None,
        ci_low=float(fit.ci_low[0]) if limit else None,
        ci_high=float(fit.ci_high[0]) if limit else None,
        fit=fit,
    )
