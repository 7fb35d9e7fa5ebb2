"""Dose-response of local control: logit LC against BED10, and the TCP parameters.

The model
---------
Each arm's local control is a logit proportion ``y = logit(events / n)`` with
sampling variance ``v = 1/events + 1/(n - events)`` (metafor's ``escalc(measure =
"PLO")``, 1/2 added to both counts of an arm with 0 or n events). It is regressed on
the dose ``x = ln(BED10)`` (``scale="log"``) or ``x = BED10`` (``scale="linear"``):

    y_ij = b0 + b1 x_ij [+ site effect] + u_i + w_ij + e_ij,
    u_i ~ N(0, sigma2_study), w_ij ~ N(0, sigma2_arm), e_ij ~ N(0, v_ij),

the three-level model ``rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/arm)`` of
:mod:`sbrtmeta.multilevel`, in which the dose arms of one study share the study's
effect (Konstantopoulos, Res Synth Methods 2011;2:61-76). With several sites, site
enters as a categorical moderator, ``mods = ~ x + factor(site)``: one common slope,
site-specific intercepts (the first site in sorted order is the reference). When no
study has two or more arms the two variance components cannot be told apart, and
the two-level mixed-effects meta-regression ``rma(yi, vi, mods = ~ x [+ factor(site)])``
of :mod:`sbrtmeta.meta_regression` is fitted instead (``tau2`` in place of
``sigma2``); the result says which (:attr:`DoseResponseResult.model`).

The TCP parameters
------------------
On the log scale the fit is the log-logistic tumour control probability model

    LC(D) = 1 / (1 + (BED50 / D)^(4 gamma50))

(Okunieff et al., Int J Radiat Oncol Biol Phys 1995;32:1227-1237; Bentzen &
Tucker, Int J Radiat Biol 1997;71:531-542): ``logit LC = b0 + b1 ln D`` gives

    gamma50 = b1 / 4,  BED50 = exp(-b0 / b1),  BED_p = exp((logit p - b0) / b1),

gamma50 being the normalised slope ``D dLC/dD`` at D = BED50. On the linear scale,
``logit LC = b0 + b1 D``: BED50 = -b0/b1, BED_p = (logit p - b0)/b1 and, with the
same definition of the normalised slope (slope of the curve at BED50, b1/4, times
BED50), gamma50 = b1 BED50 / 4 = -b0/4. With a site moderator b0 is the chosen
site's intercept.

Confidence intervals use the delta method: the gradient g of each parameter with
respect to the coefficient vector and the covariance V of the coefficients give
``se = sqrt(g' V g)``. gamma50 gets a symmetric interval; BED50 and BED_p get theirs
on the log scale (``exp(ln BED ± crit se(ln BED))``, se(ln BED) = se(BED)/BED),
which keeps them positive and matches the log-linear form of the model. The
critical value is the fit's: normal, or t on k - p df for ``ci_method="t"``. When the
slope's interval includes 0 the delta-method intervals of BED50 and BED_p are
still computed but are too narrow: the exact (Fieller) interval of a ratio with a
denominator indistinguishable from 0 is unbounded; the result flags this. With a
slope <= 0 the curve never rises, and BED50, BED_p (and gamma50 on the linear
scale) are NaN.

A parametric bootstrap (:func:`bootstrap_tcp`) gives percentile intervals that do
not rely on the delta method (Efron & Tibshirani, *An Introduction to the
Bootstrap*, 1993, ch. 6 and 13).

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sbrtmeta.stats.curves import TimeBasis, logit_rate_covariance
from sbrtmeta.stats.effect_sizes import inverse_transform, proportion_effect_sizes
from sbrtmeta.stats.inference import (
    LIKELIHOOD_TAU2,
    T_CI,
    Coefficients,
    FixedEffects,
    Heterogeneity,
    check_ci_method,
    check_level,
    check_tau2_method,
    critical_value,
)
from sbrtmeta.stats.meta_regression import (
    MetaRegressionResult,
    fit_meta_regression,
    predict_meta_regression,
)
from sbrtmeta.stats.multilevel import (
    BlockModelResult,
    MultilevelResult,
    fit_block_model,
    fit_multilevel,
    predict_block_model,
    predict_multilevel,
)

SCALES = ("log", "linear")
MODEL_MULTILEVEL = "multilevel (study/arm)"
MODEL_TWO_LEVEL = "two-level (no study has several arms)"
MODEL_TIME = "dose x time (rates over time, V)"
DOSE_NAMES = {"log": "log(bed10)", "linear": "bed10"}
ALL_SITES = "all"  # the site label of a model fitted without sites


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DoseResponseResult(Coefficients):
    """A fitted dose-response model, logit(LC) on ln(BED10) or BED10.

    Attributes
    ----------
    model : ``"multilevel (study/arm)"`` (``rma.mv``, random = ~ 1 | study/arm) or
        ``"two-level (no study has several arms)"`` (``rma``, one tau2).
    scale : ``"log"`` (x = ln BED10) or ``"linear"`` (x = BED10).
    fixed : the fixed effects (:class:`~sbrtmeta.stats.inference.FixedEffects`), as
        metafor's ``coef(res)``, ``res$se``, ``res$zval``, ``res$pval``, ``res$ci.lb/ub``,
        ``vcov(res)``, with names ``("intrcpt", "log(bed10)" | "bed10", "site<level>",
        ...)`` and the omnibus test QM of all coefficients but the intercept (chi-square,
        or F = QM/m on (m, k - p) df for ``ci_method="t"``); the fit's own, but for the
        two-level model with ``ci_method="t"`` (see ``fit``). Forwarded as ``coef_names``,
        ``coef``, ``se``, ``zval`` (t statistics for ``"t"``), ``pval``, ``ci_low``,
        ``ci_high``, ``vcov``, ``QM``, ``QM_df``, ``QM_p``, ``df``, ``level``.
    heterogeneity, loglik : the fit's (:attr:`fit`), as ``res$QE`` and ``logLik(res)``.
    sigma2 : ``(sigma2_study, sigma2_arm)`` of the multilevel model, None for the
        two-level one. tau2 : the two-level model's tau2, None for the multilevel one.
    k : number of arms (rows); n_studies : number of studies; n_arms : distinct
        (study, arm) pairs.
    sites : the site levels (reference first) when ``site`` was given, else ();
        site_moderator : True when the model has site intercepts (two or more sites).
    tau2_method, ci_method : what was fitted (metafor's ``method`` and ``test``).
    events, n, bed, yi, vi, study, arm, site : the data used, row for row (site is
        None when no site was given).
    X : the design matrix (k x p).
    time, timepoint, rho, struct : for the dose x time model (:func:`fit_dose_time`):
        each rate's month, the month T at which b0 is the intercept, the correlation of
        an arm's random effects over time and the structure (None, None, NaN, "" else).
    fit : the underlying :class:`~sbrtmeta.stats.multilevel.MultilevelResult` or
        :class:`~sbrtmeta.stats.meta_regression.MetaRegressionResult` (for the two-level
        model with ``ci_method="t"`` the fit is the z fit; its t version is ``fixed``,
        as ``rma(..., test = "t")``).
    """

    model: str
    scale: str
    fixed: FixedEffects
    sigma2: np.ndarray | None
    tau2: float | None
    k: int
    n_studies: int
    n_arms: int
    sites: tuple
    site_moderator: bool
    tau2_method: str
    ci_method: str
    events: np.ndarray
    n: np.ndarray
    bed: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    study: np.ndarray
    arm: np.ndarray
    site: np.ndarray | None
    X: np.ndarray
    fit: MultilevelResult | MetaRegressionResult | BlockModelResult
    time: np.ndarray | None = None
    timepoint: float | None = None
    rho: float = float("nan")
    struct: str = ""

    @property
    def heterogeneity(self) -> Heterogeneity:
        """The fit's test for residual heterogeneity (metafor's QE)."""
        return self.fit.heterogeneity

    @property
    def loglik(self) -> float:
        """The fit's (restricted) log-likelihood, as ``logLik(res)``."""
        return self.fit.loglik

    @property
    def time_model(self) -> bool:
        """True for the dose x time model (:func:`fit_dose_time`)."""
        return self.time is not None

    @property
    def multilevel(self) -> bool:
        return self.model == MODEL_MULTILEVEL

    @property
    def total_variance(self) -> float:
        """Between-arm variance of the true effects: sigma2_study + sigma2_arm, or tau2."""
        return float(np.sum(self.sigma2)) if self.sigma2 is not None else float(self.tau2)

    @property
    def slope(self) -> float:
        return float(self.coef[1])

    def crit(self, level: float | None = None) -> float:
        """The two-sided critical value of the fit's intervals at ``level``."""
        return critical_value(self.level if level is None else check_level(level), self.df)


@dataclass(frozen=True)
class TcpParameters:
    """TCP parameters of one site from a dose-response fit, with delta-method CIs.

    Attributes
    ----------
    site : the site (``"all"`` for a model fitted without sites).
    scale, model, tau2_method, ci_method : of the fit; k, n_studies : its size.
    target_lc : the local control whose dose is ``bed_target`` (e.g. 0.90: BED90).
    level : coverage of the intervals; crit : their critical value.
    intercept, slope : b0 (the site's intercept) and b1 of ``logit LC = b0 + b1 x``.
    slope_se, slope_ci_low, slope_ci_high : the slope's standard error and CI.
    slope_positive : b1 > 0 (the curve rises with dose).
    slope_ci_excludes_zero : the slope's CI lies wholly above 0; when False the
        delta-method CIs of bed50 and bed_target are too narrow (the exact,
        Fieller, interval is unbounded) and ``note`` says so.
    bed50, bed50_ci_low, bed50_ci_high, log_bed50_se : BED10 (Gy) at LC = 50%, its
        CI (formed on the log scale) and the standard error of ln BED50.
    gamma50, gamma50_se, gamma50_ci_low, gamma50_ci_high : normalised slope at
        BED50 (b1/4 on the log scale, b1 BED50/4 = -b0/4 on the linear scale).
    bed_target, bed_target_ci_low, bed_target_ci_high, log_bed_target_se : BED10
        (Gy) at LC = target_lc, likewise.
    note : "" or why some values are NaN or not to be trusted.

    Values that the fit does not define (a slope <= 0; on the linear scale a BED50
    or BED_target <= 0) are NaN.
    """

    site: str
    scale: str
    model: str
    tau2_method: str
    ci_method: str
    k: int
    n_studies: int
    target_lc: float
    level: float
    crit: float
    intercept: float
    slope: float
    slope_se: float
    slope_ci_low: float
    slope_ci_high: float
    slope_positive: bool
    slope_ci_excludes_zero: bool
    bed50: float
    bed50_ci_low: float
    bed50_ci_high: float
    log_bed50_se: float
    gamma50: float
    gamma50_se: float
    gamma50_ci_low: float
    gamma50_ci_high: float
    bed_target: float
    bed_target_ci_low: float
    bed_target_ci_high: float
    log_bed_target_se: float
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BootstrapResult:
    """Parametric-bootstrap percentile intervals of the TCP parameters.

    Attributes
    ----------
    estimates : the point estimates (:class:`TcpParameters`, delta-method CIs), per site.
    intervals : one row per site and parameter (``"slope"``, ``"bed50"``,
        ``"gamma50"``, ``"bed_target"``): estimate, boot_median, ci_low, ci_high
        (percentile), n_used (replicates that entered the percentiles).
    replicates : one row per successful refit and site: replicate, site, intercept,
        slope, bed50, gamma50, bed_target (NaN where the replicate's fit does not
        define the value).
    n_boot : refits attempted; n_ok : refits that converged; n_failed : refits that
        raised (the optimiser did not converge, a singular design, ...), excluded;
        failures : the first few error messages.
    n_nonpositive_slope : replicates with a slope <= 0. Their BED50 and BED_target
        are taken as +inf in the percentiles (no dose reaches the target on a curve
        that does not rise), so an upper limit can be inf; on the linear scale a
        BED50 or BED_target <= 0 (the target is met at any dose) is taken as 0.
        gamma50 uses only the replicates that define it.
    seed, level, target_lc, scale, model : the settings.
    """

    estimates: dict
    intervals: pd.DataFrame
    replicates: pd.DataFrame
    n_boot: int
    n_ok: int
    n_failed: int
    failures: tuple
    n_nonpositive_slope: int
    seed: object
    level: float
    target_lc: float
    scale: str
    model: str


# --------------------------------------------------------------------------- input


def _labels(x, name: str, k: int) -> np.ndarray:
    a = np.asarray(x, dtype=object)
    if a.ndim != 1 or a.size != k:
        raise ValueError(f"{name} must be a 1-d array with one label per arm (k = {k})")
    if pd.isna(pd.Series(a)).any():
        raise ValueError(f"{name} has missing labels (None or NaN)")
    return a


def _dose(bed, scale: str) -> np.ndarray:
    b = np.asarray(bed, dtype=float)
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError("BED10 must be finite and > 0 (found NaN, inf or <= 0)")
    return np.log(b) if scale == "log" else b


def _data(events, n, bed, study, arm, site, scale, tau2_method, ci_method, level):
    if scale not in SCALES:
        raise ValueError(f"scale {scale!r} is not one of {SCALES}")
    check_tau2_method(tau2_method, LIKELIHOOD_TAU2)
    check_ci_method(ci_method, T_CI)  # rma.mv's / rma's test = "z" / "t"
    level = check_level(level)
    events = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    yi, vi = proportion_effect_sizes(events, n, "PLO")  # validates events and n
    k = yi.size
    b = np.asarray(bed, dtype=float)
    if b.ndim != 1 or b.size != k:
        raise ValueError(f"bed must be a 1-d array with one BED10 per arm (k = {k})")
    x = _dose(b, scale)
    study = _labels(study, "study", k)
    arm = _labels(arm, "arm", k)
    if site is None:
        site_arr, sites = None, ()
    else:
        site_arr = _labels(site, "site", k).astype(str)
        sites = tuple(sorted(set(site_arr)))  # code-point order, as R's factor() in the C locale
    return events, n, b, x, yi, vi, study, arm, site_arr, sites, level


def _design(x: np.ndarray, site: np.ndarray | None, sites: tuple, scale: str):
    cols, names = [np.ones(x.size), x], ["intrcpt", DOSE_NAMES[scale]]
    if site is not None and len(sites) > 1:
        for level in sites[1:]:
            cols.append((site == level).astype(float))
            names.append(f"site{level}")
    return np.column_stack(cols), tuple(names)


def _has_several_arms(study: np.ndarray, arm: np.ndarray) -> bool:
    pairs = pd.MultiIndex.from_arrays([pd.Index(study.astype(str)), pd.Index(arm.astype(str))])
    return pairs.nunique() > pd.Index(study.astype(str)).nunique()


def _refit(y, v, study, arm, X, multilevel: bool, tau2_method: str, ci_method: str, level: float, names=None):
    """The bare fit of one dataset: the multilevel or two-level model (the latter
    always with z tests: :func:`_two_level_fixed` gives its t version)."""
    if multilevel:
        return fit_multilevel(
            y, v, study, arm, X, tau2_method=tau2_method, ci_method=ci_method, level=level, coef_names=names
        )
    return fit_meta_regression(y, v, X, tau2_method=tau2_method, ci_method="z", level=level, coef_names=names)


def _two_level_fixed(fit: MetaRegressionResult, ci_method: str, level: float) -> FixedEffects:
    """The fixed effects of the two-level model as ``rma(..., test = ci_method)``: for "t"
    the z fit's covariance with t and F reference distributions on k - p df."""
    if ci_method != "t":
        return fit.fixed
    return FixedEffects(fit.coef_names, fit.coef, fit.vcov, fit.k - fit.p, level, fit.btt)


def _model_fields(fit, multilevel: bool, ci_method: str, level: float) -> dict:
    """The result fields of the fitted model: its fixed effects (the multilevel fit's own,
    or the two-level model's as ``rma(..., test = ci_method)``) and the variance components
    (``sigma2`` of the multilevel model, ``tau2`` of the two-level one)."""
    if multilevel:
        return dict(fixed=fit.fixed, sigma2=np.asarray(fit.sigma2, dtype=float).copy(), tau2=None, n_arms=fit.n_arms)
    return dict(fixed=_two_level_fixed(fit, ci_method, level), sigma2=None, tau2=float(fit.tau2), n_arms=fit.k)


# --------------------------------------------------------------------------- fit


def _data_fields(scale, names, X, events, n, b, study, arm, site_arr, sites, tau2_method, ci_method, level) -> dict:
    """The fields of a :class:`DoseResponseResult` that describe its data and options."""
    return dict(
        scale=scale,
        k=int(X.shape[0]),
        n_studies=int(pd.Index(study.astype(str)).nunique()),
        sites=sites,
        site_moderator=len(sites) > 1,
        tau2_method=tau2_method,
        ci_method=ci_method,
        events=events,
        n=n,
        bed=b,
        study=study,
        arm=arm,
        site=site_arr,
        X=X,
    )


def fit_dose_response(
    events,
    n,
    bed,
    study,
    arm,
    site=None,
    scale: str = "log",
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
) -> DoseResponseResult:
    """Fit logit(LC) on ln(BED10) (``scale="log"``) or BED10 (``"linear"``).

    Parameters
    ----------
    events, n : locally controlled lesions (or patients) and the arm's size.
    bed : the arm's BED10 in Gy (> 0).
    study, arm : labels; arms of one study share the study's random effect.
    site : optional site label per arm. With two or more sites the model has one
        common slope and site-specific intercepts (``mods = ~ x + factor(site)``);
        with one site the label is only recorded.
    scale : ``"log"`` or ``"linear"``.
    tau2_method : ``"REML"`` or ``"ML"`` (metafor's ``method``).
    ci_method : ``"z"`` (Wald) or ``"t"`` (t and F tests on k - p df, metafor's ``test = "t"``).
    level : confidence level.

    The model is ``rma.mv(yi, vi, mods, random = ~ 1 | study/arm)`` when some
    study has two or more arms, else ``rma(yi, vi, mods)``; see the module text.
    Raises ValueError for bad input (events outside 0..n, BED10 <= 0, NaN,
    missing labels, k <= p, ...).
    """
    events, n, b, x, yi, vi, study, arm, site_arr, sites, level = _data(
        events, n, bed, study, arm, site, scale, tau2_method, ci_method, level
    )
    X, names = _design(x, site_arr, sites, scale)
    k, p = X.shape
    if k <= p:
        raise ValueError(f"need more arms than coefficients (k = {k}, p = {p})")
    multilevel = _has_several_arms(study, arm)
    fit = _refit(yi, vi, study, arm, X, multilevel, tau2_method, ci_method, level, names)
    return DoseResponseResult(
        model=MODEL_MULTILEVEL if multilevel else MODEL_TWO_LEVEL,
        **_model_fields(fit, multilevel, ci_method, level),
        **_data_fields(scale, names, X, events, n, b, study, arm, site_arr, sites, tau2_method, ci_method, level),
        yi=yi,
        vi=vi,
        fit=fit,
    )


def _arm_groups(study, arm) -> np.ndarray:
    """One label per (study, arm): the cohort whose rates over time are correlated."""
    return np.array(
        [f"{s}\x1f{a}" for s, a in zip(np.asarray(study).astype(str), np.asarray(arm).astype(str))], dtype=object
    )


def _time_design(t, timepoint: float, time_function: str, df: int):
    """The time columns f(t) - f(T) (zero at the time point T, so that b0 is the intercept at T),
    their names, and None when every rate is at one time (no time term can be fitted)."""
    if np.unique(t).size < 2:
        return None, ()
    basis = TimeBasis.of(t, time_function, df)
    cols = basis.columns(t) - basis.columns(np.array([float(timepoint)]))
    names = {"log": ("log(t/T)",), "linear": ("t - T",)}.get(time_function)
    return cols, names or tuple(f"ns{j + 1}(t) - ns{j + 1}(T)" for j in range(cols.shape[1]))


def fit_dose_time(
    events,
    n,
    bed,
    study,
    arm,
    time,
    timepoint: float = 24.0,
    site=None,
    scale: str = "log",
    time_function: str = "log",
    spline_df: int = 3,
    struct: str = "CAR",
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
) -> DoseResponseResult:
    """The dose x time model: every rate of every arm, at whatever month it was printed.

    ``logit LC = b0 + b1 x [+ site] + f(t) - f(T)``, x = ln BED10 (or BED10), with V the
    covariance of one arm's rates over time under the binomial approximation
    (:func:`sbrtmeta.stats.curves.logit_rate_covariance`) and the random effects
    ``list(~ 1 | study, ~ t | arm)`` with ``struct`` (``~ t | arm`` alone when no study has
    several arms; struct ID when no arm prints two time points, as the correlation over time
    is then not estimable):

        rma.mv(yi, V, mods = ~ log(bed10) + I(f(t) - f(T)), random = list(~ 1 | study, ~ t | arm), struct)

    (:func:`sbrtmeta.stats.multilevel.fit_block_model`). When every arm prints one rate, V is
    diagonal and the model is the study/arm (or two-level) meta-regression of
    :func:`fit_dose_response` with f(t) - f(T) as a moderator, and is fitted as such (``model``
    says which). b0 is the logit LC at T = ``timepoint``,
    so BED50, gamma50 and BED_p of :func:`tcp_parameters` are those at T. With every rate at
    one time the time term is left out, and the model is the single-time-point one with V.
    """
    events, n, b, x, yi, vi, study, arm, site_arr, sites, level = _data(
        events, n, bed, study, arm, site, scale, tau2_method, ci_method, level
    )
    t = np.asarray(time, dtype=float)
    if t.shape != yi.shape or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError(f"time must be {yi.size} months > 0")
    X, names = _design(x, site_arr, sites, scale)
    cols, tnames = _time_design(t, timepoint, time_function, spline_df)
    if cols is not None:
        X, names = np.column_stack([X, cols]), names + tnames
    k, p = X.shape
    if k <= p:
        raise ValueError(f"need more rates than coefficients (k = {k}, p = {p})")
    group = _arm_groups(study, arm)
    yv, V, _ = logit_rate_covariance(events, n, t, group)
    several_times = pd.Series(t).groupby(group).nunique().max() > 1
    study_effect = _has_several_arms(study, arm)
    common = dict(
        **_data_fields(scale, names, X, events, n, b, study, arm, site_arr, sites, tau2_method, ci_method, level),
        time=t,
        timepoint=float(timepoint),
    )
    if not several_times:
        # one rate per arm: V is diagonal and struct ID is one effect per arm, so the model is the
        # study/arm (or two-level) meta-regression with f(t) as a moderator; fitted as such
        fit = _refit(yv, vi, study, arm, X, study_effect, tau2_method, ci_method, level, names)
        return DoseResponseResult(
            model=MODEL_MULTILEVEL if study_effect else MODEL_TWO_LEVEL,
            **_model_fields(fit, study_effect, ci_method, level),
            yi=yi,
            vi=vi,
            fit=fit,
            struct="ID",
            **common,
        )
    fit = fit_block_model(
        yv,
        V,
        study,
        t,
        X=X,
        inner=group,
        struct=struct,
        study_effect=study_effect,
        tau2_method=tau2_method,
        ci_method=ci_method,
        level=level,
        coef_names=names,
    )
    tau2 = float(fit.tau2[0]) if struct != "HCS" else float(np.max(fit.tau2))
    return DoseResponseResult(
        model=MODEL_TIME,
        fixed=fit.fixed,
        sigma2=np.array([fit.sigma2, tau2]) if study_effect else None,
        tau2=None if study_effect else tau2,
        n_arms=int(pd.Index(group).nunique()),
        yi=yv,
        vi=np.asarray(V.diagonal()),
        fit=fit,
        rho=fit.rho,
        struct=struct,
        **common,
    )


def bootstrap_dose_time(
    result: DoseResponseResult, n_boot: int = 1000, seed=20240917, target_lc: float = 0.90, level: float = 0.95
) -> BootstrapResult:
    """Parametric bootstrap of a :func:`fit_dose_time` model: ``y* ~ N(X b, V + G)`` with G the
    fitted random effects (study, and the arm's effects over time), each refitted with
    :func:`sbrtmeta.stats.multilevel.fit_block_model` (same V, design and structure; a model
    with one rate per arm by the batched refits of :func:`bootstrap_tcp`); the TCP
    parameters at T and their percentile intervals as :func:`bootstrap_tcp`. Dense k x k draws:
    for models of up to a few hundred rates (``dose_response.bootstrap.max_arms``)."""
    n_boot, level, target_lc = _check_bootstrap_options(n_boot, level, target_lc)
    sites = list(result.sites) if result.site_moderator else [_site_index(result, None)[0]]
    estimates = {s: tcp_parameters(result, target_lc, level, site=s if result.site_moderator else None) for s in sites}
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if not isinstance(result.fit, BlockModelResult):  # one rate per arm: the batched refits of bootstrap_tcp
        coef, _, ok, failures = refit_many(result, simulate_logits(result, n_boot, rng))
        return _bootstrap_result(result, estimates, sites, coef, ok, failures, n_boot, seed, level, target_lc)
    fit = result.fit
    group = _arm_groups(result.study, result.arm)
    same_arm = group[:, None] == group[None, :]
    same_study = result.study.astype(str)[:, None] == result.study.astype(str)[None, :]
    D = np.abs(result.time[:, None] - result.time[None, :])
    if result.struct == "CAR":
        G = float(fit.tau2[0]) * same_arm * np.where(D == 0, 1.0, fit.rho**D)
    elif result.struct == "HCS":  # a variance per level of t, correlation rho between levels
        sd = np.sqrt(fit.tau2[np.searchsorted(fit.tau2_levels, result.time)])
        G = same_arm * np.outer(sd, sd) * np.where(D == 0, 1.0, fit.rho)
    else:
        G = float(fit.tau2[0]) * same_arm * (D == 0)
    if not np.isnan(fit.sigma2):
        G = G + fit.sigma2 * same_study
    _, V, _ = logit_rate_covariance(result.events, result.n, result.time, group)
    M = V.toarray() + G
    L = np.linalg.cholesky(M)
    Y = result.X @ result.coef + rng.standard_normal((n_boot, result.k)) @ L.T
    coef = np.full((n_boot, result.coef.size), np.nan)
    ok = np.zeros(n_boot, dtype=bool)
    failures = []
    for r in range(n_boot):
        try:
            refit = fit_block_model(
                Y[r],
                V,
                result.study,
                result.time,
                X=result.X,
                inner=group,
                struct=result.struct,
                study_effect=not np.isnan(fit.sigma2),
                tau2_method=result.tau2_method,
                level=level,
            )
        except (ValueError, RuntimeError, np.linalg.LinAlgError, FloatingPointError) as err:
            failures.append(f"replicate {r}: {err}")
            continue
        coef[r], ok[r] = refit.coef, bool(np.all(np.isfinite(refit.coef)))
    return _bootstrap_result(result, estimates, sites, coef, ok, failures, n_boot, seed, level, target_lc)


# --------------------------------------------------------------------------- TCP parameters


def _site_index(result: DoseResponseResult, site) -> tuple[str, int | None]:
    """The site's label and the column of its intercept shift (None: the reference)."""
    if result.site_moderator:
        if site is None:
            raise ValueError(f"the model has site intercepts: choose a site among {list(result.sites)}")
        site = str(site)
        if site not in result.sites:
            raise ValueError(f"site {site!r} is not one of the model's sites {list(result.sites)}")
        j = result.sites.index(site)
        return site, (None if j == 0 else 1 + j)
    label = result.sites[0] if result.sites else ALL_SITES
    if site is not None and str(site) != label:
        raise ValueError(f"the model has no site moderator; it was fitted to {label!r}, not {site!r}")
    return label, None


def _tcp_values(b0, b1, scale: str, target_logit: float):
    """BED50, gamma50 and BED_target from intercept(s) and slope(s) (arrays or
    scalars), NaN where the fit does not define them."""
    b0 = np.asarray(b0, dtype=float)
    b1 = np.asarray(b1, dtype=float)
    up = b1 > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if scale == "log":
            bed50 = np.where(up, np.exp(-b0 / b1), np.nan)
            bed_t = np.where(up, np.exp((target_logit - b0) / b1), np.nan)
            gamma = b1 / 4.0
        else:
            bed50 = np.where(up, -b0 / b1, np.nan)
            bed_t = np.where(up, (target_logit - b0) / b1, np.nan)
            gamma = np.where(up & (bed50 > 0), -b0 / 4.0, np.nan)
            bed50 = np.where(bed50 > 0, bed50, np.nan)
            bed_t = np.where(bed_t > 0, bed_t, np.nan)
    return bed50, gamma, bed_t


def _coefficient_gradients(p: int, site_column: int | None):
    """Gradients ``g0`` (of the site's intercept: 1 at the intercept and at its site dummy)
    and ``g1`` (of the slope) with respect to the ``p`` coefficients."""
    g0 = np.zeros(p)
    g0[0] = 1.0
    if site_column is not None:
        g0[site_column] = 1.0
    g1 = np.zeros(p)
    g1[1] = 1.0
    return g0, g1


def _gradient_se(g: np.ndarray, V: np.ndarray) -> float:
    """Delta-method standard error ``sqrt(g' V g)``."""
    return float(np.sqrt(g @ V @ g))


def _tcp_standard_errors(result, g0, g1, b0: float, b1: float, L: float, values):
    """Delta-method standard errors ``(gamma50, ln BED50, ln BED_target)`` (NaN where the
    value is not defined); the gradients are of ln BED (log scale) or of BED itself
    (linear scale, then divided by the value)."""
    bed50, gamma, bed_t = values
    V = result.vcov
    nan = float("nan")
    d50 = -g0 / b1 + (b0 / b1**2) * g1 if b1 != 0 else None
    dt = -g0 / b1 - ((L - b0) / b1**2) * g1 if b1 != 0 else None
    if result.scale == "log":
        gamma_se = _gradient_se(g1 / 4.0, V)
        se50 = _gradient_se(d50, V) if np.isfinite(bed50) else nan
        se_t = _gradient_se(dt, V) if np.isfinite(bed_t) else nan
    else:
        gamma_se = _gradient_se(-g0 / 4.0, V) if np.isfinite(gamma) else nan
        se50 = _gradient_se(d50, V) / bed50 if np.isfinite(bed50) else nan
        se_t = _gradient_se(dt, V) / bed_t if np.isfinite(bed_t) else nan
    return gamma_se, se50, se_t


def _log_ci(value: float, se: float, crit: float) -> tuple[float, float]:
    """The interval ``exp(ln value ± crit se)``; NaN where the value is not defined."""
    if not np.isfinite(value):
        return float("nan"), float("nan")
    return float(np.exp(np.log(value) - crit * se)), float(np.exp(np.log(value) + crit * se))


def _tcp_notes(scale, positive, excludes, bed50, bed_t, target_lc, level) -> list[str]:
    """Why BED50, gamma50 or BED_target is undefined or its delta-method CI too narrow."""
    notes = []
    if not positive:
        notes.append(
            f"slope <= 0: local control does not rise with dose; BED50 and BED{100 * target_lc:g} are not defined"
        )
    elif not excludes:
        notes.append(
            f"the slope's {100 * level:g}% CI includes 0: the delta-method CIs of BED50 and "
            f"BED{100 * target_lc:g} are too narrow (the exact interval is unbounded)"
        )
    if scale == "linear" and positive and not np.isfinite(bed50):
        notes.append("BED50 <= 0 on the linear scale (LC above 50% at any dose): BED50 and gamma50 not defined")
    if scale == "linear" and positive and not np.isfinite(bed_t):
        notes.append(f"BED{100 * target_lc:g} <= 0 on the linear scale: not defined")
    return notes


def tcp_parameters(
    result: DoseResponseResult, target_lc: float = 0.90, level: float = 0.95, site=None
) -> TcpParameters:
    """BED50, gamma50 and the BED10 for ``target_lc`` (e.g. BED90), with delta-method CIs.

    ``site`` picks the intercept of a model with site intercepts (required there).
    With ``g0`` and ``g1`` the gradients of b0 and b1 with respect to the
    coefficient vector (unit vectors; g0 also has a 1 at the site's dummy), the
    gradients used are, on the log scale,

        ln BED50 = -b0/b1:             -g0/b1 + b0/b1^2 g1
        ln BED_p = (logit p - b0)/b1:  -g0/b1 - (logit p - b0)/b1^2 g1
        gamma50 = b1/4:                 g1/4

    and on the linear scale, for BED50 = -b0/b1 and BED_p = (logit p - b0)/b1 the
    same expressions (then divided by the value itself for the log-scale interval),
    and for gamma50 = -b0/4: -g0/4. See the module text for the definitions.
    """
    level = check_level(level)
    target_lc = float(target_lc)
    if not 0.0 < target_lc < 1.0:
        raise ValueError("target_lc must be in (0, 1), e.g. 0.90")
    label, j = _site_index(result, site)
    g0, g1 = _coefficient_gradients(result.coef.size, j)
    b = result.coef
    b0, b1 = float(g0 @ b), float(b[1])
    L = float(np.log(target_lc / (1.0 - target_lc)))
    crit = result.crit(level)
    slope_se = _gradient_se(g1, result.vcov)
    slope_lo, slope_hi = b1 - crit * slope_se, b1 + crit * slope_se
    bed50, gamma, bed_t = (float(x) for x in _tcp_values(b0, b1, result.scale, L))
    gamma_se, se50, se_t = _tcp_standard_errors(result, g0, g1, b0, b1, L, (bed50, gamma, bed_t))
    b50_lo, b50_hi = _log_ci(bed50, se50, crit)
    bt_lo, bt_hi = _log_ci(bed_t, se_t, crit)
    nan = float("nan")
    g_lo, g_hi = (gamma - crit * gamma_se, gamma + crit * gamma_se) if np.isfinite(gamma) else (nan, nan)
    positive = b1 > 0
    excludes = slope_lo > 0
    notes = _tcp_notes(result.scale, positive, excludes, bed50, bed_t, target_lc, level)
    fit = result
    return TcpParameters(
        site=label,
        scale=fit.scale,
        model=fit.model,
        tau2_method=fit.tau2_method,
        ci_method=fit.ci_method,
        k=fit.k,
        n_studies=fit.n_studies,
        target_lc=target_lc,
        level=level,
        crit=crit,
        intercept=b0,
        slope=b1,
        slope_se=slope_se,
        slope_ci_low=slope_lo,
        slope_ci_high=slope_hi,
        slope_positive=bool(positive),
        slope_ci_excludes_zero=bool(excludes),
        bed50=bed50,
        bed50_ci_low=b50_lo,
        bed50_ci_high=b50_hi,
        log_bed50_se=se50,
        gamma50=gamma,
        gamma50_se=gamma_se,
        gamma50_ci_low=g_lo,
        gamma50_ci_high=g_hi,
        bed_target=bed_t,
        bed_target_ci_low=bt_lo,
        bed_target_ci_high=bt_hi,
        log_bed_target_se=se_t,
        note="; ".join(notes),
    )


# --------------------------------------------------------------------------- bootstrap


def _percentile_interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """Median and percentile interval of values that may hold +inf (linear
    interpolation between order statistics; an end that falls on or next to
    +inf is +inf)."""
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    big = np.finfo(float).max / 4
    capped = np.where(np.isposinf(values), big, values)
    qs = np.quantile(capped, [0.5, 0.5 - level / 2.0, 0.5 + level / 2.0])
    return tuple(float("inf") if q >= big / 2 else float(q) for q in qs)


class _BatchFit:
    """(Restricted) maximum likelihood of the same model for many response vectors at once.

    The bootstrap refits one design, one set of sampling variances and one random-
    effects structure to many simulated responses. The marginal covariance
    ``V(theta) = diag(v) + sum_j theta_j G_j`` (G_j = Z_j Z_j': the study and the arm
    indicators of the three-level model, or the identity for the two-level model's
    tau2) does not depend on the responses, so the (restricted) log-likelihood
    ``-1/2 [log|V| (+ log|X'V^-1 X|) + y'P y]`` (P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1)
    is evaluated for every replicate on a grid of theta (edges at 0 included) with
    one P per grid point; each replicate then starts from its best grid point a
    projected Newton ascent (Fisher scoring where the Hessian is not negative
    definite) with step halving and an active set at 0, the same iteration as
    :mod:`sbrtmeta.multilevel` (Harville, J Am Stat Assoc 1977;72:320-338: gradient
    ``-1/2 [tr(M G_j) - y'P G_j P y]``, Hessian ``1/2 tr(M G_j M G_l) - y'P G_j P G_l P y``,
    M = P for REML, V^-1 for ML), in dense batched linear algebra. Replicates that do
    not converge are reported, and the caller refits them one by one.
    """

    def __init__(self, v, X, Z_list, reml: bool):
        self.v, self.X, self.reml = np.asarray(v, float), np.asarray(X, float), reml
        self.G = np.stack([Z @ Z.T for Z in Z_list])  # (m, k, k)
        self.m, self.k = self.G.shape[0], self.v.size

    def _matrices(self, theta):
        """P, V^-1 (or None), log|V| (+ log|X'V^-1X|), and (X'V^-1X)^-1 X'V^-1 for each theta row."""
        V = np.einsum("nj,jkl->nkl", theta, self.G)
        V[:, np.arange(self.k), np.arange(self.k)] += self.v
        L = np.linalg.cholesky(V)
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        Vi = np.linalg.inv(V)
        ViX = Vi @ self.X
        F = np.einsum("kp,nkq->npq", self.X, ViX)
        Finv = np.linalg.inv(F)
        if self.reml:
            logdet = logdet + np.linalg.slogdet(F)[1]
        B = Finv @ np.swapaxes(ViX, 1, 2)  # (n, p, k): beta = B y
        P = Vi - ViX @ B
        return P, Vi, logdet, B

    def grid_start(self, Y, n_grid: int = 20):
        """Each replicate's best point of a log grid (with 0) of every component."""
        top = max(float(np.var(Y, axis=1, ddof=1).max()), float(self.v.mean()))
        axis = np.r_[0.0, np.geomspace(1e-4 * top, 3.0 * top, n_grid - 1)]
        thetas = np.array(np.meshgrid(*[axis] * self.m, indexing="ij")).reshape(self.m, -1).T
        best = np.full(Y.shape[0], -np.inf)
        start = np.zeros((Y.shape[0], self.m))
        for c in range(0, thetas.shape[0], 256):
            P, _, logdet, _ = self._matrices(thetas[c : c + 256])
            for t in range(P.shape[0]):
                ll = -0.5 * (logdet[t] + ((Y @ P[t]) * Y).sum(axis=1))
                better = ll > best
                best[better] = ll[better]
                start[better] = thetas[c + t]
        return start, top

    def evaluate(self, theta, Y, deriv: bool):
        P, Vi, logdet, B = self._matrices(theta)
        Py = np.einsum("nkl,nl->nk", P, Y)
        ll = -0.5 * (logdet + (Py * Y).sum(axis=1))
        beta = np.einsum("npk,nk->np", B, Y)
        if not deriv:
            return ll, None, None, None, beta
        M = P if self.reml else Vi
        MG = np.einsum("nkl,jlr->njkr", M, self.G)
        U = np.einsum("jkl,nl->njk", self.G, Py)  # G_j P y
        grad = -0.5 * (np.einsum("njkk->nj", MG) - np.einsum("njk,nk->nj", U, Py))
        info = 0.5 * np.einsum("njab,nlba->njl", MG, MG)
        hess = info - np.einsum("njk,nkr,nlr->njl", U, P, U)
        return ll, grad, hess, info, beta

    def fit(self, Y, max_iter: int = 200, rtol: float = 1e-8):
        """theta, beta and a converged flag for every row of Y."""
        n = Y.shape[0]
        theta, top = self.grid_start(Y)
        floor = 1e-10 * max(top, float(self.v.mean()))
        done = np.zeros(n, dtype=bool)
        ll, g, H, info, _ = self.evaluate(theta, Y, True)
        for _ in range(max_iter):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            th = theta[act]
            try:
                step, free, conv = self._step(th, g[act], H[act], info[act], rtol, floor)
            except np.linalg.LinAlgError:
                break
            theta[act[conv]] = np.maximum(th[conv] + step[conv] * free[conv], 0.0)
            done[act[conv]] = True
            go = np.flatnonzero(~conv)
            if go.size == 0:
                continue
            rows = act[go]
            new, stuck = self._line_search(Y[rows], th[go], step[go], ll[rows])
            done[rows[stuck]] = True  # line search failed: left unconverged below
            theta[rows[~stuck]] = new[~stuck]
            upd = rows[~stuck]
            if upd.size:
                ll[upd], g[upd], H[upd], info[upd], _ = self.evaluate(theta[upd], Y[upd], True)
            if stuck.any():
                theta[rows[stuck]] = np.nan
        converged = done & np.all(np.isfinite(theta), axis=1)
        beta = np.full((n, self.X.shape[1]), np.nan)
        if converged.any():
            beta[converged] = self.evaluate(theta[converged], Y[converged], False)[4]
        return theta, beta, converged

    def _step(self, th, gg, HH, II, rtol: float, floor: float):
        """The projected Newton (or Fisher scoring) step of each replicate, the components
        free to move (not held at 0 with the gradient pointing below it), and whether the
        replicate has converged (nothing free, or a Newton step below ``rtol``)."""
        eye = np.eye(self.m)
        free = ~((th == 0.0) & (gg <= 0.0))
        none_free = ~free.any(axis=1)
        mask = free[:, :, None] & free[:, None, :]
        fixed_eye = eye * (~free)[:, :, None]
        A = np.where(mask, -HH, 0.0) + fixed_eye
        newton = np.all(np.linalg.eigvalsh(A) > 0.0, axis=1)
        A = np.where(newton[:, None, None], A, np.where(mask, II, 0.0) + fixed_eye)
        step = np.linalg.solve(A, (gg * free)[:, :, None])[:, :, 0]
        small = np.all(~free | (np.abs(step) <= rtol * np.maximum(th, floor)), axis=1)
        return step, free, none_free | (newton & small)

    def _line_search(self, Y, th, step, ll):
        """Step halving (at most 40 times) until the log-likelihood does not decrease:
        the new theta of each replicate and whether it got stuck."""
        t = np.ones(th.shape[0])
        new = np.maximum(th + step, 0.0)
        todo = np.arange(th.shape[0])
        for _halving in range(40):
            ll_new = self.evaluate(new[todo], Y[todo], False)[0]
            ok = np.isfinite(ll_new) & (ll_new >= ll[todo] - 1e-10 * np.maximum(1.0, np.abs(ll[todo])))
            todo = todo[~ok]
            if todo.size == 0:
                break
            t[todo] *= 0.5
            new[todo] = np.maximum(th[todo] + t[todo, None] * step[todo], 0.0)
        stuck = np.zeros(th.shape[0], dtype=bool)
        stuck[todo] = True
        return new, stuck


def _indicator(codes: np.ndarray) -> np.ndarray:
    Z = np.zeros((codes.size, int(codes.max()) + 1))
    Z[np.arange(codes.size), codes] = 1.0
    return Z


def _group_codes(result: DoseResponseResult):
    study = pd.Index(result.study.astype(str))
    s_code = pd.factorize(study)[0]
    a_code = pd.MultiIndex.from_arrays([study, pd.Index(result.arm.astype(str))]).factorize()[0]
    return s_code, a_code


def simulate_logits(result: DoseResponseResult, n_sim: int, rng: np.random.Generator) -> np.ndarray:
    """``n_sim`` response vectors (n_sim x k) drawn from a fitted model: the fitted
    mean X b plus a study effect N(0, sigma2_study) per study, an arm effect
    N(0, sigma2_arm) per arm (for the two-level model N(0, tau2) per arm) and
    sampling error N(0, v) with the arms' observed v, all drawn at once."""
    s_code, a_code = _group_codes(result)
    mu = result.X @ result.coef
    e = rng.standard_normal((n_sim, result.k)) * np.sqrt(result.vi)
    if result.multilevel:
        s2s, s2a = result.sigma2
        u = rng.standard_normal((n_sim, int(s_code.max()) + 1)) * np.sqrt(s2s)
        w = rng.standard_normal((n_sim, int(a_code.max()) + 1)) * np.sqrt(s2a)
        return mu + u[:, s_code] + w[:, a_code] + e
    return mu + rng.standard_normal((n_sim, result.k)) * np.sqrt(result.tau2) + e


def refit_many(result: DoseResponseResult, Y, chunk: int = 250, fallback: bool = True):
    """Refit the model of ``result`` (same design, v, model and method) to each row
    of ``Y``: returns ``(coef, variances, ok, failures)`` with coef (n x p),
    variances (n x 2 for the multilevel model, n x 1 for the two-level one), ``ok``
    per row and the messages of the first failures. Rows are fitted in batches
    (:class:`_BatchFit`); a row whose batched fit does not converge is refitted
    with :func:`~sbrtmeta.stats.multilevel.fit_multilevel` or
    :func:`~sbrtmeta.stats.meta_regression.fit_meta_regression`, and counts as failed only
    if that raises. With ``fallback=False`` it is not refitted but counted as failed
    (the tests use it to show that the batched fits themselves converge).
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    s_code, a_code = _group_codes(result)
    Z = [_indicator(s_code), _indicator(a_code)] if result.multilevel else [np.eye(result.k)]
    batch = _BatchFit(result.vi, result.X, Z, result.tau2_method == "REML")
    n = Y.shape[0]
    coef = np.full((n, result.coef.size), np.nan)
    var = np.full((n, len(Z)), np.nan)
    ok = np.zeros(n, dtype=bool)
    for c in range(0, n, chunk):
        with np.errstate(all="ignore"):
            try:
                th, b, conv = batch.fit(Y[c : c + chunk])
            except np.linalg.LinAlgError:
                th, b, conv = None, None, np.zeros(min(chunk, n - c), dtype=bool)
        if th is not None:
            var[c : c + chunk][conv], coef[c : c + chunk][conv] = th[conv], b[conv]
        ok[c : c + chunk] = conv
    failures = []
    for r in np.flatnonzero(~ok):
        if not fallback:
            failures.append(f"replicate {r}: batched fit did not converge")
            continue
        try:
            fit = _refit(
                Y[r],
                result.vi,
                result.study,
                result.arm,
                result.X,
                result.multilevel,
                result.tau2_method,
                "z",
                result.level,
                result.coef_names,
            )
        except (ValueError, RuntimeError, np.linalg.LinAlgError, FloatingPointError) as err:
            failures.append(f"replicate {r}: {err}")
            continue
        coef[r] = fit.coef
        var[r] = fit.sigma2 if result.multilevel else [fit.tau2]
        ok[r] = bool(np.all(np.isfinite(fit.coef)))
        if not ok[r]:
            failures.append(f"replicate {r}: coefficients not finite")
    return coef, var, ok, failures


def _check_bootstrap_options(n_boot, level: float, target_lc: float):
    """``(n_boot, level, target_lc)`` checked: a positive integer, a level in (0, 1) and a target in (0, 1)."""
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 1:
        raise ValueError("n_boot must be a positive integer")
    level = check_level(level)
    target_lc = float(target_lc)
    if not 0.0 < target_lc < 1.0:
        raise ValueError("target_lc must be in (0, 1), e.g. 0.90")
    return int(n_boot), level, target_lc


def _site_intervals(site: str, est: TcpParameters, replicates: dict, level: float) -> list[dict]:
    """One row per TCP parameter of ``site``: its point estimate, and the median and
    percentile interval of its bootstrap ``replicates`` (by parameter name)."""
    slope = replicates["slope"]
    out = []
    for name in ("slope", "bed50", "gamma50", "bed_target"):
        vals = np.asarray(replicates[name], dtype=float)
        if name in ("bed50", "bed_target"):
            # undefined: +inf where the curve does not rise, 0 where (linear scale) the target is met at any dose
            vals = np.where(slope <= 0, np.inf, np.where(np.isnan(vals), 0.0, vals))
        else:
            vals = vals[np.isfinite(vals)]
        med, lo, hi = _percentile_interval(vals, level)
        out.append(
            dict(
                site=site,
                parameter=name,
                estimate=getattr(est, name),
                boot_median=med,
                ci_low=lo,
                ci_high=hi,
                n_used=int(vals.size),
            )
        )
    return out


def bootstrap_tcp(
    events,
    n,
    bed,
    study,
    arm,
    site=None,
    scale: str = "log",
    tau2_method: str = "REML",
    ci_method: str = "z",
    n_boot: int = 1000,
    seed=20240917,
    target_lc: float = 0.90,
    level: float = 0.95,
) -> BootstrapResult:
    """Parametric bootstrap of the TCP parameters (percentile intervals).

    The model is fitted once (:func:`fit_dose_response`); then ``n_boot`` new
    sets of logits are drawn from it (:func:`simulate_logits`): ``y* = X b + u* +
    w* + e*`` with ``u* ~ N(0, sigma2_study)`` per study, ``w* ~ N(0, sigma2_arm)``
    per arm (for the two-level model one ``N(0, tau2)`` per arm) and ``e* ~ N(0, v)``
    with the observed sampling variances v. Each set is refitted with the same v,
    design, model and method (:func:`refit_many`) and the TCP parameters are
    recomputed. The draws come from ``numpy.random.default_rng(seed)`` (``seed`` may
    also be a Generator), so a seed gives the same result. Refits that fail are
    counted (``n_failed``) and left out. With site intercepts every site's
    parameters are returned. ``ci_method`` only sets the point estimates' delta-method
    intervals; the coefficients do not depend on it.
    """
    n_boot, level, target_lc = _check_bootstrap_options(n_boot, level, target_lc)
    result = fit_dose_response(
        events, n, bed, study, arm, site=site, scale=scale, tau2_method=tau2_method, ci_method=ci_method, level=level
    )
    sites = list(result.sites) if result.site_moderator else [_site_index(result, None)[0]]
    estimates = {s: tcp_parameters(result, target_lc, level, site=s if result.site_moderator else None) for s in sites}
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    Y = simulate_logits(result, n_boot, rng)
    coef, _, ok, failures = refit_many(result, Y)
    return _bootstrap_result(result, estimates, sites, coef, ok, failures, n_boot, seed, level, target_lc)


def _bootstrap_result(result, estimates, sites, coef, ok, failures, n_boot, seed, level, target_lc) -> BootstrapResult:
    """The percentile intervals of the TCP parameters from the refits' coefficients."""
    scale = result.scale
    reps = np.flatnonzero(ok)
    B = coef[ok]
    L = float(np.log(target_lc / (1.0 - target_lc)))
    rows, intervals = [], []
    slope = B[:, 1]
    for s in sites:
        j = _site_index(result, s if result.site_moderator else None)[1]
        b0 = B[:, 0] + (B[:, j] if j is not None else 0.0)
        bed50, gamma, bed_t = _tcp_values(b0, slope, scale, L)
        replicates = {"slope": slope, "bed50": bed50, "gamma50": gamma, "bed_target": bed_t}
        rows.append(pd.DataFrame({"replicate": reps, "site": s, "intercept": b0, **replicates}))
        intervals.extend(_site_intervals(s, estimates[s], replicates, level))
    return BootstrapResult(
        estimates=estimates,
        intervals=pd.DataFrame(intervals),
        replicates=pd.concat(rows, ignore_index=True),
        n_boot=n_boot,
        n_ok=int(ok.sum()),
        n_failed=int((~ok).sum()),
        failures=tuple(failures[:5]),
        n_nonpositive_slope=int(np.sum(slope <= 0)),
        seed=seed,
        level=level,
        target_lc=target_lc,
        scale=scale,
        model=result.model,
    )


# --------------------------------------------------------------------------- curves and tables


def dose_curve(result: DoseResponseResult, bed_grid, site=None, level: float | None = None) -> pd.DataFrame:
    """Fitted local control over a BED10 grid, with confidence and prediction bands.

    One row per grid point (and site: with site intercepts and ``site=None``, every
    site in turn): site, bed10, logit (the fitted mean logit), se, and on the
    proportion scale lc, ci_low, ci_high (CI of the mean) and pi_low, pi_high
    (prediction interval of the true LC of a new arm of a new study, which adds
    sigma2_study + sigma2_arm, or tau2, to se^2), each the inverse logit of the
    logit-scale limit, as ``predict(res, newmods, transf = transf.ilogit)``. The
    mean and se come from :func:`~sbrtmeta.stats.multilevel.predict_multilevel` or
    :func:`~sbrtmeta.stats.meta_regression.predict_meta_regression`; the bands use the
    fit's critical value (t on k - p df for ``ci_method="t"``). The logit-scale limits
    are in the columns logit_ci_low, ... .
    """
    level = result.level if level is None else check_level(level)
    grid = np.asarray(bed_grid, dtype=float).reshape(-1)
    if grid.size == 0:
        raise ValueError("bed_grid is empty")
    x = _dose(grid, result.scale)
    if result.site_moderator:
        todo = list(result.sites) if site is None else [_site_index(result, site)[0]]
    else:
        todo = [_site_index(result, site)[0]]
    crit = result.crit(level)
    frames = []
    for s in todo:
        j = _site_index(result, s if result.site_moderator else None)[1]
        Xn = np.zeros((grid.size, result.coef.size))
        Xn[:, 0], Xn[:, 1] = 1.0, x
        if j is not None:
            Xn[:, j] = 1.0
        if isinstance(result.fit, BlockModelResult):  # the time columns are 0: the curve at the time point T
            pr = predict_block_model(result.fit, Xn, time=result.timepoint, level=level)
        elif result.multilevel:
            pr = predict_multilevel(result.fit, Xn, level)
        else:
            pr = predict_meta_regression(result.fit, Xn, level)
        pred, se = np.asarray(pr.pred, float), np.asarray(pr.se, float)
        pi_se = np.sqrt(se**2 + result.total_variance)
        lim = dict(
            logit_ci_low=pred - crit * se,
            logit_ci_high=pred + crit * se,
            logit_pi_low=pred - crit * pi_se,
            logit_pi_high=pred + crit * pi_se,
        )
        frames.append(
            pd.DataFrame(
                {
                    "site": s,
                    "bed10": grid,
                    "logit": pred,
                    "se": se,
                    "lc": inverse_transform(pred, "PLO"),
                    "ci_low": inverse_transform(lim["logit_ci_low"], "PLO"),
                    "ci_high": inverse_transform(lim["logit_ci_high"], "PLO"),
                    "pi_low": inverse_transform(lim["logit_pi_low"], "PLO"),
                    "pi_high": inverse_transform(lim["logit_pi_high"], "PLO"),
                    **lim,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def arm_table(result: DoseResponseResult) -> pd.DataFrame:
    """The arms of a fit, for plotting: study, arm, site, bed10, events, n, lc
    (events/n), yi, vi and weight = 1/(vi + sigma2_study + sigma2_arm) (or
    1/(vi + tau2)): the inverse of the arm's total variance around the fitted curve,
    its weight as a single arm; weight_pct is its share in % of the total."""
    w = 1.0 / (result.vi + result.total_variance)
    site = result.site if result.site is not None else np.full(result.k, ALL_SITES, dtype=object)
    return pd.DataFrame(
        {
            "study": result.study,
            "arm": result.arm,
            "site": site,
            "bed10": result.bed,
            "events": result.events,
            "n": result.n,
            "lc": result.events / result.n,
            "yi": result.yi,
            "vi": result.vi,
            "weight": w,
            "weight_pct": 100.0 * w / w.sum(),
        }
    )


def describe_model(result: DoseResponseResult) -> str:
    """One line for a figure's footnote, e.g. ``"Three-level model (arms within
    studies; REML): logit LC = b0 + b1 ln BED10 + site; Wald 95% CIs"``."""
    kind = (
        "Three-level model (arms within studies"
        if result.multilevel
        else "Two-level meta-regression (no study has several arms"
    )
    dose = "b1·ln BED10" if result.scale == "log" else "b1·BED10"
    site = " + site" if result.site_moderator else ""
    test = "Wald (z)" if result.ci_method == "z" else f"t ({result.df} df)"
    if result.time_model:
        study = "study + " if result.sigma2 is not None else ""
        return (
            f"Dose × time model ({study}arm over time, {result.struct}; V of each arm's rates; "
            f"{result.tau2_method}): logit LC = b0 + {dose}{site} + f(t), at {result.timepoint:g} months; "
            f"k = {result.k} rates of {result.n_arms} arms, {result.n_studies} studies; "
            f"{test} {100 * result.level:g}% CIs"
        )
    return (
        f"{kind}; {result.tau2_method}): logit LC = b0 + {dose}{site}; k = {result.k} arms, "
        f"{result.n_studies} studies; {test} {100 * result.level:g}% CIs"
    )


# --------------------------------------------------------------------------- time points


def convert_to_timepoint(rate, t0, t):
    """Local control at ``t`` from the rate at ``t0`` under a constant hazard:
    ``S(t) = S(t0)^(t / t0)`` (exponential survival). For a sensitivity analysis
    that puts, e.g., 12-month rates on the 24-month scale.

    ``rate`` in [0, 1] (scalar or array), ``t0`` > 0 and ``t`` > 0 in the same unit
    (scalars or arrays that broadcast). Returns a float for scalar input.
    """
    r = np.asarray(rate, dtype=float)
    a = np.asarray(t0, dtype=float)
    b = np.asarray(t, dtype=float)
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("rate, t0 and t must be finite numbers (found NaN or inf)")
    if np.any(r < 0) or np.any(r > 1):
        raise ValueError("rate must be a proportion in [0, 1]")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("the time points t0 and t must be > 0")
    out = r ** (b / a)
    return float(out) if out.ndim == 0 else out
