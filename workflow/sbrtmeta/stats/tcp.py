"""The TCP parameters of a dose-response fit, with delta-method intervals.

A fit of :func:`sbrtmeta.stats.dose_response.fit_dose_response` (or
:func:`~sbrtmeta.stats.dose_response.fit_dose_time`) gives the parameters of the
tumour control probability curve. On the log scale the fit is the log-logistic tumour control probability model

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

The parametric bootstrap of :mod:`sbrtmeta.stats.tcp_bootstrap` gives percentile
intervals that do not rely on the delta method.

Functions take result objects and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from sbrtmeta.stats.dose_response import DoseResponseResult, site_index
from sbrtmeta.stats.inference import check_level


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


def tcp_values(b0, b1, scale: str, target_logit: float):
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
    label, j = site_index(result, site)
    g0, g1 = _coefficient_gradients(result.coef.size, j)
    b = result.coef
    b0, b1 = float(g0 @ b), float(b[1])
    L = float(np.log(target_lc / (1.0 - target_lc)))
    crit = result.crit(level)
    slope_se = _gradient_se(g1, result.vcov)
    slope_lo, slope_hi = b1 - crit * slope_se, b1 + crit * slope_se
    bed50, gamma, bed_t = (float(x) for x in tcp_values(b0, b1, result.scale, L))
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
