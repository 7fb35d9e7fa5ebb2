"""The dose-response analysis of the workflow: which models are fitted, and their table.

Given the arms of :func:`sbrtmeta.analysis.dose_arms.dose_response_rows` (one BED10 per arm),
:func:`analyse_dose_response` fits

* one model per site × histology (``model = "per site"``), and
* one model per histology across the sites that qualify for their own fit, with
  site as a categorical moderator (``model = "across sites"``: a common slope and
  site-specific intercepts),

each the logit-log (or logit-linear) multilevel model of
:func:`sbrtmeta.stats.dose_response.fit_dose_response`, and reports per site the TCP
parameters BED50, gamma50 and the BED10 at the target LC with delta-method and
parametric-bootstrap intervals (:func:`sbrtmeta.stats.tcp_bootstrap.bootstrap_tcp`).

A site × histology is fitted only with at least ``min_arms`` arms at two or more
different BED10s (a slope needs two doses, and k must exceed the two
coefficients). Cells that do not qualify get a row whose ``note`` says why, so
that the table lists every site that had arms. Pure functions: no I/O, no plots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.analysis.dose_notes import ACROSS_SITES, PER_SITE
from sbrtmeta.stats.dose_response import (
    DoseResponseResult,
    arm_table,
    dose_curve,
    fit_dose_response,
    fit_dose_time,
    model_description,
)
from sbrtmeta.stats.tcp import tcp_parameters
from sbrtmeta.stats.tcp_bootstrap import bootstrap_dose_time, bootstrap_tcp

TABLE_COLUMNS = (
    "model",
    "site",
    "histology",
    "endpoint",
    "timepoint_months",
    "scale",
    "alpha_beta",
    "dose_rule",
    "converted_arms",
    "k_arms",
    "n_studies",
    "fit",
    "method",
    "test",
    "level",
    "target_lc",
    "intercept",
    "intercept_se",
    "slope",
    "slope_se",
    "slope_ci_low",
    "slope_ci_high",
    "slope_p",
    "sigma2_study",
    "sigma2_arm",
    "tau2",
    "qm",
    "qm_df",
    "qm_p",
    "bed50",
    "bed50_ci_low",
    "bed50_ci_high",
    "bed50_boot_low",
    "bed50_boot_high",
    "gamma50",
    "gamma50_ci_low",
    "gamma50_ci_high",
    "gamma50_boot_low",
    "gamma50_boot_high",
    "bed_target",
    "bed_target_ci_low",
    "bed_target_ci_high",
    "bed_target_boot_low",
    "bed_target_boot_high",
    "n_boot",
    "n_boot_ok",
    "n_boot_nonpositive_slope",
    "seed",
    "note",
)
# the dose x time model's own columns (dose_response.time: model), after TABLE_COLUMNS
TIME_COLUMNS = ("k_rates", "time_function", "struct", "rho", "time_coef", "time_coef_se", "time_coef_p")


@dataclass
class DoseAnalysis:
    """What :func:`analyse_dose_response` returns.

    Attributes
    ----------
    table : one row per model and site (columns :data:`TABLE_COLUMNS`; ``bed_target``
        is the BED10 at ``target_lc``, e.g. BED90); rows of cells not fitted have
        NaN numbers and a ``note``.
    arms : the arms used, with the per-site fit's weight (``weight``, ``weight_pct``)
        and the key (``site_key``) under which the figure draws them.
    curves : the per-site fitted curves over a BED10 grid (site_key, bed10, lc,
        ci_low, ci_high, pi_low, pi_high, ...), for the figure.
    tcp : site_key -> the per-site :class:`~sbrtmeta.stats.tcp.TcpParameters`.
    models : site_key -> what the figure's footnote says of the per-site fit
        (:func:`~sbrtmeta.stats.dose_response.model_description`; the words are
        :func:`sbrtmeta.plots.labels.dose_model_text`'s).
    """

    table: pd.DataFrame
    arms: pd.DataFrame
    curves: pd.DataFrame
    tcp: dict
    models: dict


def site_key(site: str, histology: str, several_histologies: bool) -> str:
    """The label of a site × histology in the figure: the site, or ``"lung (sarcoma)"``."""
    return f"{site} ({histology})" if several_histologies else site


def _variance_fields(res: DoseResponseResult) -> dict:
    if res.sigma2 is not None:
        return dict(sigma2_study=float(res.sigma2[0]), sigma2_arm=float(res.sigma2[1]), tau2=np.nan)
    return dict(sigma2_study=np.nan, sigma2_arm=np.nan, tau2=float(res.tau2))


_TCP_FIELDS = (
    "target_lc",
    "intercept",
    "slope",
    "slope_se",
    "slope_ci_low",
    "slope_ci_high",
    "bed50",
    "bed50_ci_low",
    "bed50_ci_high",
    "gamma50",
    "gamma50_ci_low",
    "gamma50_ci_high",
    "bed_target",
    "bed_target_ci_low",
    "bed_target_ci_high",
)
_BOOTSTRAPPED = ("bed50", "gamma50", "bed_target")


def _fit_fields(res: DoseResponseResult, label) -> dict:
    """The columns of one fit that are the same for each of its sites, and the intercept's SE of ``label``."""
    j = 0 if not res.site_moderator or label == res.sites[0] else 1 + res.sites.index(label)
    g = np.zeros(res.coef.size)
    g[0] = 1.0
    g[j] = 1.0
    time = {}
    if res.time_model:
        has_time = res.X.shape[1] > 2 + (len(res.sites) - 1 if res.site_moderator else 0)
        last = -1 if has_time else None
        time = dict(
            k_rates=int(res.k),
            struct=res.struct,
            rho=res.rho,
            time_coef=float(res.coef[last]) if has_time else np.nan,
            time_coef_se=float(res.se[last]) if has_time else np.nan,
            time_coef_p=float(res.pval[last]) if has_time else np.nan,
        )
    return dict(
        **time,
        k_arms=int(res.n_arms if res.time_model else res.k),
        n_studies=int(res.n_studies),
        fit=res.model,
        method=res.tau2_method,
        test=res.ci_method,
        level=res.level,
        intercept_se=float(np.sqrt(g @ res.vcov @ g)),
        slope_p=float(res.pval[1]),
        qm=res.QM,
        qm_df=" ".join(str(d) for d in res.QM_df),
        qm_p=res.QM_p,
        **_variance_fields(res),
    )


def _boot_fields(boot, iv, label) -> dict:
    """The bootstrap counts and percentile intervals of ``label`` (NaN when the bootstrap was not run)."""
    out = dict(
        n_boot=boot.n_boot if boot else 0,
        n_boot_ok=boot.n_ok if boot else 0,
        n_boot_nonpositive_slope=boot.n_nonpositive_slope if boot else np.nan,
    )
    for name in _BOOTSTRAPPED:
        lo, hi = iv.loc[(label, name), ["ci_low", "ci_high"]] if boot else (np.nan, np.nan)
        out[f"{name}_boot_low"], out[f"{name}_boot_high"] = float(lo), float(hi)
    return out


def _rows(
    model: str,
    histology: str,
    arms: pd.DataFrame,
    res: DoseResponseResult,
    estimates: dict,
    boot,
    common: dict,
    note: str = "",
) -> list:
    """Table rows of one fit, one per site (a per-site fit is labelled with its arms' site).
    ``estimates`` maps the fit's site labels to their TcpParameters; ``boot`` is the
    :class:`~sbrtmeta.stats.tcp_bootstrap.BootstrapResult`, or None when the bootstrap was not
    run (``note`` then says why)."""
    rows = []
    iv = boot.intervals.set_index(["site", "parameter"]) if boot is not None else None
    for label, t in estimates.items():
        sub = arms if model == PER_SITE else arms[arms["site"] == label]
        row = dict(
            common,
            model=model,
            site=sub["site"].iloc[0],
            histology=histology,
            converted_arms=int(sub["converted"].sum()),
            note="; ".join(x for x in (t.note, note) if x),
        )
        row.update({name: getattr(t, name) for name in _TCP_FIELDS})
        row.update(_fit_fields(res, label))
        row.update(_boot_fields(boot, iv, label))
        rows.append(row)
    return rows


def _unfitted(model, site, histology, arms, common, note) -> dict:
    return dict(
        common,
        model=model,
        site=site,
        histology=histology,
        converted_arms=int(arms["converted"].sum()),
        k_arms=len(arms),
        n_studies=int(arms["study_id"].nunique()),
        note=note,
    )


def why_not_fitted(arms: pd.DataFrame, min_arms: int) -> str:
    """Why a site × histology gets no dose-response fit (too few arms, a single dose), or ""."""
    k = len(arms.drop_duplicates(["study_id", "arm"]))  # (the dose x time model has a row per arm and month)
    if k < min_arms:
        return f"not fitted: {k} arm(s), the minimum is {min_arms} (dose_response.min_arms)"
    if arms["bed"].nunique() < 2:
        return "not fitted: every arm has the same BED10, so there is no dose range to fit a slope on"
    return ""


def arm_data(arms: pd.DataFrame, with_site: bool, bed: str = "bed") -> dict:
    """The arrays :func:`sbrtmeta.stats.dose_response.fit_dose_response` takes from a table of arms
    (``bed``: the BED10 column, ``bed10`` in ``dose_response_arms.csv``); sites only ``with_site``."""
    return dict(
        events=arms["events"].to_numpy(),
        n=arms["n"].to_numpy(),
        bed=arms[bed].to_numpy(),
        study=arms["study_id"].to_numpy(),
        arm=arms["arm"].to_numpy(),
        site=arms["site"].to_numpy() if with_site else None,
    )


def fit_arms(arms: pd.DataFrame, with_site: bool, bed: str = "bed", **options) -> DoseResponseResult:
    """The single-time-point dose-response fit of a table of arms, as :func:`analyse_dose_response`
    fits it; ``options``: ``scale``, ``tau2_method``, ``ci_method``, ``level``."""
    return fit_dose_response(**arm_data(arms, with_site, bed), **options)


@dataclass(frozen=True)
class _Fitter:
    """The model options of :func:`analyse_dose_response`: fits a set of arms and its TCP parameters."""

    scale: str
    tau2_method: str
    ci_method: str
    level: float
    target_lc: float
    n_boot: int
    seed: int
    boot_max_arms: int
    time_model: dict | None = None

    def model_options(self) -> dict:
        return dict(scale=self.scale, tau2_method=self.tau2_method, ci_method=self.ci_method, level=self.level)

    def fit(self, sub: pd.DataFrame, with_site: bool):
        """``(result, estimates, bootstrap)`` of the arms ``sub``; no bootstrap (None) above ``boot_max_arms``."""
        if self.time_model is not None:
            return self._fit_time(sub, with_site)
        kw = dict(arm_data(sub, with_site), **self.model_options())
        res = fit_dose_response(**kw)
        if len(sub) > self.boot_max_arms:
            sites = list(res.sites) if res.site_moderator else [None]
            return res, {s: tcp_parameters(res, self.target_lc, self.level, site=s) for s in sites}, None
        boot = bootstrap_tcp(**kw, n_boot=self.n_boot, seed=self.seed, target_lc=self.target_lc)
        return res, boot.estimates, boot

    def _fit_time(self, sub: pd.DataFrame, with_site: bool):
        """The dose x time model of ``sub`` (a row per arm and printed month) and its bootstrap."""
        tm = self.time_model
        res = fit_dose_time(
            sub["events"].to_numpy(),
            sub["n"].to_numpy(),
            sub["bed"].to_numpy(),
            sub["study_id"].to_numpy(),
            sub["arm"].to_numpy(),
            sub["printed_timepoint_months"].to_numpy(float),
            timepoint=float(tm["timepoint"]),
            site=sub["site"].to_numpy() if with_site else None,
            scale=self.scale,
            time_function=tm["time_function"],
            spline_df=int(tm["spline_df"]),
            struct=tm["struct"],
            tau2_method=self.tau2_method,
            ci_method=self.ci_method,
            level=self.level,
        )
        if len(sub) > self.boot_max_arms:
            sites = list(res.sites) if res.site_moderator else [None]
            return res, {s: tcp_parameters(res, self.target_lc, self.level, site=s) for s in sites}, None
        boot = bootstrap_dose_time(res, n_boot=self.n_boot, seed=self.seed, target_lc=self.target_lc, level=self.level)
        return res, boot.estimates, boot

    def rows(self, model: str, histology: str, sub: pd.DataFrame, common: dict):
        """``(result, estimates, table rows)`` of the fit of ``sub``."""
        res, estimates, boot = self.fit(sub, with_site=model == ACROSS_SITES)
        no_boot = f"bootstrap not run: more than {self.boot_max_arms} arms (dose_response.bootstrap.max_arms)"
        return res, estimates, _rows(model, histology, sub, res, estimates, boot, common, "" if boot else no_boot)


@dataclass
class _Collected:
    """What the fits of :func:`analyse_dose_response` add up to, in the order they are made."""

    arms: pd.DataFrame
    rows: list
    curves: list
    tcp: dict
    models: dict

    def analysis(self, time_model: bool = False) -> DoseAnalysis:
        table = pd.DataFrame(self.rows).reindex(
            columns=list(TABLE_COLUMNS) + (list(TIME_COLUMNS) if time_model else [])
        )
        curve = pd.concat(self.curves, ignore_index=True) if self.curves else pd.DataFrame()
        return DoseAnalysis(table=table, arms=self.arms, curves=curve, tcp=self.tcp, models=self.models)


def _common_fields(arms: pd.DataFrame, scale, alpha_beta, dose_rule, seed) -> dict:
    """The columns every row of the table shares."""
    return dict(
        endpoint=str(arms["endpoint"].iloc[0]),
        timepoint_months=float(arms["timepoint_months"].iloc[0]),
        scale=scale,
        alpha_beta=float(alpha_beta),
        dose_rule=dose_rule,
        seed=int(seed),
    )


def _keyed_arms(arms: pd.DataFrame) -> pd.DataFrame:
    """``arms`` with the figure's ``site_key`` and empty per-site weights."""
    several = arms["histology"].nunique() > 1
    return arms.assign(
        site_key=[site_key(s, h, several) for s, h in zip(arms["site"], arms["histology"])],
        weight=np.nan,
        weight_pct=np.nan,
    )


def _bed_grid(arms: pd.DataFrame, scale: str, grid_points: int) -> np.ndarray:
    """The BED10 grid of the fitted curves: the arms' range widened by 15% each side."""
    lo, hi = float(arms["bed"].min()), float(arms["bed"].max())
    space = np.geomspace if scale == "log" else np.linspace
    return space(lo / 1.15, hi * 1.15, grid_points)


def _fit_site(fitter: _Fitter, out: _Collected, histology: str, sub: pd.DataFrame, common: dict, grid) -> None:
    """The per-site fit of ``sub``: its rows, its arms' weights, its curve, TCP parameters and description."""
    res, estimates, rows = fitter.rows(PER_SITE, histology, sub, common)
    out.rows += rows
    key = sub["site_key"].iloc[0]
    w = arm_table(res)
    out.arms.loc[sub.index, "weight"] = w["weight"].to_numpy()
    out.arms.loc[sub.index, "weight_pct"] = w["weight_pct"].to_numpy()
    out.curves.append(dose_curve(res, grid).assign(site=key))
    out.tcp[key] = next(iter(estimates.values()))
    out.models[key] = model_description(res)


def analyse_dose_response(
    arms: pd.DataFrame,
    *,
    scale: str = "log",
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
    target_lc: float = 0.90,
    min_arms: int = 3,
    n_boot: int = 1000,
    seed: int = 20240917,
    alpha_beta: float = 10.0,
    dose_rule: str = "median_or_midpoint",
    grid_points: int = 120,
    boot_max_arms: int = 200,
    time_model: dict | None = None,
) -> DoseAnalysis:
    """Fit the per-site and across-site models to ``arms`` (see the module text).

    ``tau2_method`` (REML or ML) and ``ci_method`` (z or t) are the models' (the table's
    ``method`` and ``test`` columns record them).
    ``arms`` has the columns of :data:`sbrtmeta.analysis.dose_arms.ARM_COLUMNS`. ``alpha_beta``
    and ``dose_rule`` only label the table (the BEDs in ``arms`` already use them).
    The bootstrap of each model uses its own generator seeded with ``seed``, so
    every model's intervals are reproducible on their own. Its batched refits use dense
    k × k matrices per replicate, so a model with more than ``boot_max_arms`` arms gets
    delta-method intervals only, and its note says so.

    ``time_model`` (``{"timepoint", "time_function", "spline_df", "struct"}``) fits the dose x
    time model (:func:`~sbrtmeta.stats.dose_response.fit_dose_time`) to ``arms`` with a row per
    arm and printed month (``printed_timepoint_months``); the TCP parameters are those at
    ``timepoint``, and the table gains :data:`TIME_COLUMNS`.
    """
    if arms.empty:
        raise ValueError("no arms to analyse")
    fitter = _Fitter(scale, tau2_method, ci_method, level, target_lc, n_boot, seed, boot_max_arms, time_model)
    common = _common_fields(arms, scale, alpha_beta, dose_rule, seed)
    out = _Collected(arms=_keyed_arms(arms), rows=[], curves=[], tcp={}, models={})
    grid = _bed_grid(out.arms, scale, grid_points)
    for histology, h_arms in out.arms.groupby("histology", sort=True):
        qualifying = []
        for site, sub in h_arms.groupby("site", sort=True):
            why = why_not_fitted(sub, min_arms)
            if why:
                out.rows.append(_unfitted(PER_SITE, site, histology, sub, common, why))
                continue
            qualifying.append(site)
            _fit_site(fitter, out, histology, sub, common, grid)
        if len(qualifying) >= 2:
            out.rows += fitter.rows(ACROSS_SITES, histology, h_arms[h_arms["site"].isin(qualifying)], common)[2]
    if time_model is not None:
        for row in out.rows:
            row.setdefault("time_function", time_model["time_function"])
    return out.analysis(time_model is not None)
