"""The inference core every estimator in ``stats/`` shares.

One home for:

* the registry of τ² estimators (``TAU2_METHODS``) and of CI methods (``CI_METHODS``),
  with the subsets each model supports taken from it (:func:`tau2_subset`,
  :func:`ci_subset`): ``LIKELIHOOD_TAU2``, ``REGRESSION_TAU2``, ``KNHA_CI``, ``T_CI``;
* the option checks (:func:`check_tau2_method`, :func:`check_ci_method`), the one
  level check (:func:`check_level`) and the one y/v input check
  (:func:`check_effect_sizes`);
* the one critical value (:func:`critical_value`): the normal quantile for Wald
  intervals, the t quantile for t and Knapp-Hartung intervals;
* the coefficient table (:class:`Coefficients`, mixed into every model with
  coefficients) and the prediction result (:class:`Prediction`) of every model
  that predicts.

Option spelling, everywhere in the Python API: ``tau2_method`` (one of
``TAU2_METHODS``) and ``ci_method``:

* ``"z"``: Wald-type normal intervals and tests (metafor's ``test = "z"``);
* ``"t"``: t intervals on k - p df without adjusting the standard errors
  (``rma.mv(..., test = "t")``);
* ``"knha"``: Knapp-Hartung adjusted standard errors with t on k - p df (Knapp &
  Hartung, Stat Med 2003;22:2693-2710; ``rma.uni(..., test = "knha")``).

Heterogeneity fields are spelled ``tau2``, ``q``, ``q_df``, ``q_p``, ``i2``, ``h2``
in every result, as the columns of ``pooled.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

TAU2_METHODS = ("REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE")
CI_METHODS = ("z", "t", "knha")


def check_tau2_method(name: str, allowed: tuple = TAU2_METHODS) -> str:
    """``name`` if it is one of ``allowed``, else ValueError."""
    if name not in allowed:
        raise ValueError(f"tau2_method {name!r} is not one of {allowed}")
    return name


def check_ci_method(name: str, allowed: tuple = CI_METHODS) -> str:
    """``name`` if it is one of ``allowed``, else ValueError."""
    if name not in allowed:
        raise ValueError(f"ci_method {name!r} is not one of {allowed}")
    return name


def tau2_subset(*names: str) -> tuple:
    """The τ² estimators a model supports, taken from :data:`TAU2_METHODS`, in the order given."""
    for name in names:
        check_tau2_method(name)
    return tuple(names)


def ci_subset(*names: str) -> tuple:
    """The CI methods a model supports, taken from :data:`CI_METHODS`, in the order given."""
    for name in names:
        check_ci_method(name)
    return tuple(names)


# τ² estimators solved by (restricted) maximum likelihood
LIKELIHOOD_TAU2 = tau2_subset("REML", "ML")
# what a meta-regression (and so a subgroup test and Egger's regression test) supports
REGRESSION_TAU2 = tau2_subset("REML", "ML", "DL", "FE")
# CI methods of rma.uni models (random effects, meta-regression): Wald or Knapp-Hartung
KNHA_CI = ci_subset("z", "knha")
# CI methods of rma.mv models (multilevel, dose-response): Wald or t without adjustment
T_CI = ci_subset("z", "t")


def check_level(level: float) -> float:
    """``level`` as a float in (0, 1), else ValueError."""
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    return level


def critical_value(level: float, df=None):
    """Two-sided critical value at ``level``: the normal quantile when ``df`` is None,
    else the t quantile on ``df`` degrees of freedom (a scalar or an array)."""
    if df is None:
        return float(stats.norm.ppf(0.5 + level / 2))
    out = stats.t.ppf(0.5 + level / 2, df)
    return float(out) if np.ndim(out) == 0 else out


def check_effect_sizes(y, v):
    """``y`` and ``v`` as 1-d float arrays; ValueError for k = 0, NaN/inf or v <= 0."""
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise ValueError("y and v must be 1-d arrays of one length")
    if y.size == 0:
        raise ValueError("no studies (k = 0)")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ValueError("effect sizes and variances must be finite (found NaN or inf)")
    if np.any(v <= 0):
        raise ValueError("sampling variances must be > 0")
    return y, v


def wald_tests(coef, se, df=None):
    """Test statistics ``coef / se`` and their two-sided p-values (normal, or t on ``df``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = coef / se
    pval = 2 * (stats.t.sf(np.abs(zval), df) if df is not None else stats.norm.sf(np.abs(zval)))
    return zval, pval


def omnibus_test(coef, vcov, btt, df=None):
    """Wald test that the coefficients ``btt`` are all 0 (metafor's QM): χ² on m df,
    or with ``df`` F = QM/m on (m, df); returns ``(QM, (m, df), p)``."""
    btt = list(btt)
    m = len(btt)
    bb = coef[btt]
    try:
        qm = float(bb @ np.linalg.solve(vcov[np.ix_(btt, btt)], bb))
    except np.linalg.LinAlgError:
        qm = float("nan")
    if df is None:
        return qm, (m, None), float(stats.chi2.sf(qm, m))
    qm /= m
    return qm, (m, df), float(stats.f.sf(qm, m, df))


class Coefficients:
    """The coefficient table of a fitted model with ``coef``, ``se``, ``zval``, ``pval``,
    ``ci_low``, ``ci_high``, ``df`` (None for z) and ``level`` fields, as metafor prints
    it (``coef(summary(res))``) and as statsmodels' ``summary_frame`` gives it."""

    @property
    def tval(self) -> np.ndarray:
        """The test statistics under their t name (same as ``zval``)."""
        return self.zval

    def conf_int(self, level: float | None = None) -> np.ndarray:
        """Confidence intervals of the coefficients at ``level`` (default: the fit's),
        as an array of shape (p, 2), as statsmodels' ``conf_int``."""
        if level is None:
            return np.column_stack([self.ci_low, self.ci_high])
        crit = critical_value(check_level(level), self.df)
        return np.column_stack([self.coef - crit * self.se, self.coef + crit * self.se])

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table, one row per coefficient (``term``)."""
        return coefficient_table(self)


def coefficient_table(fit) -> pd.DataFrame:
    """The coefficient table of a fit with coef_names, coef, se, zval, pval, ci_low,
    ci_high and df (None for z tests), one row per coefficient, as metafor prints it."""
    stat = "tval" if fit.df is not None else "zval"
    names = getattr(fit, "coef_names", None) or [f"X{j}" for j in range(len(fit.coef))]
    return pd.DataFrame(
        {
            "coef": fit.coef,
            "se": fit.se,
            stat: fit.zval,
            "pval": fit.pval,
            "ci_low": fit.ci_low,
            "ci_high": fit.ci_high,
        },
        index=pd.Index(names, name="term"),
    )


@dataclass(frozen=True)
class Prediction:
    """Predicted values at design rows ``newX``, as metafor's ``predict.rma``
    (for ``rma.uni`` with ``newmods`` and for ``rma.mv``).

    Attributes
    ----------
    pred, se : predicted mean effects ``newX b`` and their standard errors.
    ci_low, ci_high : confidence intervals of the means.
    pi_low, pi_high : prediction intervals for the true effect of a new study (a new
        arm of a new study in the three-level model), ``pred ± crit √(se² + τ²)``
        with τ² the total between-study variance and the critical value of the
        confidence interval (Riley et al., BMJ 2011;342:d549); NaN for a
        common-effect model, for which metafor gives none.
    df : t degrees of freedom (None for z).
    level : confidence level.
    """

    pred: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    df: int | None
    level: float


def predict_rows(newX, coef, vcov, tau2: float | None, df, level: float) -> Prediction:
    """:class:`Prediction` at the rows of ``newX`` for coefficients ``coef`` with
    covariance ``vcov``; ``tau2`` None gives no prediction interval (common effect)."""
    pred = newX @ coef
    vpred = np.einsum("ij,jk,ik->i", newX, vcov, newX)
    se = np.sqrt(np.where(vpred < 0, np.nan, vpred))
    crit = critical_value(level, df)
    if tau2 is None:
        pi_low = pi_high = np.full(pred.shape, np.nan)
    else:
        pi_se = np.sqrt(se**2 + tau2)
        pi_low, pi_high = pred - crit * pi_se, pred + crit * pi_se
    return Prediction(
        pred=pred,
        se=se,
        ci_low=pred - crit * se,
        ci_high=pred + crit * se,
        pi_low=pi_low,
        pi_high=pi_high,
        df=df,
        level=level,
    )
