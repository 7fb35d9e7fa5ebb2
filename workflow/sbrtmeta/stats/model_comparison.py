"""Likelihood-ratio tests between nested models fitted by maximum likelihood, as metafor's
``anova(full, reduced)`` of two ``rma`` or ``rma.mv`` fits with ``method = "ML"``.

Two nested models with the same random effects and different fixed effects are compared
by LRT = 2 (ℓ_full - ℓ_reduced) on a χ² with as many df as the full model has more
parameters (Wilks, Ann Math Stat 1938;9:60-62). Fixed effects are compared with ML
fits: REML likelihoods of models with different fixed effects are not comparable
(Harville, J Am Stat Assoc 1977;72:320-338). Functions take numbers or arrays and
return result objects; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbrtmeta.stats.distributions import chi2_sf

_LOG2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class LikelihoodRatioResult:
    """``anova(full, reduced)``: ll_full, ll_reduced (metafor's ``logLik``), LRT
    (metafor's ``LRT``, at least 0), df (difference in parameters) and pval (χ²)."""

    ll_full: float
    ll_reduced: float
    LRT: float
    df: int
    pval: float


def likelihood_ratio_test(ll_full: float, ll_reduced: float, df: int) -> LikelihoodRatioResult:
    """The LRT of a full model against a nested reduced one with ``df`` fewer parameters."""
    if int(df) < 1:
        raise ValueError(f"the full model must have more parameters than the reduced one (df = {df})")
    lrt = max(0.0, 2.0 * (float(ll_full) - float(ll_reduced)))
    return LikelihoodRatioResult(float(ll_full), float(ll_reduced), lrt, int(df), float(chi2_sf(lrt, int(df))))


def gls_loglik(y, v, X, tau2, reml: bool) -> float:
    """The (restricted) log-likelihood of ``rma`` at τ² (a number, or one per row), with
    metafor's constants: ``-½ (n log 2π + Σ log(v + τ²) + r'Wr)``, n = k for ML; for REML
    n = k - p and ``+ ½ log|X'X| - ½ log|X'WX|``."""
    y, v, X = np.asarray(y, float), np.asarray(v, float), np.asarray(X, float)
    w = 1.0 / (v + tau2)
    XtW = X.T * w
    F = XtW @ X
    r = y - X @ np.linalg.solve(F, XtW @ y)
    k, p = X.shape
    ll = -0.5 * (np.sum(np.log(v + tau2)) + np.sum(w * r * r))
    if not reml:
        return float(ll - 0.5 * k * _LOG2PI)
    return float(ll - 0.5 * (k - p) * _LOG2PI + 0.5 * np.linalg.slogdet(X.T @ X)[1] - 0.5 * np.linalg.slogdet(F)[1])
