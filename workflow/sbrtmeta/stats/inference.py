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
* the fixed effects of every model with coefficients (:class:`FixedEffects`: names,
  estimates, covariance, df and level, from which the standard errors, tests, intervals,
  the omnibus test and the coefficient table follow) and its test for heterogeneity
  (:class:`Heterogeneity`); the :class:`Coefficients` mixin forwards their fields
  (``fit.coef``, ``fit.QM``, ``fit.q``, ...), so that each is declared once;
* the prediction result (:class:`Prediction`) of every model that predicts.

Option spelling, everywhere in the Python API: ``tau2_method`` (one of
``TAU2_METHODS``) and ``ci_method``:

* ``"z"``: Wald-type normal intervals and tests (metafor's ``test = "z"``);
* ``"t"``: t intervals on k - p df without adjusting the standard errors
  (``rma.mv(..., test = "t")``);
* ``"knha"``: Knapp-Hartung adjusted standard errors with t on k - p df (Knapp &
  Hartung, Stat Med 2003;22:2693-2710; ``rma.uni(..., test = "knha")``);
* ``"adhoc"``: Knapp-Hartung with the ad hoc correction: the scale factor is at least 1, so
  the interval is never narrower than the Wald-type one on the same t df (Jackson et al., Stat
  Med 2017;36:3923-3934; ``rma.uni(..., test = "adhoc")``). It stops the zero-width intervals
  Knapp-Hartung gives when the studies agree exactly (scale factor 0).

The prediction interval's df (``PI_DF``, :func:`prediction_df`) and the back-transform of the
pooled value (``BACK_TRANSFORMS``) are registered here too.

Heterogeneity fields are spelled ``tau2``, ``q``, ``q_df``, ``q_p``, ``i2``, ``h2``
in every result, as the columns of ``pooled.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sbrtmeta.stats.distributions import chi2_sf, f_sf, norm_ppf, norm_sf, t_ppf, t_sf

# every τ² estimator metafor 5.1-12's rma.uni accepts (its spelling), then its aliases:
# EE and CE are FE (common effect), CO and VC are HE, MP is PM
TAU2_ALIASES = {"EE": "FE", "CE": "FE", "CO": "HE", "VC": "HE", "MP": "PM"}
TAU2_METHODS = (
    ("REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE")
    + ("HSk", "DLIT", "SJIT", "PMM", "GENQ", "GENQM")
    + tuple(TAU2_ALIASES)
)
CI_METHODS = ("z", "t", "knha", "adhoc")
# CI methods with the Knapp-Hartung scale factor (rma.uni's test = "knha" | "adhoc")
KNHA_SCALED = ("knha", "adhoc")
# the prediction interval's t df: metafor's predict.rma (the CI's: z, or t on k - p under knha/adhoc),
# meta >= 8.0's default (method.predict = "V": t on k - 1) or Riley et al. 2011's (t on k - 2)
PI_DF = ("metafor", "k-1", "k-2")
# the pooled value as a proportion: the back-transformed mean of the model's scale (the median rate
# of the random-effects distribution), or the mean rate over it (metafor's transf.ilogit.int)
BACK_TRANSFORMS = ("median", "mean")


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


def check_option(name: str, value: str, allowed: tuple) -> str:
    """``value`` if it is one of ``allowed``, else ValueError naming the option ``name``."""
    if value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of {allowed}")
    return value


def canonical_tau2(name: str) -> str:
    """The estimator an alias names (``"EE"`` -> ``"FE"``), after :func:`check_tau2_method`."""
    return TAU2_ALIASES.get(check_tau2_method(name), name)


def refit_tau2(name: str) -> str:
    """The τ² estimator with which leave-one-out, cumulative and GOSH refit a pooled cell:
    its own, or REML where it has none here (GLMM) or needs weights the refits do not carry
    (GENQ, GENQM)."""
    if name not in TAU2_METHODS or canonical_tau2(name) in ("GENQ", "GENQM"):
        return "REML"
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


# τ² estimators that need fixed weights (rma.uni's ``weights``): the generalized Q estimators
WEIGHTED_TAU2 = tau2_subset("GENQ", "GENQM")
# τ² estimators solved by (restricted) maximum likelihood
LIKELIHOOD_TAU2 = tau2_subset("REML", "ML")
# what a meta-regression (and so a subgroup test and Egger's regression test) supports
REGRESSION_TAU2 = tau2_subset("REML", "ML", "DL", "FE")
# CI methods of rma.uni models (random effects, meta-regression): Wald or Knapp-Hartung (with or
# without the ad hoc correction)
KNHA_CI = ci_subset("z", "knha", "adhoc")
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
        return float(norm_ppf(0.5 + level / 2))
    out = t_ppf(0.5 + level / 2, df)
    return float(out) if np.ndim(out) == 0 else out


def knha_scale(rss, df, ci_method: str):
    """The Knapp-Hartung factor ``s2w`` of rma.uni (arrays or scalars): ``rss / df`` under
    ``"knha"``, 0 where the weighted residual sum of squares ``rss`` is at most machine epsilon
    (metafor's guard for identical effect sizes); under ``"adhoc"`` at least 1 (Jackson et al.
    2017); 1 for the other CI methods."""
    if ci_method not in KNHA_SCALED:
        return np.ones_like(np.asarray(rss, dtype=float)) if np.ndim(rss) else 1.0
    rss = np.asarray(rss, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / df)
    if ci_method == "adhoc":
        s2w = np.maximum(s2w, 1.0)
    return float(s2w) if s2w.ndim == 0 else s2w


def prediction_df(pi_df: str, ci_df, k):
    """The t df of the prediction interval (None: the normal quantile) for ``pi_df`` of
    :data:`PI_DF`: ``"metafor"`` the CI's (``ci_df``, as ``predict.rma``); ``"k-1"`` k - 1
    (meta >= 8.0's ``method.predict = "V"``, Veroniki et al., Res Synth Methods 2019;10:255-266);
    ``"k-2"`` k - 2 (Riley et al., BMJ 2011;342:d549; meta's ``"HTS"``), NaN for k < 3, where
    that interval does not exist (meta gives NA). ``k`` may be an array."""
    check_option("pi_df", pi_df, PI_DF)
    if pi_df == "metafor":
        return ci_df
    df = np.asarray(k, dtype=float) - (1.0 if pi_df == "k-1" else 2.0)
    df = np.where(df >= 1, df, np.nan)
    return float(df) if df.ndim == 0 else df


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
    pval = 2 * (t_sf(np.abs(zval), df) if df is not None else norm_sf(np.abs(zval)))
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
        return qm, (m, None), float(chi2_sf(qm, m))
    qm /= m
    return qm, (m, df), float(f_sf(qm, m, df))


INTERCEPT_NAME = "intrcpt"  # metafor's name for the intercept


@dataclass(frozen=True, eq=False)
class FixedEffects:
    """The fixed effects of a fitted model and everything derived from them, as metafor
    prints them (``coef(summary(res))``, ``res$QM``): ``FixedEffects(names, coef, vcov, df,
    level)``.

    Wald-type inference (Wald, Trans Am Math Soc 1943;54:426-482), in metafor's form
    (Viechtbauer, J Stat Softw 2010;36(3):1-48; ``rma.uni``, ``rma.mv``, ``robust``):

    * ``se = sqrt(diag(vcov))``, ``zval = coef / se`` (a t statistic when ``df`` is given;
      also :attr:`tval`), two-sided ``pval`` (normal, or t on ``df``) and intervals
      ``coef ± crit se`` at ``level`` (:func:`critical_value`);
    * the omnibus test of the coefficients ``btt`` (metafor's ``QM``, ``QMdf``, ``QMp``):
      ``QM = b' V⁻¹ b`` on χ²(m), or with a finite ``df`` F = QM/m on (m, df), as
      ``rma(..., test = "knha" | "t")`` (:func:`omnibus_test`). A model whose omnibus test
      is not this Wald test (the HTZ test of :func:`sbrtmeta.stats.robust.robust_cr2`)
      gives it as ``omnibus = (QM, QM_df, QM_p)``.

    Attributes
    ----------
    names : the coefficients' names (metafor's ``rownames(res$beta)``; ``"intrcpt"`` for
        the intercept).
    coef, vcov : the estimates and their covariance matrix (p × p).
    df : t degrees of freedom: None for z tests, a number (k - p), or one per
        coefficient (Satterthwaite, for ``robust``).
    level : the confidence level of ``ci_low``/``ci_high``.
    btt : 0-based indices of the coefficients QM tests (default: all but an
        ``"intrcpt"`` when p > 1, else all), as metafor's ``btt``.
    omnibus : ``(QM, QM_df, QM_p)`` when the omnibus test is not the Wald test, else None.
    """

    names: tuple
    coef: np.ndarray
    vcov: np.ndarray
    df: int | np.ndarray | None = None
    level: float = 0.95
    btt: tuple | None = None
    omnibus: tuple | None = None

    def __post_init__(self):
        coef = np.asarray(self.coef, dtype=float)
        names = tuple(str(x) for x in self.names)
        if len(names) != coef.size:
            raise ValueError(f"{len(names)} coefficient names for {coef.size} coefficients")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "vcov", np.asarray(self.vcov, dtype=float))
        if self.btt is None:
            btt = tuple(j for j, x in enumerate(names) if x != INTERCEPT_NAME) if coef.size > 1 else (0,)
            object.__setattr__(self, "btt", btt or tuple(range(coef.size)))

    @property
    def p(self) -> int:
        """The number of coefficients."""
        return int(self.coef.size)

    @cached_property
    def se(self) -> np.ndarray:
        """Standard errors, ``sqrt(diag(vcov))``."""
        return np.sqrt(np.diag(self.vcov))

    @cached_property
    def _tests(self):
        return wald_tests(self.coef, self.se, self.df)

    @property
    def zval(self) -> np.ndarray:
        """Test statistics ``coef / se`` (t statistics when ``df`` is given)."""
        return self._tests[0]

    @property
    def tval(self) -> np.ndarray:
        """The test statistics under their t name (same as ``zval``)."""
        return self.zval

    @property
    def pval(self) -> np.ndarray:
        """Two-sided p-values (normal, or t on ``df``)."""
        return self._tests[1]

    @cached_property
    def crit(self):
        """The critical value of the intervals at ``level`` (one per coefficient for an array ``df``)."""
        return critical_value(self.level, self.df)

    @cached_property
    def ci_low(self) -> np.ndarray:
        return self.coef - self.crit * self.se

    @cached_property
    def ci_high(self) -> np.ndarray:
        return self.coef + self.crit * self.se

    @cached_property
    def _omnibus(self) -> tuple:
        if self.omnibus is not None:
            return tuple(self.omnibus)
        return omnibus_test(self.coef, self.vcov, self.btt, self.df)

    @property
    def QM(self) -> float:
        """The omnibus statistic (χ², or F = QM/m when ``df`` is finite)."""
        return self._omnibus[0]

    @property
    def QM_df(self) -> tuple:
        """``(m, None)`` for χ², ``(m, df)`` for F."""
        return self._omnibus[1]

    @property
    def QM_p(self) -> float:
        return self._omnibus[2]

    def conf_int(self, level: float | None = None) -> np.ndarray:
        """Confidence intervals at ``level`` (default: the fit's), shape (p, 2), as
        statsmodels' ``conf_int``."""
        if level is None:
            return np.column_stack([self.ci_low, self.ci_high])
        crit = critical_value(check_level(level), self.df)
        return np.column_stack([self.coef - crit * self.se, self.coef + crit * self.se])

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table, one row per coefficient (``term``): coef, se, zval (tval
        with t tests), pval, ci_low, ci_high, as metafor prints it."""
        stat = "tval" if self.df is not None else "zval"
        return pd.DataFrame(
            {
                "coef": self.coef,
                "se": self.se,
                stat: self.zval,
                "pval": self.pval,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            },
            index=pd.Index(self.names, name="term"),
        )


@dataclass(frozen=True)
class Heterogeneity:
    """The test for (residual) heterogeneity of a fitted model and its summaries.

    Attributes
    ----------
    q, q_df, q_p : Cochran's Q (metafor's ``QE``, ``QEdf``, ``QEp``): the weighted residual
        sum of squares of the fixed-effects fit (Cochran, Biometrics 1954;10:101-129;
        with moderators the residual test of ``rma(yi, vi, mods)``), its df k - p and χ² p.
    i2, h2 : I² (in %) and H² (Higgins & Thompson, Stat Med 2002;21:1539-1558), as
        ``rma.uni`` reports them; NaN for models for which metafor gives none (``rma.mv``).
    """

    q: float
    q_df: int
    q_p: float
    i2: float = float("nan")
    h2: float = float("nan")


def default_names(X) -> tuple:
    """Coefficient names for the columns of a design ``X`` given without names: ``"intrcpt"``
    for a column of ones, ``"X<j>"`` (j the 0-based column) for the others."""
    X = np.asarray(X, dtype=float)
    return tuple(INTERCEPT_NAME if np.all(np.abs(X[:, j] - 1.0) < 1e-8) else f"X{j}" for j in range(X.shape[1]))


def _forward(part: str, name: str):
    """A read-only property that gives ``self.<part>.<name>``."""

    def get(self):
        return getattr(getattr(self, part), name)

    get.__doc__ = f"``{part}.{name}`` (see :class:`{'FixedEffects' if part == 'fixed' else 'Heterogeneity'}`)."
    return property(get)


class Coefficients:
    """What every model with coefficients gives, forwarded from its ``fixed``
    (:class:`FixedEffects`) and ``heterogeneity`` (:class:`Heterogeneity`, for models that
    have one): ``coef``, ``se``, ``zval``/``tval``, ``pval``, ``ci_low``, ``ci_high``,
    ``vcov``, ``df``, ``level``, ``QM``, ``QM_df``, ``QM_p``, ``btt``, ``coef_names``, ``p``,
    and ``q``, ``q_df``, ``q_p``, ``i2``, ``h2``; plus ``conf_int(level)`` and ``to_frame()``,
    as statsmodels' results give them. A model declares ``fixed`` (and ``heterogeneity``)
    once, and none of these names as its own field."""

    coef = _forward("fixed", "coef")
    se = _forward("fixed", "se")
    zval = _forward("fixed", "zval")
    tval = _forward("fixed", "tval")
    pval = _forward("fixed", "pval")
    ci_low = _forward("fixed", "ci_low")
    ci_high = _forward("fixed", "ci_high")
    vcov = _forward("fixed", "vcov")
    df = _forward("fixed", "df")
    level = _forward("fixed", "level")
    QM = _forward("fixed", "QM")
    QM_df = _forward("fixed", "QM_df")
    QM_p = _forward("fixed", "QM_p")
    btt = _forward("fixed", "btt")
    p = _forward("fixed", "p")
    q = _forward("heterogeneity", "q")
    q_df = _forward("heterogeneity", "q_df")
    q_p = _forward("heterogeneity", "q_p")
    i2 = _forward("heterogeneity", "i2")
    h2 = _forward("heterogeneity", "h2")

    @property
    def coef_names(self) -> tuple:
        """``fixed.names``: the coefficients' names."""
        return self.fixed.names

    def conf_int(self, level: float | None = None) -> np.ndarray:
        """Confidence intervals of the coefficients at ``level`` (default: the fit's),
        as an array of shape (p, 2), as statsmodels' ``conf_int``."""
        return self.fixed.conf_int(level)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table, one row per coefficient (``term``)."""
        return self.fixed.to_frame()


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
