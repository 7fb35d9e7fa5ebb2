"""Tests for heteroscedastic heterogeneity, as metafor 5's ``hettest()`` (asymptotic p-values,
``boot = FALSE``).

The null model is the random-effects model ``rma(yi, vi, method)`` (ML or REML): one τ² shared
by every study. The alternative gives each study its own τ²_i, so that the studies' true
effects may be spread unequally (heteroscedastic heterogeneity, e.g. τ² differing by site or
design; Viechtbauer, metafor 5.0 NEWS and ``help(hettest)``). Three tests on k - 1 df:

* ``"score"`` (metafor's default): the score of the τ²_i at the null estimate,
  ``U' I⁻¹ U``; under ML ``½ Σ (w_i r_i² - 1)²``; under REML with the REML score
  ``U_i = ½ w_i² r_i² - ½ w_i + ½ w_i² / Σw`` and its information matrix;
* ``"lrt"``: -2 (ℓ₀ - ℓ_sat), ℓ_sat at the τ²_i that maximise the (restricted) likelihood,
  found by metafor's fixed-point iteration τ²_i = max(0, r_i² - v_i [+ 1/Σw under REML]) from
  τ²_i = max(τ̂², 0.01);
* ``"wald"``: the Wald test that the k τ²_i are equal (the k - 1 contrasts τ²_1 - τ²_j),
  with their covariance the inverse information at the τ²_i.

It complements the location-scale model (:mod:`sbrtmeta.stats.location_scale`), which tests a
structured alternative (τ² by a moderator such as site); hettest needs no moderator. metafor's
bootstrap p-values (``boot = TRUE``, its default) are random draws; the pipeline gives the
asymptotic ones. Arrays in, a result object out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbrtmeta.stats.distributions import chi2_sf
from sbrtmeta.stats.inference import LIKELIHOOD_TAU2, check_effect_sizes, check_tau2_method
from sbrtmeta.stats.model_comparison import gls_loglik
from sbrtmeta.stats.random_effects import fit_random_effects

HETTESTS = ("score", "lrt", "wald")


@dataclass(frozen=True)
class HetTestResult:
    """metafor's ``hettest(res, test = tests, boot = FALSE)`` (Viechtbauer, J Stat Softw
    2010;36(3); metafor 5.0).

    Attributes
    ----------
    tests : the tests, in the order asked (of :data:`HETTESTS`).
    statistic, pval : each test's χ² statistic and its p-value on ``df``.
    df : k - 1.
    tau2 : the null model's τ² (ML or REML).
    tau2i : the study-specific τ²_i of the saturated model (fixed-point estimates).
    se_tau2i : their standard errors (the Wald test's); NaN where the information is singular.
    tau2_method : ``"REML"`` or ``"ML"``.
    k : number of studies.
    """

    tests: tuple
    statistic: np.ndarray
    pval: np.ndarray
    df: int
    tau2: float
    tau2i: np.ndarray
    se_tau2i: np.ndarray
    tau2_method: str
    k: int

    def get(self, test: str) -> tuple[float, float]:
        """``(statistic, pval)`` of ``test``."""
        j = self.tests.index(test)
        return float(self.statistic[j]), float(self.pval[j])


def _tau2i(y, v, tau2, reml: bool, tol: float, max_iter: int) -> np.ndarray:
    """metafor's fixed point of the saturated model's τ²_i (``.hettest.esttau2i``), iterated
    until no τ²_i moves by more than ``tol``."""
    t = np.full(y.size, max(tau2, 0.01))
    for _ in range(max_iter):
        w = 1.0 / (t + v)
        mu = (w * y).sum() / w.sum()
        new = np.maximum((y - mu) ** 2 - v + (1.0 / w.sum() if reml else 0.0), 0.0)
        if np.all(np.abs(new - t) <= tol):
            return new
        t = new
    raise RuntimeError(f"hettest: the tau2_i did not converge in {max_iter} steps")


def _reml_information(var):
    """The REML information matrix of the τ²_i at variances ``var`` (metafor's I)."""
    w = 1.0 / var
    s = w.sum()
    a = 1.0 / (np.sqrt(2.0) * s * var**2)
    info = np.outer(a, a)
    np.fill_diagonal(info, 0.5 * (w - 1.0 / (s * var**2)) ** 2)
    return info


def _score(y, v, mu, tau2, reml: bool) -> float:
    var = v + tau2
    w = 1.0 / var
    r2 = (y - mu) ** 2
    if not reml:
        return float(0.5 * np.sum((w * r2 - 1.0) ** 2))
    u = 0.5 * w**2 * r2 - 0.5 * w + 0.5 * w**2 / w.sum()
    try:
        return float(u @ np.linalg.solve(_reml_information(var), u))
    except np.linalg.LinAlgError:
        return float("nan")


def _wald(v, tau2i, reml: bool):
    """``(statistic, se_tau2i)`` of the Wald test that the τ²_i are equal."""
    var = v + tau2i
    k = v.size
    if reml:
        try:
            cov = np.linalg.inv(_reml_information(var))
        except np.linalg.LinAlgError:
            return float("nan"), np.full(k, np.nan)
    else:
        cov = np.diag(2.0 * var**2)
    se = np.sqrt(np.diag(cov))
    contrast = np.hstack([np.ones((k - 1, 1)), -np.eye(k - 1)])
    diff = contrast @ tau2i
    try:
        return float(diff @ np.linalg.solve(contrast @ cov @ contrast.T, diff)), se
    except np.linalg.LinAlgError:
        return float("nan"), se


def hettest(
    y, v, tau2_method: str = "REML", tests=HETTESTS, tol: float = 1e-13, max_iter: int = 1_000_000
) -> HetTestResult:
    """Tests for heteroscedastic heterogeneity of studies ``y`` with sampling variances ``v``
    (module text), as ``hettest(rma(y, v, method = tau2_method), test = tests, boot = FALSE)``.
    ``tol`` and ``max_iter`` are the τ²_i iteration's (metafor's ``control``). ValueError for
    k < 2, other estimators than ML/REML, or unknown tests."""
    y, v = check_effect_sizes(y, v)
    check_tau2_method(tau2_method, LIKELIHOOD_TAU2)
    tests = tuple(tests)
    for t in tests:
        if t not in HETTESTS:
            raise ValueError(f"hettest: test {t!r} is not one of {HETTESTS}")
    k = y.size
    if k < 2:
        raise ValueError("hettest needs k >= 2 studies (metafor: 'Stopped because k <= 1.')")
    reml = tau2_method == "REML"
    null = fit_random_effects(y, v, tau2_method, "z")
    tau2i = _tau2i(y, v, null.tau2, reml, tol, max_iter)
    ones = np.ones((k, 1))
    wald, se = _wald(v, tau2i, reml)
    values = dict(
        score=_score(y, v, null.estimate, null.tau2, reml),
        lrt=-2.0 * (gls_loglik(y, v, ones, null.tau2, reml) - gls_loglik(y, v, ones, tau2i, reml)),
        wald=wald,
    )
    statistic = np.array([values[t] for t in tests])
    return HetTestResult(
        tests=tests,
        statistic=statistic,
        pval=chi2_sf(statistic, k - 1),
        df=k - 1,
        tau2=null.tau2,
        tau2i=tau2i,
        se_tau2i=se,
        tau2_method=tau2_method,
        k=k,
    )
