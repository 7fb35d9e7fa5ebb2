"""The profile likelihood of α/β in the dose-response model: α/β from the data.

Every arm's dose is its BED at α/β, so α/β enters the dose-response model of
:mod:`sbrtmeta.stats.dose_response` only through the dose column of its design. For each α/β of a grid the
model is fitted by maximum likelihood, and the profile of that log-likelihood gives the estimate and the
likelihood-ratio interval (Pawitan, In All Likelihood, 2001; Klement et al., Radiother Oncol 2017;123:218-226).

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbrtmeta.stats.distributions import chi2_ppf, chi2_sf
from sbrtmeta.stats.dose_response import (
    MODEL_MULTILEVEL,
    MODEL_TWO_LEVEL,
    DoseResponseResult,
    _data,
    _design,
    _dose,
    _has_several_arms,
    fit_dose_response,
)
from sbrtmeta.stats.multilevel import DesignProfile

ALPHA_BETA_GRID = (1.0, 100.0, 100)  # Gy: the profile's grid, log-spaced


@dataclass(frozen=True)
class AlphaBetaProfile:
    """The profile likelihood of α/β in the dose-response model (:func:`profile_alpha_beta`).

    The dose of every arm is its BED at α/β, so α/β enters the model only through the dose
    column of the design: for each α/β the model of :func:`fit_dose_response` is fitted by
    maximum likelihood (``method = "ML"``: metafor's ``logLik(rma.mv(yi, vi, mods = ~ log(bed),
    random = ~ 1 | study/arm, method = "ML"))``, or ``rma``'s for the two-level model), and the
    profile is that log-likelihood over α/β (Pawitan, In All Likelihood, 2001, ch. 2.9 and 3.4;
    the α/β of tumour control estimated from clinical data as in Klement et al., Radiother Oncol
    2017;123:218-226).

    Attributes
    ----------
    alpha_beta, loglik : the grid (Gy) and the maximised ML log-likelihood at each value.
    estimate, loglik_max : the maximum-likelihood α/β (the grid's best point refined by Brent's method
        between its neighbours) and its log-likelihood.
    ci_low, ci_high : the likelihood-ratio interval {α/β : 2 (loglik_max - loglik) <= χ²₁(level)}, each
        bound found by root finding between the grid points it lies between; a bound the grid does not
        reach is the grid's end and ``bounded_low`` / ``bounded_high`` is False.
    level, cutoff : the interval's level and χ²₁ quantile.
    model : the model fitted (:data:`MODEL_MULTILEVEL` or :data:`MODEL_TWO_LEVEL`).
    fit : :func:`fit_dose_response` at the estimate with the caller's ``tau2_method`` and ``ci_method``
        (its slope, BED50 and BED_p are at α/β = ``estimate``).
    fixed, loglik_fixed : an α/β the caller asked about (e.g. the configured one) and its log-likelihood
        (NaN when none was asked).
    """

    alpha_beta: np.ndarray
    loglik: np.ndarray
    estimate: float
    loglik_max: float
    ci_low: float
    ci_high: float
    bounded_low: bool
    bounded_high: bool
    level: float
    cutoff: float
    model: str
    fit: DoseResponseResult
    fixed: float = float("nan")
    loglik_fixed: float = float("nan")

    @property
    def deviance(self) -> np.ndarray:
        """2 (loglik_max - loglik) at every grid point: the likelihood-ratio statistic of each α/β."""
        return 2.0 * (self.loglik_max - self.loglik)

    @property
    def identifiable(self) -> bool:
        """True when the interval is closed within the grid: the data bound α/β on both sides. A profile
        too flat to fall below the cutoff at an end of the grid does not identify α/β."""
        return self.bounded_low and self.bounded_high

    @property
    def deviance_fixed(self) -> float:
        """The likelihood-ratio statistic of ``fixed`` against the estimate, 2 (loglik_max - loglik_fixed)."""
        return 2.0 * (self.loglik_max - self.loglik_fixed)

    @property
    def p_fixed(self) -> float:
        """The likelihood-ratio test's p-value of α/β = ``fixed`` (χ² on 1 df)."""
        return float(chi2_sf(max(self.deviance_fixed, 0.0), 1))


def alpha_beta_grid(low: float = ALPHA_BETA_GRID[0], high: float = ALPHA_BETA_GRID[1], points: int = 100):
    """``points`` values of α/β log-spaced from ``low`` to ``high`` Gy."""
    if not 0 < low < high or points < 3:
        raise ValueError("the α/β grid needs 0 < low < high and at least 3 points")
    return np.geomspace(float(low), float(high), int(points))


def _bound(profile, grid, lls, i_max: int, step: int, target: float) -> tuple[float, bool]:
    """The interval's bound on one side of the maximum: the first grid point past the cutoff, then the root
    of the profile between it and its neighbour (on log α/β); the grid's end when never past it."""
    from scipy import optimize  # here and in profile_alpha_beta: only the α/β profile uses it

    j = i_max
    while 0 <= j + step < grid.size and lls[j + step] >= target:
        j += step
    if not 0 <= j + step < grid.size:
        return float(grid[j]), False
    lo, hi = sorted((np.log(grid[j]), np.log(grid[j + step])))
    root = optimize.brentq(lambda u: profile(np.exp(u)) - target, lo, hi, xtol=1e-12, rtol=1e-12)
    return float(np.exp(root)), True


def profile_alpha_beta(
    events,
    n,
    bed_at,
    study,
    arm,
    site=None,
    scale: str = "log",
    grid=None,
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
    fixed: float | None = None,
) -> AlphaBetaProfile:
    """The profile likelihood of α/β, its maximum and likelihood-ratio interval (:class:`AlphaBetaProfile`).

    ``bed_at`` maps an α/β (Gy) to the BED of every arm at that α/β (k values > 0; e.g.
    ``D (1 + d / α/β)`` of each arm's total dose D and dose per fraction d). ``grid``: the α/β values
    (default :func:`alpha_beta_grid`, 100 values from 1 to 100 Gy). The other arguments are
    :func:`fit_dose_response`'s; the profile is ML whatever ``tau2_method`` (REML likelihoods of
    different designs are not comparable), which, with ``ci_method``, serves the fit at the estimate.
    ``fixed``: an α/β whose likelihood-ratio test against the estimate is wanted (e.g. the configured one).
    """
    from scipy import optimize

    grid = alpha_beta_grid() if grid is None else np.sort(np.asarray(grid, dtype=float))
    events, n, b, x, yi, vi, study, arm, site_arr, sites, level = _data(
        events, n, bed_at(float(grid[0])), study, arm, site, scale, tau2_method, ci_method, level
    )
    multilevel = _has_several_arms(study, arm)
    likelihood = DesignProfile(yi, vi, study, arm, "ML", study_effect=multilevel)

    def profile(ab: float) -> float:
        return likelihood(_design(_dose(bed_at(float(ab)), scale), site_arr, sites, scale)[0])

    lls = np.array([profile(ab) for ab in grid])
    i = int(np.argmax(lls))
    est, ll_max = float(grid[i]), float(lls[i])
    if 0 < i < grid.size - 1:
        likelihood(_design(_dose(bed_at(est), scale), site_arr, sites, scale)[0])  # warm start at the best point
        res = optimize.minimize_scalar(
            lambda u: -profile(np.exp(u)),
            bounds=(np.log(grid[i - 1]), np.log(grid[i + 1])),
            method="bounded",
            options={"xatol": 1e-10},
        )
        if -res.fun > ll_max:
            est, ll_max = float(np.exp(res.x)), float(-res.fun)
    cutoff = float(chi2_ppf(level, 1))
    target = ll_max - cutoff / 2.0
    low, closed_low = _bound(profile, grid, lls, i, -1, target)
    high, closed_high = _bound(profile, grid, lls, i, 1, target)
    at = fit_dose_response(events, n, bed_at(est), study, arm, site, scale, tau2_method, ci_method, level)
    ll_fixed = profile(float(fixed)) if fixed is not None else float("nan")
    return AlphaBetaProfile(
        alpha_beta=grid,
        loglik=lls,
        estimate=est,
        loglik_max=ll_max,
        ci_low=low,
        ci_high=high,
        bounded_low=closed_low,
        bounded_high=closed_high,
        level=level,
        cutoff=cutoff,
        model=MODEL_MULTILEVEL if multilevel else MODEL_TWO_LEVEL,
        fit=at,
        fixed=float("nan") if fixed is None else float(fixed),
        loglik_fixed=ll_fixed,
    )
