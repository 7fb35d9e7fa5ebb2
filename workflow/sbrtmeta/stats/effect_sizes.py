"""Effect sizes for single proportions, as metafor's ``escalc``, and their inverses.

Measures (Viechtbauer, J Stat Softw 2010;36(3):1-48):

* ``PR``  raw proportion, ``vi = p(1-p)/n``;
* ``PLO`` logit, ``vi = 1/x + 1/(n-x)``;
* ``PAS`` arcsine square root, ``vi = 1/(4n)``;
* ``PFT`` Freeman-Tukey double arcsine (Freeman & Tukey, Ann Math Stat
  1950;21:607-611), ``vi = 1/(4n+2)``, back-transformed with the harmonic mean of
  the sample sizes (Miller, Am Stat 1978;32:138), as ``transf.ipft.hm``.

As ``escalc(..., add = 1/2, to = "only0")``: PR and PLO add 1/2 to the events and
non-events of a study with 0 or n events; PAS and PFT need no correction and get none.
"""

from __future__ import annotations

import numpy as np

MEASURES = ("PLO", "PR", "PAS", "PFT")


def _check_measure(measure):
    if measure not in MEASURES:
        raise ValueError(f"measure {measure!r} is not one of {MEASURES}")


def proportion_effect_sizes(events, n, measure: str = "PLO", add: float = 0.5):
    """Transformed proportions ``yi`` and sampling variances ``vi``."""
    _check_measure(measure)
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
    m = n - x
    zero = (x == 0) | (m == 0)
    x = np.where(zero, x + add, x)
    m = np.where(zero, m + add, m)
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
