"""Parametric bootstrap of the TCP parameters of a dose-response fit.

A parametric bootstrap (:func:`bootstrap_tcp`) gives percentile intervals that do
not rely on the delta method (Efron & Tibshirani, *An Introduction to the
Bootstrap*, 1993, ch. 6 and 13).

New responses are drawn from the fitted model and refitted with the same design,
sampling variances and random effects; the refits of a study/arm (or two-level) model
are batched (:class:`sbrtmeta.stats.multilevel_batch.BatchFit`), those of the dose x
time model use :func:`sbrtmeta.stats.block_model.fit_block_model` one by one. The TCP
parameters of each refit are those of :mod:`sbrtmeta.stats.tcp`.

Functions take result objects and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.stats.block_model import BlockModelResult, fit_block_model
from sbrtmeta.stats.curves import logit_rate_covariance
from sbrtmeta.stats.dose_response import DoseResponseResult, _refit, arm_groups, fit_dose_response, site_index
from sbrtmeta.stats.inference import check_level
from sbrtmeta.stats.multilevel_batch import BatchFit
from sbrtmeta.stats.tcp import TcpParameters, tcp_parameters, tcp_values


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
    (:class:`BatchFit`); a row whose batched fit does not converge is refitted
    with :func:`~sbrtmeta.stats.multilevel.fit_multilevel` or
    :func:`~sbrtmeta.stats.meta_regression.fit_meta_regression`, and counts as failed only
    if that raises. With ``fallback=False`` it is not refitted but counted as failed
    (the tests use it to show that the batched fits themselves converge).
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    s_code, a_code = _group_codes(result)
    Z = [_indicator(s_code), _indicator(a_code)] if result.multilevel else [np.eye(result.k)]
    batch = BatchFit(result.vi, result.X, Z, result.tau2_method == "REML")
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

    The model is fitted once (:func:`~sbrtmeta.stats.dose_response.fit_dose_response`);
    then ``n_boot`` new sets of logits are drawn from it (:func:`simulate_logits`): ``y* = X b + u* +
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
    sites = list(result.sites) if result.site_moderator else [site_index(result, None)[0]]
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
        j = site_index(result, s if result.site_moderator else None)[1]
        b0 = B[:, 0] + (B[:, j] if j is not None else 0.0)
        bed50, gamma, bed_t = tcp_values(b0, slope, scale, L)
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


def bootstrap_dose_time(
    result: DoseResponseResult, n_boot: int = 1000, seed=20240917, target_lc: float = 0.90, level: float = 0.95
) -> BootstrapResult:
    """Parametric bootstrap of a :func:`~sbrtmeta.stats.dose_response.fit_dose_time` model:
    ``y* ~ N(X b, V + G)`` with G the
    fitted random effects (study, and the arm's effects over time), each refitted with
    :func:`sbrtmeta.stats.block_model.fit_block_model` (same V, design and structure; a model
    with one rate per arm by the batched refits of :func:`bootstrap_tcp`); the TCP
    parameters at T and their percentile intervals as :func:`bootstrap_tcp`. Dense k x k draws:
    for models of up to a few hundred rates (``dose_response.bootstrap.max_arms``)."""
    n_boot, level, target_lc = _check_bootstrap_options(n_boot, level, target_lc)
    sites = list(result.sites) if result.site_moderator else [site_index(result, None)[0]]
    estimates = {s: tcp_parameters(result, target_lc, level, site=s if result.site_moderator else None) for s in sites}
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if not isinstance(result.fit, BlockModelResult):  # one rate per arm: the batched refits of bootstrap_tcp
        coef, _, ok, failures = refit_many(result, simulate_logits(result, n_boot, rng))
        return _bootstrap_result(result, estimates, sites, coef, ok, failures, n_boot, seed, level, target_lc)
    fit = result.fit
    group = arm_groups(result.study, result.arm)
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
