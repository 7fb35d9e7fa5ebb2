"""Heterogeneity by subgroup: the location-scale model with one factor, as metafor's
``rma(yi, vi, mods = ~ site, scale = ~ site, method)`` (Viechtbauer & López-López,
Res Synth Methods 2022;13:697-715).

The model gives each site its own mean and its own τ², with the log link
``log τ²_i = z_i'α``: with ``scale = ~ site`` α is coded as R codes a factor, the first
site's log τ² and each other site's difference from it. The test that τ² is equal
across sites is metafor's ``QS``, the Wald test of the differences (χ² on G - 1 df);
the likelihood-ratio test against ``rma(yi, vi, mods = ~ site, method)`` (one τ²) is
given too, as ``anova`` of the two fits would.

When mods and scale are the same factor the (restricted) likelihood is a sum over the
sites, each the likelihood of that site's own random-effects model: the ML or REML
τ² of each site is that of ``rma(yi, vi, method)`` on its studies alone (solved to
machine precision by :func:`sbrtmeta.stats.random_effects.tau2_batch`). The covariance
of α is the inverse of the observed information in log τ² (metafor takes it from a
numerical Hessian of the profiled likelihood, beta profiled out): per site
``-(τ⁴ ℓ''(τ²) + τ² ℓ'(τ²))`` with, for w = 1/(v + τ²) and r = y - μ̂,

    ML:   ℓ' = -½ (Σw - Σw²r²),  ℓ'' = -½ (-Σw² + 2Σw³r² - 2(Σw²r)²/Σw),
    REML: ℓ' + ½ Σw²/Σw,         ℓ'' - ½ (2Σw³/Σw - (Σw²)²/(Σw)²).

A site whose τ² is 0 has log τ² = -∞ (the boundary of the log link): its α and the
QS test are not defined (NaN, with a note); the likelihood-ratio test still is.
Functions take arrays and return result objects; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.stats.distributions import chi2_sf
from sbrtmeta.stats.inference import (
    LIKELIHOOD_TAU2,
    Coefficients,
    FixedEffects,
    check_effect_sizes,
    check_level,
    check_tau2_method,
    critical_value,
)
from sbrtmeta.stats.meta_regression import design_matrix, fit_meta_regression
from sbrtmeta.stats.model_comparison import gls_loglik, likelihood_ratio_test
from sbrtmeta.stats.random_effects import tau2_batch


@dataclass(frozen=True)
class LocationScaleResult(Coefficients):
    """``rma(yi, vi, mods = ~ group, scale = ~ group, method)`` and its tests
    (Viechtbauer & López-López, Res Synth Methods 2022;13:697-715).

    Attributes
    ----------
    groups : the sites (levels, reference first); k : studies per site.
    tau2 : τ² per site (metafor's ``res$tau2`` of the site's studies).
    log_tau2_se : standard error of each site's log τ² (NaN for a τ² of 0).
    tau2_ci_low, tau2_ci_high : Wald intervals exp(log τ² ± crit se) at ``level``
        (``predict(res, newscale, transf = exp)``); NaN for a τ² of 0.
    alpha_names, alpha, se_alpha : the scale coefficients (``res$alpha``, ``res$se.alpha``).
    fixed : the location coefficients (:class:`~sbrtmeta.stats.inference.FixedEffects`:
        intercept, then each site's difference; z tests, as metafor's ``res$beta``,
        ``res$se``, ...), forwarded as ``coef``, ``se``, ... ; also :attr:`beta` and
        :attr:`se_beta` beside ``alpha`` and ``se_alpha``.
    QS, QS_df, QS_p : Wald test that τ² is equal across sites (metafor's ``QS``).
    loglik, ll_equal : (restricted) log-likelihoods of this model (also :attr:`ll`) and of
        the one-τ² model ``rma(yi, vi, mods = ~ group, method)``, on metafor's scale
        (``logLik``).
    tau2_equal : the common τ² of that model.
    LRT, LRT_df, LRT_p : 2 (ll - ll_equal) on G - 1 df.
    tau2_method, level : as fitted. note : why a test is missing, or "".
    """

    groups: tuple
    k: tuple
    tau2: np.ndarray
    log_tau2_se: np.ndarray
    tau2_ci_low: np.ndarray
    tau2_ci_high: np.ndarray
    alpha_names: tuple
    alpha: np.ndarray
    se_alpha: np.ndarray
    fixed: FixedEffects
    QS: float
    QS_df: int
    QS_p: float
    loglik: float
    ll_equal: float
    tau2_equal: float
    LRT: float
    LRT_df: int
    LRT_p: float
    tau2_method: str
    note: str

    @property
    def beta(self) -> np.ndarray:
        """The location coefficients (``res$beta``)."""
        return self.fixed.coef

    @property
    def se_beta(self) -> np.ndarray:
        """Their standard errors (``res$se``)."""
        return self.fixed.se

    @property
    def ll(self) -> float:
        """``loglik``, under the name it has beside ``ll_equal`` (``anova``'s two fits)."""
        return self.loglik


def _information_log_tau2(y, v, tau2: float, reml: bool) -> float:
    """Observed information of log τ² in one group's intercept-only (restricted) likelihood."""
    w = 1.0 / (v + tau2)
    sw, sw2, sw3 = w.sum(), (w * w).sum(), (w**3).sum()
    r = y - np.sum(w * y) / sw
    d1 = -0.5 * (sw - np.sum(w * w * r * r))
    d2 = -0.5 * (-sw2 + 2.0 * np.sum(w**3 * r * r) - 2.0 * np.sum(w * w * r) ** 2 / sw)
    if reml:
        d1 += 0.5 * sw2 / sw
        d2 -= 0.5 * (2.0 * sw3 / sw - sw2**2 / sw**2)
    return float(-(tau2**2 * d2 + tau2 * d1))


def location_scale_by_group(y, v, groups, tau2_method: str = "REML", level: float = 0.95) -> LocationScaleResult:
    """Fit ``rma(yi, vi, mods = ~ group, scale = ~ group, method = tau2_method)`` (REML or ML).

    Every group needs at least 2 studies (a τ² of one study is not estimable); groups are
    sorted (code-point order, as R's factor levels in the C locale), the first is the
    reference of α and β.
    """
    y, v = check_effect_sizes(y, v)
    check_tau2_method(tau2_method, LIKELIHOOD_TAU2)
    level = check_level(level)
    g = np.asarray(groups).astype(str)
    if g.shape != y.shape:
        raise ValueError(f"groups has {g.size} labels for k = {y.size} studies")
    levels = tuple(sorted(set(g)))
    if len(levels) < 2:
        raise ValueError(f"a location-scale model by group needs at least 2 groups (found {list(levels)})")
    sizes = tuple(int(np.sum(g == lv)) for lv in levels)
    if min(sizes) < 2:
        raise ValueError(f"every group needs at least 2 studies for its own τ² (sizes {dict(zip(levels, sizes))})")
    reml = tau2_method == "REML"
    tau2 = np.array([float(tau2_batch(y[g == lv], v[g == lv], tau2_method)[0]) for lv in levels])
    X, _ = design_matrix(pd.DataFrame({"site": pd.Categorical(g, categories=levels)}))
    alpha_names = ("intrcpt",) + tuple(f"site{lv}" for lv in levels[1:])
    tau2_rows = tau2[np.searchsorted(levels, g)]
    ll = gls_loglik(y, v, X, tau2_rows, reml)
    w = 1.0 / (v + tau2_rows)
    Finv = np.linalg.inv((X.T * w) @ X)
    location = FixedEffects(alpha_names, Finv @ ((X.T * w) @ y), Finv, None, level)
    eq = fit_meta_regression(y, v, X, tau2_method, "z")
    ll_eq = gls_loglik(y, v, X, eq.tau2, reml)
    G = len(levels)
    lrt = likelihood_ratio_test(ll, ll_eq, G - 1)
    crit = critical_value(level)
    note = ""
    if np.all(tau2 > 0):
        theta = np.log(tau2)
        var_theta = np.array(
            [1.0 / _information_log_tau2(y[g == lv], v[g == lv], t, reml) for lv, t in zip(levels, tau2)]
        )
        J = np.eye(G)
        J[1:, 0] = -1.0
        alpha = J @ theta
        va = J @ np.diag(var_theta) @ J.T
        qs = float(alpha[1:] @ np.linalg.solve(va[1:, 1:], alpha[1:]))
        qs_p = float(chi2_sf(qs, G - 1))
        se_alpha = np.sqrt(np.diag(va))
        ci_low, ci_high = np.exp(theta - crit * np.sqrt(var_theta)), np.exp(theta + crit * np.sqrt(var_theta))
    else:
        zero = [lv for lv, t in zip(levels, tau2) if t == 0]
        note = f"τ² is 0 at {', '.join(zero)}: log τ² is -∞ there, so α and the Wald test QS are not defined"
        alpha = se_alpha = np.full(G, np.nan)
        qs = qs_p = float("nan")
        ci_low = ci_high = var_theta = np.full(G, np.nan)
    return LocationScaleResult(
        groups=levels,
        k=sizes,
        tau2=tau2,
        log_tau2_se=np.sqrt(var_theta),
        tau2_ci_low=ci_low,
        tau2_ci_high=ci_high,
        alpha_names=alpha_names,
        alpha=alpha,
        se_alpha=se_alpha,
        fixed=location,
        QS=qs,
        QS_df=G - 1,
        QS_p=qs_p,
        loglik=ll,
        ll_equal=ll_eq,
        tau2_equal=float(eq.tau2),
        LRT=lrt.LRT,
        LRT_df=lrt.df,
        LRT_p=lrt.pval,
        tau2_method=tau2_method,
        note=note,
    )
