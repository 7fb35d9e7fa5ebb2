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
:mod:`sbrtmeta.stats.multilevel`, in which the dose arms of one study share the study's
effect (Konstantopoulos, Res Synth Methods 2011;2:61-76). With several sites, site
enters as a categorical moderator, ``mods = ~ x + factor(site)``: one common slope,
site-specific intercepts (the first site in sorted order is the reference). When no
study has two or more arms the two variance components cannot be told apart, and
the two-level mixed-effects meta-regression ``rma(yi, vi, mods = ~ x [+ factor(site)])``
of :mod:`sbrtmeta.stats.meta_regression` is fitted instead (``tau2`` in place of
``sigma2``); the result says which (:attr:`DoseResponseResult.model`).

α/β need not be fixed: :func:`sbrtmeta.stats.alpha_beta_profile.profile_alpha_beta` gives its profile
likelihood, the BED of every arm recomputed at each value, the maximum-likelihood estimate and the
likelihood-ratio interval.

The fit gives the TCP parameters (BED50, gamma50, BED_p) with delta-method intervals in
:mod:`sbrtmeta.stats.tcp`, and their parametric-bootstrap intervals in
:mod:`sbrtmeta.stats.tcp_bootstrap`.

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.stats.block_model import BlockModelResult, fit_block_model, predict_block_model
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
from sbrtmeta.stats.multilevel import MultilevelResult, fit_multilevel, predict_multilevel

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


def arm_groups(study, arm) -> np.ndarray:
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

    (:func:`sbrtmeta.stats.block_model.fit_block_model`). When every arm prints one rate, V is
    diagonal and the model is the study/arm (or two-level) meta-regression of
    :func:`fit_dose_response` with f(t) - f(T) as a moderator, and is fitted as such (``model``
    says which). b0 is the logit LC at T = ``timepoint``,
    so BED50, gamma50 and BED_p of :func:`~sbrtmeta.stats.tcp.tcp_parameters` are those at T. With every rate at
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
    group = arm_groups(study, arm)
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


def site_index(result: DoseResponseResult, site) -> tuple[str, int | None]:
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
        todo = list(result.sites) if site is None else [site_index(result, site)[0]]
    else:
        todo = [site_index(result, site)[0]]
    crit = result.crit(level)
    frames = []
    for s in todo:
        j = site_index(result, s if result.site_moderator else None)[1]
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


def model_description(result: DoseResponseResult) -> dict:
    """What a figure's footnote says of a fit, as plain values (the words are
    :func:`sbrtmeta.plots.labels.dose_model_text`'s): multilevel, time_model, scale,
    site_moderator, ci_method, df, tau2_method, level, k, n_studies, n_arms, and for the
    dose x time model study_effect, struct and timepoint."""
    return dict(
        multilevel=bool(result.multilevel),
        time_model=bool(result.time_model),
        scale=result.scale,
        site_moderator=bool(result.site_moderator),
        ci_method=result.ci_method,
        df=result.df,
        tau2_method=result.tau2_method,
        level=float(result.level),
        k=int(result.k),
        n_studies=int(result.n_studies),
        n_arms=int(result.n_arms),
        study_effect=result.sigma2 is not None,
        struct=result.struct,
        timepoint=result.timepoint,
    )
