"""Pooled proportions in one call: effect sizes, the model and the back-transform.

:func:`pool_proportions` takes a data frame with a column of events and one of sample sizes
(the library's entry point, ``sbrtmeta.pool_proportions``); :func:`pool_effect_sizes` takes
the effect sizes and counts as arrays. The workflow's pooling step
(:func:`sbrtmeta.analysis.pooling.pool_cells`) pools every cell through
:func:`pool_effect_sizes`, so a library call with the shipped options (the defaults here) gives
the cell's row of ``pooled.csv``.

Models, as metafor (Viechtbauer, J Stat Softw 2010;36(3):1-48):

* ``"random-effects"``: ``escalc(measure, xi, ni, add, to)`` then ``rma(yi, vi, method =
  tau2_method, test = ci_method)`` (:func:`sbrtmeta.stats.random_effects.fit_random_effects`;
  ``tau2_method="FE"`` is the common-effect model), with the Q-profile CI of τ² of ``confint``;
* ``"glmm"``: the binomial-normal model of ``rma.glmm(measure = "PLO")``
  (:func:`sbrtmeta.stats.glmm.fit_glmm_logit`), with the prediction interval of ``predict.rma``
  (z, sqrt(se² + τ²)) and inverse-variance study weights at its τ²;
* one study is reported as itself, with its own interval (``study_ci``: Clopper-Pearson by default, as
  the workflow's ``sensitivity.study_ci``, or Wald on the measure's scale;
  :func:`sbrtmeta.stats.effect_sizes.study_interval`): it is not a fit.

The back-transform to the proportion scale is ``predict(res, transf =)`` with ``transf.ilogit``
(PLO), the identity (PR), ``transf.iarcsin`` (PAS) or ``transf.ipft.hm`` with the studies'
sample sizes (PFT; Miller, Am Stat 1978;32:138), from
:func:`sbrtmeta.stats.effect_sizes.inverse_transform`: the median rate of the random-effects
distribution. With ``back_transform="mean"`` the estimate and its CI are the mean rate over that
distribution instead, ``transf.ilogit.int`` (PLO) or ``transf.iarcsin.int`` (PAS) with the
model's τ² (:func:`sbrtmeta.stats.effect_sizes.mean_inverse_transform`); the prediction interval's
bounds, quantiles of the distribution of true rates, keep the plain back-transform (metafor's
``predict(transf = transf.ilogit.int)`` integrates them too, which makes them no quantile).

``pi_df`` sets the prediction interval's t df (:data:`sbrtmeta.stats.inference.PI_DF`):
``"metafor"`` as ``predict.rma``, ``"k-1"`` as meta >= 8.0's default and ``"k-2"`` as Riley et al.
(BMJ 2011;342:d549), the last two with the model-based standard error (meta's
``method.predict = "V"`` / ``"HTS"``: ``μ̂ ± t(k-1 | k-2) √(SE² + τ²)``, SE not Knapp-Hartung's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sbrtmeta.stats.distributions import norm_sf, t_sf
from sbrtmeta.stats.effect_sizes import (
    MEAN_MEASURES,
    boundary_studies,
    forward_transform,
    inverse_transform,
    mean_inverse_transform,
    proportion_effect_sizes,
    study_interval,
)
from sbrtmeta.stats.glmm import fit_glmm_logit
from sbrtmeta.stats.inference import (
    BACK_TRANSFORMS,
    PI_DF,
    canonical_tau2,
    check_level,
    check_option,
    critical_value,
    prediction_df,
)
from sbrtmeta.stats.random_effects import fit_random_effects

__all__ = ["MODELS", "POOLED_FIELDS", "PooledProportion", "pool_effect_sizes", "pool_proportions"]

MODELS = ("random-effects", "glmm")
_HETEROGENEITY_FIELDS = ("pi_low", "pi_high", "tau2", "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_p")
_INTERVAL_FIELDS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
# the fields of a pooled row (pooled_row(), in this order; pooled.csv's columns after the cell's place and size)
POOLED_FIELDS = (
    "model",
    "transform",
    "tau2_method",
    "ci_method",
    "model_estimate",
    *_INTERVAL_FIELDS,
    *_HETEROGENEITY_FIELDS[2:],
)
SUMMARY_COLUMNS = ("k", "n_total", *POOLED_FIELDS, "level")


@dataclass(frozen=True, eq=False)
class PooledProportion:
    """One pooled proportion, on the scale of its ``measure``, with what its back-transform needs.

    Attributes
    ----------
    measure : the effect size pooled: PLO, PR, PAS or PFT (:mod:`sbrtmeta.stats.effect_sizes`).
    model : ``"random effects"``, ``"common effect"`` (``tau2_method="FE"``), ``"GLMM"`` or
        ``"single study"`` (k = 1: the study itself, not a fit).
    tau2_method, ci_method : what was used (``"GLMM"`` and ``"z"`` for the GLMM; for a single
        study ``""`` and its interval, ``study_ci``).
    level : confidence level of the intervals.
    estimate, se : the pooled estimate on the measure's scale and its standard error (Knapp and
        Hartung's under ``ci_method="knha"``).
    df : degrees of freedom of the t interval (k - 1 under ``knha``), None for z.
    ci_low, ci_high : confidence interval, measure's scale (a single study's interval of
        ``study_ci`` on the measure's scale).
    pi_low, pi_high : prediction interval for a new study's true value (``predict.rma``; NaN for
        the common-effect model and a single study).
    tau2, tau2_ci_low, tau2_ci_high : between-study variance and its Q-profile CI (NaN for the
        GLMM's CI and for a single study).
    i2, h2, q, q_p : I² (%), H², Cochran's Q and its p-value (the GLMM's Q is ``QE.Wld``).
    yi, vi : the studies' effect sizes and sampling variances.
    events, n : the studies' counts (the PFT back-transform uses the harmonic mean of ``n``).
    weights : the studies' weights in %.
    pi_df : the prediction interval's df option (:data:`sbrtmeta.stats.inference.PI_DF`).
    pi_se, pi_dfs : the prediction interval's standard error and t df (None: z) under ``pi_df``.
    back : ``"median"`` or ``"mean"``: how the estimate and CI become proportions (module text).
    """

    measure: str
    model: str
    tau2_method: str
    ci_method: str
    level: float
    estimate: float
    se: float
    df: int | None
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    h2: float
    q: float
    q_p: float
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    events: np.ndarray = field(repr=False)
    n: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    pi_df: str = "metafor"
    pi_se: float = float("nan")
    pi_dfs: float | None = None
    back: str = "median"

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.yi)

    def back_transform(self, value) -> float:
        """``value`` (the measure's scale) as a proportion; NaN stays NaN."""
        return float(inverse_transform(value, self.measure, self.n)) if not np.isnan(value) else np.nan

    def _rate(self, value) -> float:
        """The estimate or a CI bound as a proportion: :meth:`back_transform`, or with
        ``back="mean"`` the mean over N(value, τ²) (a single study: its own value)."""
        if self.back == "mean" and self.model != "single study":
            return mean_inverse_transform(value, self.measure, self.tau2)
        return self.back_transform(value)

    def conf_int(self, level: float | None = None, back_transform: bool = True) -> tuple[float, float]:
        """Confidence interval of the pooled value at ``level`` (the fit's level by default),
        as a proportion (``back_transform=True``) or on the measure's scale: estimate ∓ the
        critical value (z, or t on ``df``) times ``se``; for a single study its own interval
        (``ci_method``, :func:`~sbrtmeta.stats.effect_sizes.study_interval`)."""
        if self.model == "single study":
            _, low, high = self._study_interval(self.level if level is None else check_level(level))
            if back_transform:
                return low, high
            return tuple(float(forward_transform(p, self.measure, self.n)) for p in (low, high))
        if level is None:
            low, high = self.ci_low, self.ci_high
        else:
            crit = critical_value(check_level(level), self.df)
            low, high = self.estimate - crit * self.se, self.estimate + crit * self.se
        if back_transform:
            return self._rate(low), self._rate(high)
        return float(low), float(high)

    def share_above(self, cutoff: float) -> tuple[float, float, float]:
        """The share of true rates above ``cutoff`` (a proportion) and its interval.

        The share is the probability that a new study's true value lies above ``cutoff`` in
        the predictive distribution, as metafor 5.1's ``predict(res, prob = ">c")`` on the
        measure's scale (``predict.rma.r``): ``1 - F((c - μ̂) / √(se² + τ²))`` with ``c`` the
        cutoff on that scale and F the normal distribution, or the t on ``df`` under
        Knapp-Hartung (the prediction interval's). The interval is the share at the
        confidence limits of μ̂ with τ² at its estimate: it carries the uncertainty of the
        mean, not that of τ². NaN for a single study (no fit).
        """
        if self.model == "single study":
            return (np.nan, np.nan, np.nan)
        c = float(forward_transform(cutoff, self.measure, self.n))
        if self.pi_df == "metafor":
            scale = np.sqrt(self.se**2 + self.tau2)
            df = self.df
        else:  # the prediction interval's se and df, as predict(pi.type = "t" | "riley", prob = )
            if self.pi_dfs is None or np.isnan(self.pi_dfs):
                return (np.nan, np.nan, np.nan)
            scale, df = self.pi_se, self.pi_dfs
        low, high = self.conf_int(back_transform=False)
        tiny = 1e-12 * max(1.0, abs(c))
        if scale <= tiny:  # zero width up to rounding (identical studies under Knapp-Hartung, where metafor
            # sets the scale factor to 0): a step at μ̂, and a μ̂ equal to the cutoff is not above it
            return tuple(float(mu - c > tiny) for mu in (self.estimate, low, high))
        tail = norm_sf if df is None else lambda z: t_sf(z, df)
        return tuple(float(tail((c - mu) / scale)) for mu in (self.estimate, low, high))

    def _study_interval(self, level: float) -> tuple[float, float, float]:
        """A single study's estimate and interval as proportions."""
        est, low, high = study_interval(self.events, self.n, self.yi, self.vi, self.measure, self.ci_method, level)
        return float(est[0]), float(low[0]), float(high[0])

    def pooled_row(self) -> dict:
        """The fields of a ``pooled.csv`` row: ``model_estimate`` on the measure's scale, the
        estimate and intervals as proportions, and the heterogeneity."""
        row = dict(model=self.model, transform=self.measure, tau2_method=self.tau2_method, ci_method=self.ci_method)
        row["model_estimate"] = self.estimate
        row.update({key: self.back_transform(getattr(self, key)) for key in _INTERVAL_FIELDS})
        row["estimate"] = self._rate(self.estimate)
        row["ci_low"], row["ci_high"] = self.conf_int()
        row.update({key: getattr(self, key) for key in _HETEROGENEITY_FIELDS[2:]})
        return row

    def summary_frame(self, back_transform: bool = True) -> pd.DataFrame:
        """One row: k, the summed sample size, the model and options, the estimate with its
        confidence and prediction intervals (as proportions with ``back_transform=True``, else
        on the measure's scale; ``model_estimate`` is always on the measure's scale), τ² with
        its CI, I², H², Q and its p-value. The column names are ``pooled.csv``'s (``transform``
        is the measure)."""
        row = self.pooled_row()
        if not back_transform:
            row.update({key: getattr(self, key) for key in _INTERVAL_FIELDS})
        n_total = float(np.sum(self.n))
        row.update(k=self.k, n_total=int(n_total) if n_total.is_integer() else n_total, level=self.level)
        return pd.DataFrame([row], columns=list(SUMMARY_COLUMNS), index=pd.Index(["pooled"]))


def check_model(model: str, measure: str) -> None:
    """``model`` is one of :data:`MODELS`, and the GLMM pools logits (PLO) only."""
    if model not in MODELS:
        raise ValueError(f"model {model!r} is not one of {MODELS}")
    if model == "glmm" and measure != "PLO":
        raise ValueError("the GLMM pools logits: use measure='PLO' with model='glmm'")


def _single_study(yi, vi, x, n, measure, level, study_ci) -> dict:
    """The study itself: its estimate, and its interval of ``study_ci`` on the measure's scale."""
    _, low, high = study_interval(x, n, yi, vi, measure, study_ci, level)
    fields = dict(model="single study", tau2_method="", ci_method=study_ci, estimate=yi[0], se=np.sqrt(vi[0]))
    fields.update(df=None, ci_low=float(forward_transform(low[0], measure, n)), weights=np.array([100.0]))
    fields.update(ci_high=float(forward_transform(high[0], measure, n)))
    fields.update(dict.fromkeys(_HETEROGENEITY_FIELDS, np.nan))
    return fields


def _random_effects(yi, vi, tau2_method, ci_method, level, n=None, pi_df="metafor") -> dict:
    # n, the studies' sizes, are the weights of the GENQ and GENQM τ² estimators
    fit = fit_random_effects(yi, vi, tau2_method, ci_method, level, tau2_ci=True, weights=n, pi_df=pi_df)
    fields = dict(model="random effects" if canonical_tau2(tau2_method) != "FE" else "common effect")
    fields.update(tau2_method=tau2_method, ci_method=ci_method)
    fields.update({key: getattr(fit, key) for key in ("estimate", "se", "df", "ci_low", "ci_high", "weights")})
    fields.update({key: getattr(fit, key) for key in _HETEROGENEITY_FIELDS})
    fields.update(pi_se=fit.pi_se, pi_dfs=fit.pi_df)
    return fields


def _glmm(x, n, vi, level, pi_df="metafor") -> dict:
    """The GLMM's fit with the prediction interval ``predict.rma`` gives (z, sqrt(se² + τ²); t on
    k - 1 or k - 2 df under ``pi_df``); the GLMM has no study weights, so they are shown as
    inverse-variance weights at its τ²."""
    fit = fit_glmm_logit(x, n, level=level)
    pi_dfs = prediction_df(pi_df, None, len(x))
    crit = critical_value(level, pi_dfs)
    pi_se = np.sqrt(fit.se**2 + fit.tau2)
    w = 1.0 / (vi + fit.tau2)
    return dict(
        model="GLMM",
        tau2_method="GLMM",
        ci_method="z",
        estimate=fit.estimate,
        se=fit.se,
        df=None,
        ci_low=fit.ci_low,
        ci_high=fit.ci_high,
        pi_low=fit.estimate - crit * pi_se,
        pi_high=fit.estimate + crit * pi_se,
        tau2=fit.tau2,
        tau2_ci_low=np.nan,
        tau2_ci_high=np.nan,
        i2=fit.i2,
        h2=fit.h2,
        q=fit.qe_wald,
        q_p=fit.qe_wald_p,
        weights=100.0 * w / w.sum(),
        pi_se=pi_se,
        pi_dfs=pi_dfs,
    )


def pool_effect_sizes(
    yi,
    vi,
    events,
    n,
    measure: str = "PLO",
    model: str = "random-effects",
    tau2_method: str = "REML",
    ci_method: str = "knha",
    level: float = 0.95,
    study_ci: str = "clopper-pearson",
    pi_df: str = "metafor",
    back_transform: str = "median",
) -> PooledProportion:
    """Pool the studies' effect sizes ``yi``, ``vi`` of ``measure`` (from
    :func:`~sbrtmeta.stats.effect_sizes.proportion_effect_sizes` of ``events`` and ``n``):
    one study is reported as itself with its interval ``study_ci``, more are fitted by
    ``model`` (module docstring; ``pi_df`` and ``back_transform`` there too)."""
    check_model(model, measure)
    check_level(level)
    check_option("pi_df", pi_df, PI_DF)
    check_option("back_transform", back_transform, BACK_TRANSFORMS)
    if back_transform == "mean" and measure not in MEAN_MEASURES:
        raise ValueError(f"back_transform 'mean' needs measure {MEAN_MEASURES} (metafor has no mean for {measure})")
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    x, n = np.asarray(events, dtype=float), np.asarray(n, dtype=float)
    if len(yi) == 1:
        fields = _single_study(yi, vi, x, n, measure, level, study_ci)
    elif model == "glmm":
        fields = _glmm(x, n, vi, level, pi_df)
    else:
        fields = _random_effects(yi, vi, tau2_method, ci_method, level, n, pi_df)
    opts = dict(pi_df=pi_df, back=back_transform)
    return PooledProportion(measure=measure, level=level, yi=yi, vi=vi, events=x, n=n, **fields, **opts)


def _counts(data: pd.DataFrame, column: str) -> np.ndarray:
    """A column of counts as floats; ValueError naming the column (and row) if it is missing or not numeric."""
    if column not in data.columns:
        raise ValueError(f"column {column!r} is not in the data (its columns: {', '.join(map(str, data.columns))})")
    values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        label = data.index[bad[0]]
        raise ValueError(
            f"row {label!r}, column {column!r}: value {data[column].iloc[bad[0]]!r} is not a finite number"
        )
    return values


def _check_rows(data, x, n, events: str, n_col: str, measure: str, add: float, to: str) -> None:
    """Each row has n >= 1 and 0 <= events <= n, and a defined effect size after the correction."""
    bad = np.flatnonzero((n < 1) | (x < 0) | (x > n))
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"row {data.index[i]!r}: {events} = {x[i]:g} and {n_col} = {n[i]:g}; each row needs "
            f"{n_col} >= 1 and 0 <= {events} <= {n_col}"
        )
    bad = boundary_studies(x, n, measure, add, to)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"row {data.index[i]!r}: {events} = {x[i]:g} of {n_col} = {n[i]:g} has no {measure} value with "
            f"nothing added (to={to!r}, add={add:g}); use to='only0', 'if0all' or 'all' with add > 0"
        )


def pool_proportions(
    data: pd.DataFrame,
    events: str = "events",
    n: str = "n",
    measure: str = "PLO",
    tau2_method: str = "REML",
    ci_method: str = "knha",
    level: float = 0.95,
    model: str = "random-effects",
    add: float = 0.5,
    to: str = "only0",
    study_ci: str = "clopper-pearson",
    pi_df: str = "metafor",
    back_transform: str = "median",
) -> PooledProportion:
    """Pool the proportions ``events / n`` of the rows of ``data``, one row per study.

    As metafor's ``rma(measure = measure, xi = events, ni = n, add = add, to = to, method =
    tau2_method, test = ci_method, level = 100 * level)`` (``model="glmm"``: ``rma.glmm``).

    Parameters
    ----------
    data : a data frame with one row per study.
    events, n : the names of its columns of events and of sample sizes.
    measure : ``"PLO"`` (logit), ``"PR"`` (raw), ``"PAS"`` (arcsine) or ``"PFT"``
        (Freeman-Tukey double arcsine).
    tau2_method : one of :data:`sbrtmeta.stats.inference.TAU2_METHODS`: ``"REML"``, ``"ML"``,
        ``"DL"``, ``"PM"``, ``"EB"``, ``"HE"``, ``"HS"``, ``"SJ"``, ``"HSk"``, ``"DLIT"``, ``"SJIT"``,
        ``"PMM"``, ``"GENQ"`` and ``"GENQM"`` (weights: the studies' sizes), or ``"FE"`` (common
        effect); aliases as metafor's.
    ci_method : ``"knha"`` (Knapp-Hartung, t on k - 1 df), ``"adhoc"`` (the same with the
        scale factor at least 1, Jackson et al. 2017) or ``"z"`` (Wald).
    level : confidence level of the intervals.
    model : ``"random-effects"`` (inverse variance) or ``"glmm"`` (binomial-normal; PLO only).
    add, to : continuity correction of PLO and PR, as ``escalc(add =, to =)``.
    study_ci : the interval of a single study (k = 1 is reported, not fitted):
        ``"clopper-pearson"``, ``"wilson"``, ``"wilson-cc"``, ``"agresti-coull"``, ``"jeffreys"``
        or ``"wald"`` (on the measure's scale).
    pi_df : the prediction interval's df: ``"metafor"`` (predict.rma's), ``"k-1"`` (meta >= 8.0)
        or ``"k-2"`` (Riley et al. 2011), the last two with the model-based standard error.
    back_transform : ``"median"`` (the back-transformed estimate) or ``"mean"`` (the mean rate over
        the random-effects distribution, metafor's ``transf.ilogit.int``; PLO, PAS and PR).

    The defaults are the workflow's (``config/config.yaml``), so the result for a cell's rows
    is that cell's row of ``pooled.csv``.

    Returns
    -------
    :class:`PooledProportion`: ``summary_frame()`` gives the estimate with its confidence and
    prediction intervals as proportions, and the heterogeneity; ``conf_int(level)`` the
    confidence interval at another level.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame (got {type(data).__name__})")
    if data.empty:
        raise ValueError("no rows to pool: data is empty")
    check_model(model, measure)
    x, size = _counts(data, events), _counts(data, n)
    _check_rows(data, x, size, events, n, measure, add, to)
    yi, vi = proportion_effect_sizes(x, size, measure, add, to)
    return pool_effect_sizes(
        yi, vi, x, size, measure, model, tau2_method, ci_method, level, study_ci, pi_df, back_transform
    )
