"""Effect sizes for single proportions, as metafor's ``escalc``, and their inverses.

Measures (Viechtbauer, J Stat Softw 2010;36(3):1-48):

* ``PR``  raw proportion, ``vi = p(1-p)/n``;
* ``PLO`` logit, ``vi = 1/x + 1/(n-x)``;
* ``PAS`` arcsine square root, ``vi = 1/(4n)``;
* ``PFT`` Freeman-Tukey double arcsine (Freeman & Tukey, Ann Math Stat
  1950;21:607-611), ``vi = 1/(4n+2)``, back-transformed with the harmonic mean of
  the sample sizes (Miller, Am Stat 1978;32:138), as ``transf.ipft.hm``.

Continuity correction, as ``escalc(..., add =, to =)`` (default ``add = 1/2, to = "only0"``):
PR and PLO add ``add`` to the events and non-events of a study with 0 or n events
(``only0``), of every study (``all``), of every study when any has 0 or n events
(``if0all``), or of none (``none``). PAS and PFT need no correction and get none (escalc's
default ``add = 0`` for them).

Study confidence intervals on the proportion scale (:func:`study_intervals`): the
Clopper-Pearson, Wilson, Agresti-Coull and Jeffreys intervals are statsmodels'
``proportion_confint``; Wilson with continuity correction, which statsmodels does not offer,
is Newcombe's formula (method 4 of Newcombe, Stat Med 1998;17:857-872), as R's
``prop.test(correct = TRUE)``. Brown, Cai & DasGupta (Stat Sci 2001;16:101-133) give the
Agresti-Coull and Jeffreys formulas.
"""

from __future__ import annotations

import numpy as np

MEASURES = ("PLO", "PR", "PAS", "PFT")
# escalc's ``to``: which studies get ``add`` added to their events and non-events
CONTINUITY_TO = ("only0", "all", "if0all", "none")
# study intervals: name -> statsmodels' proportion_confint method (None: computed here)
STUDY_CI_METHODS = {
    "clopper-pearson": "beta",
    "wilson": "wilson",
    "wilson-cc": None,
    "agresti-coull": "agresti_coull",
    "jeffreys": "jeffreys",
    "wald": None,
}


def _check_measure(measure):
    if measure not in MEASURES:
        raise ValueError(f"measure {measure!r} is not one of {MEASURES}")


def _check_continuity(add: float, to: str) -> None:
    if to not in CONTINUITY_TO:
        raise ValueError(f"continuity correction to={to!r} is not one of {CONTINUITY_TO}")
    if not (np.isfinite(add) and add >= 0):
        raise ValueError(f"continuity correction add={add!r} must be a finite number >= 0")


def _corrected(x, m, add: float, to: str):
    """Events and non-events after escalc's ``add``/``to`` rule."""
    zero = (x == 0) | (m == 0)
    if to == "all" or (to == "if0all" and zero.any()):
        return x + add, m + add
    if to == "only0":
        return np.where(zero, x + add, x), np.where(zero, m + add, m)
    return x, m


def boundary_studies(events, n, measure: str = "PLO", add: float = 0.5, to: str = "only0") -> np.ndarray:
    """Indices of the studies whose ``measure`` is undefined after the correction: under PLO
    a 0 % or 100 % study with nothing added (logit ±inf), under PR one with variance 0."""
    _check_measure(measure)
    _check_continuity(add, to)
    if measure not in ("PLO", "PR"):
        return np.empty(0, dtype=int)
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float) - x
    xc, mc = _corrected(x, m, add, to)
    return np.flatnonzero((xc == 0) | (mc == 0))


def proportion_effect_sizes(events, n, measure: str = "PLO", add: float = 0.5, to: str = "only0"):
    """Transformed proportions ``yi`` and sampling variances ``vi``, as
    ``escalc(measure, xi = events, ni = n, add = add, to = to)``. Raises ``ValueError``
    when a study's PLO or PR value is undefined (0 % or 100 % with no correction)."""
    _check_measure(measure)
    _check_continuity(add, to)
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    if x.shape != n.shape or x.ndim != 1:
        raise ValueError("events and n must be 1-d arrays of one length")
    if x.size == 0:
        raise ValueError("no studies: events and n are empty")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(n))):
        raise ValueError("events and n must be finite numbers")
    if np.any(n < 1) or np.any(x < 0) or np.any(x > n):
        raise ValueError("each study needs n >= 1 and 0 <= events <= n")
    if np.any(n >= 2.0**52):  # n + 1/2 is no longer a distinct float: the correction vanishes, vi = 0
        raise ValueError("n must be below 2^52 (about 4.5e15)")
    if measure == "PAS":
        return np.arcsin(np.sqrt(x / n)), 1.0 / (4.0 * n)
    if measure == "PFT":
        yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
        return yi, 1.0 / (4.0 * n + 2.0)
    x, m = _corrected(x, n - x, add, to)
    bad = np.flatnonzero((x == 0) | (m == 0))
    if bad.size:
        raise ValueError(
            f"study {bad[0] + 1} (of {x.size}) has 0 % or 100 % events and no continuity correction "
            f"(to={to!r}, add={add:g}): its {measure} value is undefined"
        )
    if measure == "PR":
        p = x / (x + m)
        return p, p * (1 - p) / (x + m)
    return np.log(x / m), 1.0 / x + 1.0 / m


def inverse_transform(y, measure: str = "PLO", n=None):
    """Back to the proportion scale: ``transf.ilogit`` (PLO), identity (PR),
    ``transf.iarcsin`` (PAS) or ``transf.ipft.hm`` with the studies' sizes ``n`` (PFT;
    ``n`` of shape (m, k) gives each of m estimates its own harmonic mean)."""
    _check_measure(measure)
    y = np.asarray(y, dtype=float)
    if measure == "PLO":
        return 1.0 / (1.0 + np.exp(-y))
    if measure == "PR":
        return y
    if measure == "PAS":
        return np.where(y < 0, 0.0, np.where(y > np.pi / 2, 1.0, np.sin(y) ** 2))
    if n is None:
        raise ValueError("the PFT back-transform needs the studies' sample sizes n")
    # harmonic mean over the last axis: n of shape (m, k) back-transforms m estimates at once
    nhm = 1.0 / np.mean(1.0 / np.asarray(n, dtype=float), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2 * y)
        z = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / nhm) ** 2))
    lo = 0.5 * (np.arcsin(0.0) + np.arcsin(np.sqrt(1 / (nhm + 1))))
    hi = 0.5 * (np.arcsin(np.sqrt(nhm / (nhm + 1))) + np.arcsin(1.0))
    return np.where(y > hi, 1.0, np.where(y < lo, 0.0, z))


# the measures whose mean back-transform metafor offers (transf.ilogit.int, transf.iarcsin.int;
# for PR the identity: the mean is the estimate)
MEAN_MEASURES = ("PLO", "PR", "PAS")


def mean_inverse_transform(y: float, measure: str, tau2: float) -> float:
    """The mean proportion over the random-effects distribution N(y, τ²) on the model's scale:
    metafor's ``transf.ilogit.int`` (PLO: E[ilogit(θ)], θ ~ N(y, τ²), integrated over
    y ± 10τ), ``transf.iarcsin.int`` (PAS: E[sin²(θ)] with θ truncated to [0, π/2], integrated
    over that range within y ± 10τ) or the identity (PR). τ² below machine epsilon (or NaN: no
    fit) gives the plain back-transform, as there (Viechtbauer, J Stat Softw 2010;36(3))."""
    if measure not in MEAN_MEASURES:
        raise ValueError(f"no mean back-transform for {measure!r} (metafor has one for {MEAN_MEASURES})")
    from scipy import integrate, special

    from sbrtmeta.stats.distributions import norm_cdf, norm_pdf

    y = float(y)
    if np.isnan(y) or measure == "PR" or not tau2 >= np.finfo(float).eps:
        return float(inverse_transform(y, measure))
    tau = float(np.sqrt(tau2))
    lower, upper = y - 10 * tau, y + 10 * tau
    if measure == "PLO":
        value, _ = integrate.quad(
            lambda z: special.expit(z) * norm_pdf(z, y, tau), lower, upper, epsabs=0, epsrel=1e-12, limit=200
        )
        return float(value)
    lower, upper = max(0.0, lower), min(np.pi / 2, upper)
    mass = norm_cdf((np.pi / 2 - y) / tau) - norm_cdf(-y / tau)
    value, _ = integrate.quad(
        lambda z: np.sin(z) ** 2 * norm_pdf(z, y, tau) / mass, lower, upper, epsabs=0, epsrel=1e-12, limit=200
    )
    return float(value)


def forward_transform(p, measure: str = "PLO", n=None):
    """A proportion on the model's scale (for axes): logit, identity, arcsine square
    root, or ``transf.pft`` at the harmonic mean of ``n`` (PFT)."""
    _check_measure(measure)
    p = np.asarray(p, dtype=float)
    if measure == "PLO":
        with np.errstate(divide="ignore"):
            return np.log(p / (1 - p))
    if measure == "PR":
        return p
    if measure == "PAS":
        return np.arcsin(np.sqrt(p))
    if n is None:
        raise ValueError("the PFT transform needs the studies' sample sizes n")
    nhm = 1.0 / np.mean(1.0 / np.asarray(n, dtype=float))
    x = p * nhm
    return 0.5 * (np.arcsin(np.sqrt(x / (nhm + 1))) + np.arcsin(np.sqrt((x + 1) / (nhm + 1))))


def _wilson_cc(x, n, z):
    """Wilson's score interval with continuity correction (Newcombe 1998, method 4): Wilson's
    limits at p ∓ 1/(2n), 0 below at x = 0 and 1 above at x = n, clipped to [0, 1] (as
    ``prop.test(correct = TRUE)`` when its null p is far from x/n)."""
    z22n = z**2 / (2 * n)

    def wilson(pc, sign):
        with np.errstate(invalid="ignore"):
            return (pc + z22n + sign * z * np.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)

    p = x / n
    lo_c, hi_c = p - 0.5 / n, p + 0.5 / n
    lo = np.where(lo_c <= 0, 0.0, wilson(np.clip(lo_c, 0, 1), -1))
    hi = np.where(hi_c >= 1, 1.0, wilson(np.clip(hi_c, 0, 1), 1))
    return np.maximum(lo, 0.0), np.minimum(hi, 1.0)


def study_interval(events, n, yi, vi, measure: str, method: str = "clopper-pearson", level: float = 0.95):
    """The interval of a study wherever one study is shown (config's ``sensitivity.study_ci``):
    its estimate ``inverse_transform(yi)`` and ``(ci_low, ci_high)`` as proportions, either the
    Wald interval on the measure's scale, back-transformed (``method="wald"``), or
    :func:`study_intervals` of ``events`` and ``n``. Arrays, one element per study."""
    from sbrtmeta.stats.inference import critical_value

    yi, vi, n = (np.asarray(a, dtype=float) for a in (yi, vi, n))
    half = critical_value(level) * np.sqrt(vi)
    est, lo, hi = (np.asarray(inverse_transform(v, measure, n), dtype=float) for v in (yi, yi - half, yi + half))
    if method != "wald":
        lo, hi = study_intervals(events, n, method, level)
    return est, lo, hi


def study_intervals(events, n, method: str = "clopper-pearson", level: float = 0.95):
    """Each study's confidence interval for its proportion, on the proportion scale.

    ``method`` is one of :data:`STUDY_CI_METHODS` except ``"wald"`` (the Wald interval is on
    the model's scale and is the pooling step's own). Clopper-Pearson (Biometrika
    1934;26:404-413; R's ``binom.test``), Wilson (J Am Stat Assoc 1927;22:209-212;
    ``prop.test(correct = FALSE)``), Agresti-Coull (Am Stat 1998;52:119-126; clipped to
    [0, 1], as statsmodels does) and Jeffreys are statsmodels' ``proportion_confint``;
    Jeffreys' limits are set to 0 at x = 0 and 1 at x = n as Brown, Cai & DasGupta (2001)
    define it. Wilson with continuity correction is :func:`_wilson_cc`.
    """
    from statsmodels.stats.proportion import proportion_confint

    from sbrtmeta.stats.distributions import norm_isf

    if method not in STUDY_CI_METHODS or method == "wald":
        raise ValueError(f"study interval {method!r} is not one of {tuple(m for m in STUDY_CI_METHODS if m != 'wald')}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1) (got {level})")
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    if x.shape != n.shape or np.any(n < 1) or np.any(x < 0) or np.any(x > n):
        raise ValueError("each study needs n >= 1 and 0 <= events <= n")
    if method == "wilson-cc":
        return _wilson_cc(x, n, norm_isf((1 - level) / 2))
    lo, hi = proportion_confint(x, n, alpha=1 - level, method=STUDY_CI_METHODS[method])
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if method == "jeffreys":
        lo, hi = np.where(x == 0, 0.0, lo), np.where(x == n, 1.0, hi)
    return lo, hi


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
