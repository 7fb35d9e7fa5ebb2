"""α/β from the data (``dose_response.alpha_beta_mode: profile``): the profile likelihood of α/β for every
dose-response model that :func:`sbrtmeta.analysis.dose_response.analyse_dose_response` fits.

The arms are ``dose_response_arms.csv``'s. Each arm's BED is recomputed at every α/β from its printed dose
(:func:`sbrtmeta.data.dose_strings.parse_dose` and the configured dose rule, as the arms' BED10 was), and
:func:`sbrtmeta.stats.alpha_beta_profile.profile_alpha_beta` fits the model per site × histology and across the
sites of a histology (site intercepts), as the dose-response table does. The table has one row per model and
site: the estimate, its likelihood-ratio interval, whether the data identify α/β (the interval closes within
the grid), the likelihood-ratio test of the configured α/β, and the slope, BED50 and BED at the target LC at
the estimate (:func:`sbrtmeta.stats.tcp.tcp_parameters`; doses are then BEDs at that α/β, not BED10). The
points table holds each profile over the grid, for the figure. Pure functions: no I/O, no plots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.analysis.dose_response import (
    ACROSS_SITES,
    PER_SITE,
    TABLE_COLUMNS,
    arm_data,
    why_not_fitted,
)
from sbrtmeta.data.dose_strings import parse_dose
from sbrtmeta.stats.alpha_beta_profile import AlphaBetaProfile, alpha_beta_grid, profile_alpha_beta
from sbrtmeta.stats.tcp import tcp_parameters

PROFILE_COLUMNS = (
    "profile",
    *TABLE_COLUMNS[:6],  # model, site, histology, endpoint, timepoint_months, scale: as dose_response.csv
    "k_arms",
    "n_studies",
    "fit",
    "likelihood",
    "grid_low",
    "grid_high",
    "grid_points",
    "level",
    "lr_cutoff",
    "alpha_beta",
    "alpha_beta_ci_low",
    "alpha_beta_ci_high",
    "ci_low_reached",
    "ci_high_reached",
    "identifiable",
    "loglik_max",
    "alpha_beta_fixed",
    "lr_fixed",
    "p_fixed",
    "method",
    "target_lc",
    "slope",
    "slope_ci_low",
    "slope_ci_high",
    "bed50",
    "bed50_ci_low",
    "bed50_ci_high",
    "bed_target",
    "bed_target_ci_low",
    "bed_target_ci_high",
    "note",
)
POINT_COLUMNS = ("profile", "alpha_beta", "loglik", "deviance")
NOT_IDENTIFIABLE = "α/β is not identifiable from these data"


def bed_function(arms: pd.DataFrame, dose_rule: str):
    """``bed_at(alpha_beta)``: each arm's BED at that α/β from its printed dose (``dose_text``) by ``dose_rule``."""
    specs = [parse_dose(t) for t in arms["dose_text"]]
    if any(s is None for s in specs):
        raise ValueError("an arm of the dose-response table has no printed dose")
    return lambda ab: np.array([s.summary(ab, dose_rule).bed for s in specs], dtype=float)


def interval_note(p: AlphaBetaProfile) -> str:
    """What the table's note says of the profile: not identifiable (with the interval) or nothing."""
    if p.identifiable:
        return ""
    low = f"{p.ci_low:.3g}" if p.bounded_low else f"below {p.ci_low:g}"
    high = f"{p.ci_high:.3g}" if p.bounded_high else f"above {p.ci_high:g}"
    return (
        f"{NOT_IDENTIFIABLE}: the likelihood-ratio statistic does not reach its {100 * p.level:g}% cutoff "
        f"({p.cutoff:.2f}) on both sides within {p.alpha_beta[0]:g}-{p.alpha_beta[-1]:g} Gy; likelihood-ratio "
        f"interval from {low} to {high} Gy"
    )


def _rows(key: str, model: str, histology: str, sub: pd.DataFrame, p: AlphaBetaProfile, dose: dict) -> list[dict]:
    """One row per site of the fit at the estimate (the across-sites model: one per site intercept)."""
    sites = list(p.fit.sites) if p.fit.site_moderator else [None]
    common = dict(
        profile=key,
        model=model,
        histology=histology,
        endpoint=dose["endpoint"],
        timepoint_months=float(dose["timepoint_months"]),
        scale=dose["scale"],
        k_arms=len(sub),
        n_studies=int(sub["study_id"].nunique()),
        fit=p.model,
        likelihood="ML",
        grid_low=float(p.alpha_beta[0]),
        grid_high=float(p.alpha_beta[-1]),
        grid_points=int(p.alpha_beta.size),
        level=p.level,
        lr_cutoff=p.cutoff,
        alpha_beta=p.estimate,
        alpha_beta_ci_low=p.ci_low,
        alpha_beta_ci_high=p.ci_high,
        ci_low_reached=p.bounded_low,
        ci_high_reached=p.bounded_high,
        identifiable=p.identifiable,
        loglik_max=p.loglik_max,
        alpha_beta_fixed=p.fixed,
        lr_fixed=p.deviance_fixed,
        p_fixed=p.p_fixed,
        method=p.fit.tau2_method,
        target_lc=float(dose["target_lc"]),
    )
    rows = []
    for s in sites:
        t = tcp_parameters(p.fit, float(dose["target_lc"]), p.level, site=s)
        tcp = {
            name: getattr(t, name)
            for name in ("slope", "slope_ci_low", "slope_ci_high", "bed50", "bed50_ci_low", "bed50_ci_high")
        }
        tcp |= {name: getattr(t, name) for name in ("bed_target", "bed_target_ci_low", "bed_target_ci_high")}
        note = "; ".join(x for x in (interval_note(p), t.note) if x)
        rows.append(dict(common, site=sub["site"].iloc[0] if s is None else s, **tcp, note=note))
    return rows


def _points(key: str, p: AlphaBetaProfile) -> pd.DataFrame:
    return pd.DataFrame({"profile": key, "alpha_beta": p.alpha_beta, "loglik": p.loglik, "deviance": p.deviance})


def profile_key(model: str, sites: list[str], histology: str) -> str:
    """The name of one profile (the figure's panel): ``"lung (colorectal)"``, ``"across sites: liver + lung
    (colorectal)"``."""
    where = " + ".join(sites)
    return f"{where} ({histology})" if model == PER_SITE else f"{ACROSS_SITES}: {where} ({histology})"


def _fits(arms: pd.DataFrame, min_arms: int):
    """``(model, histology, arms)`` of every fit the dose-response table has, in its order."""
    for histology, h_arms in arms.groupby("histology", sort=True):
        qualifying = []
        for site, sub in h_arms.groupby("site", sort=True):
            if not why_not_fitted(sub, min_arms):
                qualifying.append(site)
                yield PER_SITE, histology, sub
        if len(qualifying) >= 2:
            yield ACROSS_SITES, histology, h_arms[h_arms["site"].isin(qualifying)]


def profile_alpha_beta_table(arms: pd.DataFrame, dose: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(table, points)`` of the α/β profiles of ``arms`` (``dose_response_arms.csv``, ``bed10`` its BED) under
    the ``dose_response`` config ``dose`` (its grid: ``alpha_beta_grid``)."""
    grid_cfg = dose["alpha_beta_grid"]
    grid = alpha_beta_grid(grid_cfg["low"], grid_cfg["high"], grid_cfg["points"])
    arms = arms.rename(columns={"bed10": "bed"})
    rows, points = [], []
    for model, histology, sub in _fits(arms, int(dose["min_arms"])):
        sites = sorted(sub["site"].unique())
        key = profile_key(model, sites, histology)
        data = arm_data(sub, with_site=model == ACROSS_SITES)
        data.pop("bed")
        p = profile_alpha_beta(
            **data,
            bed_at=bed_function(sub, dose["dose_rule"]),
            scale=dose["scale"],
            grid=grid,
            tau2_method=dose["tau2_method"],
            ci_method=dose["ci_method"],
            level=float(dose["level"]),
            fixed=float(dose["alpha_beta"]),
        )
        rows += _rows(key, model, histology, sub, p, dose)
        points.append(_points(key, p))
    table = pd.DataFrame(rows).reindex(columns=list(PROFILE_COLUMNS))
    pts = pd.concat(points, ignore_index=True) if points else pd.DataFrame(columns=list(POINT_COLUMNS))
    return table, pts
