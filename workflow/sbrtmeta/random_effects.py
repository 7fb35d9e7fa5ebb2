"""Common-effect and random-effects models for one set of effect sizes.

The estimators follow metafor's ``rma.uni`` (Viechtbauer, J Stat Softw 2010;36(3)):

* τ² by REML (Viechtbauer, J Educ Behav Stat 2005;30:261-293) or by the
  DerSimonian-Laird moment estimator (Control Clin Trials 1986;7:177-188),
  truncated at zero;
* Wald (z) or Knapp-Hartung (t with k-1 df; Knapp & Hartung, Stat Med
  2003;22:2693-2710) confidence intervals;
* the prediction interval of ``predict.rma`` (Riley et al., BMJ 2011;342:d549);
* Cochran's Q, I² and H² (Higgins & Thompson, Stat Med 2002;21:1539-1558).

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

TAU2_METHODS = ("REML", "DL", "FE")
CI_METHODS = ("knha", "z")


@dataclass(frozen=True)
class RandomEffectsResult:
    """A fitted model, on the scale of the effect sizes.

    Attributes
    ----------
    estimate, se : pooled estimate and its standard error.
    ci_low, ci_high : confidence interval of the estimate.
    pi_low, pi_high : prediction interval for a new study's true effect (NaN for
        the common-effect model, as ``predict.rma`` gives none).
    tau2 : between-study variance (0 for the common-effect model).
    q, q_df, q_p : Cochran's Q for heterogeneity, its df and p-value.
    i2, h2 : I² (in %) and H², as metafor reports them.
    k : number of studies.
    tau2_method, ci_method : what was used ("REML"/"DL"/"FE", "knha"/"z").
    df : degrees of freedom of the t distribution (None for z).
    weights : relative weights of the studies, in % (sum to 100).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    k: int
    tau2_method: str
    ci_method: str
    df: int | None
    weights: np.ndarray


def _check(y, v):
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise ValueError("y and v must be 1-d arrays of one length")
    if y.size == 0:
        raise ValueError("no studies to pool (k = 0)")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ValueError("effect sizes and variances must be finite (found NaN or inf)")
    if np.any(v <= 0):
        raise ValueError("sampling variances must be > 0")
    return y, v


def _reml_score(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Derivative of the restricted log-likelihood with respect to τ² (times 2)."""
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = (w * y).sum() / sw
    return float((w**2 * (y - mu) ** 2).sum() - sw + (w**2).sum() / sw)


def tau2_reml(y, v) -> float:
    """REML estimate of τ², truncated at zero.

    The root of the restricted score is bracketed and solved with Brent's method
    to machine precision, so it agrees with metafor's Fisher scoring once that has
    converged (``control = list(threshold = 1e-12)``).
    """
    y, v = _check(y, v)
    if y.size < 2 or _reml_score(0.0, y, v) <= 0.0:
        return 0.0
    hi = max(float(np.var(y, ddof=1)), float(v.mean()), 1e-8)
    while _reml_score(hi, y, v) > 0.0:
        hi *= 2.0
        if hi > 1e12:
            raise RuntimeError("REML: no upper bracket for tau2 (effect sizes too spread)")
    return float(optimize.brentq(_reml_score, 0.0, hi, args=(y, v), xtol=1e-15, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


def tau2_dl(y, v) -> float:
    """DerSimonian-Laird estimate of τ², truncated at zero."""
    y, v = _check(y, v)
    w = 1.0 / v
    mu = (w * y).sum() / w.sum()
    q = (w * (y - mu) ** 2).sum()
    c = w.sum() - (w**2).sum() / w.sum()
    return float(max(0.0, (q - (y.size - 1)) / c)) if y.size > 1 else 0.0


def fit_random_effects(y, v, tau2_method: str = "REML", ci_method: str = "knha",
                       level: float = 0.95) -> RandomEffectsResult:
    """Fit a common-effect (``FE``) or random-effects model, as ``rma.uni``.

    ``ci_method="knha"`` gives Knapp-Hartung standard errors with t(k-1) intervals,
    as ``test="knha"`` in metafor; ``"z"`` gives Wald intervals. The prediction
    interval uses the same critical value, as ``predict.rma`` does.
    """
    y, v = _check(y, v)
    if tau2_method not in TAU2_METHODS:
        raise ValueError(f"tau2_method {tau2_method!r} is not one of {TAU2_METHODS}")
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method {ci_method!r} is not one of {CI_METHODS}")
    k = y.size
    if ci_method == "knha" and k < 2:
        raise ValueError("Knapp-Hartung intervals need k >= 2 studies")
    tau2 = {"REML": tau2_reml, "DL": tau2_dl, "FE": lambda *_: 0.0}[tau2_method](y, v)

    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = float((w * y).sum() / sw)
    if ci_method == "knha":
        s2 = float((w * (y - mu) ** 2).sum() / (k - 1))
        se = float(np.sqrt(s2 / sw))
        df = k - 1
        crit = float(stats.t.ppf(0.5 + level / 2, df))
    else:
        se = float(np.sqrt(1.0 / sw))
        df = None
        crit = float(stats.norm.ppf(0.5 + level / 2))
    pi_se = float(np.sqrt(se**2 + tau2))

    wf = 1.0 / v
    mu_fe = (wf * y).sum() / wf.sum()
    q = float((wf * (y - mu_fe) ** 2).sum())
    q_p = float(stats.chi2.sf(q, k - 1)) if k > 1 else float("nan")
    if k > 1 and tau2_method == "FE":
        # metafor's common-effect I² and H² come from Q itself
        i2 = max(0.0, 100.0 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
    elif k > 1:
        vt = (k - 1) / (wf.sum() - (wf**2).sum() / wf.sum())
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = (vt + tau2) / vt
    else:
        i2, h2 = 0.0, 1.0
    return RandomEffectsResult(
        estimate=mu, se=se, ci_low=mu - crit * se, ci_high=mu + crit * se,
        pi_low=mu - crit * pi_se if tau2_method != "FE" else float("nan"),
        pi_high=mu + crit * pi_se if tau2_method != "FE" else float("nan"), tau2=float(tau2),
        q=q, q_df=k - 1, q_p=q_p, i2=float(i2), h2=float(h2), k=k,
        tau2_method=tau2_method, ci_method=ci_method, df=df, weights=100.0 * w / sw,
    )
