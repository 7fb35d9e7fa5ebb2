"""The normal, t, χ² and F distribution functions of the estimators, bit for bit scipy.stats' own.

scipy.stats' ``norm``, ``t``, ``chi2`` and ``f`` compute their tails and quantiles with
scipy.special (scipy 1.17, ``scipy/stats/_continuous_distns.py``): ``ndtr``, ``ndtri``, ``stdtr``,
``stdtrit``, ``chdtr``, ``chdtrc``, ``chdtri``, ``gammaincinv`` and ``fdtrc``, inside the checks of
``rv_continuous`` (``_distn_infrastructure.py``): NaN for a NaN argument or a degree of freedom
that is not > 0, the value at an end of the support there (``sf`` is 1 at and below its lower end,
``ppf`` is the lower end at q = 0 and the upper at q = 1), and ``ppf``'s ``* scale + loc`` (which
turns -0.0 into 0.0). This module does the same with the same calls, so every table is unchanged,
without importing scipy.stats (about 0.6 CPU-s in each Snakemake job that pools).
tests/test_distributions.py checks every function against scipy.stats, edge cases included.

Scalars in give NumPy scalars out and arrays give arrays, as scipy.stats does.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_NORM_PDF_C = np.sqrt(2 * np.pi)  # scipy.stats' _norm_pdf_C


def _in_support(core, x, shapes, support, ends):
    """``rv_continuous.cdf``/``sf`` of a standard distribution with support ``(a, b)``: ``core(x, *shapes)``
    inside it, ``ends`` (the values at and beyond a, and at and beyond b) outside, NaN for a NaN ``x``
    or a shape parameter that is not > 0."""
    x, *shapes = np.broadcast_arrays(np.asarray(x, dtype=float), *(np.asarray(s, dtype=float) for s in shapes))
    ok = np.logical_and.reduce([s > 0 for s in shapes]) if shapes else np.ones(x.shape, dtype=bool)
    a, b = support
    out = np.zeros(x.shape)
    out[~ok | np.isnan(x)] = np.nan
    out[ok & (x <= a)] = ends[0]
    out[ok & (x >= b)] = ends[1]
    inside = ok & (a < x) & (x < b)
    if inside.any():
        out[inside] = core(x[inside], *(s[inside] for s in shapes))
    return out[()] if out.ndim == 0 else out


def _quantile(core, q, shapes, ends):
    """``rv_continuous.ppf``/``isf`` of a standard distribution: ``core(q, *shapes)`` for 0 < q < 1, ``ends``
    (the values at q = 0 and q = 1), NaN for any other q or a shape parameter that is not > 0."""
    q, *shapes = np.broadcast_arrays(np.asarray(q, dtype=float), *(np.asarray(s, dtype=float) for s in shapes))
    ok = np.logical_and.reduce([s > 0 for s in shapes]) if shapes else np.ones(q.shape, dtype=bool)
    out = np.full(q.shape, np.nan)
    out[ok & (q == 0)] = ends[0]
    out[ok & (q == 1)] = ends[1]
    inside = ok & (0 < q) & (q < 1)
    if inside.any():
        out[inside] = core(q[inside], *(s[inside] for s in shapes)) + 0.0  # scipy's `* scale + loc`: no -0.0
    return out[()] if out.ndim == 0 else out


def norm_cdf(x):
    """``scipy.stats.norm.cdf(x)``."""
    return _in_support(special.ndtr, x, (), (-np.inf, np.inf), (0.0, 1.0))


def norm_sf(x):
    """``scipy.stats.norm.sf(x)``: the upper tail, 1 - Φ(x)."""
    return _in_support(lambda x: special.ndtr(-x), x, (), (-np.inf, np.inf), (1.0, 0.0))


def norm_ppf(q):
    """``scipy.stats.norm.ppf(q)``: the quantile Φ⁻¹(q)."""
    return _quantile(special.ndtri, q, (), (-np.inf, np.inf))


def norm_isf(q):
    """``scipy.stats.norm.isf(q)``: the upper quantile Φ⁻¹(1 - q)."""
    return _quantile(lambda q: -special.ndtri(q), q, (), (np.inf, -np.inf))


def norm_pdf(x, loc=0.0, scale=1.0):
    """``scipy.stats.norm.pdf(x, loc, scale)`` for a finite ``loc`` and ``scale`` > 0."""
    z = np.asarray((np.asarray(x) - loc) / scale, dtype=float)
    out = np.where(np.isnan(z), np.nan, np.exp(-(z**2) / 2.0) / _NORM_PDF_C / scale)
    return out[()] if out.ndim == 0 else out


def t_sf(x, df):
    """``scipy.stats.t.sf(x, df)``: the upper tail of Student's t on ``df`` degrees of freedom."""
    return _in_support(lambda x, df: special.stdtr(df, -x), x, (df,), (-np.inf, np.inf), (1.0, 0.0))


def t_ppf(q, df):
    """``scipy.stats.t.ppf(q, df)``: the quantile of Student's t on ``df`` degrees of freedom."""
    return _quantile(lambda q, df: special.stdtrit(df, q), q, (df,), (-np.inf, np.inf))


def chi2_cdf(x, df):
    """``scipy.stats.chi2.cdf(x, df)``."""
    return _in_support(lambda x, df: special.chdtr(df, x), x, (df,), (0.0, np.inf), (0.0, 1.0))


def chi2_sf(x, df):
    """``scipy.stats.chi2.sf(x, df)``: the upper tail of χ² on ``df`` degrees of freedom."""
    return _in_support(lambda x, df: special.chdtrc(df, x), x, (df,), (0.0, np.inf), (1.0, 0.0))


def chi2_ppf(q, df):
    """``scipy.stats.chi2.ppf(q, df)``: the quantile of χ² on ``df`` degrees of freedom."""
    return _quantile(lambda q, df: 2 * special.gammaincinv(df / 2, q), q, (df,), (0.0, np.inf))


def chi2_isf(q, df):
    """``scipy.stats.chi2.isf(q, df)``: the upper quantile of χ² on ``df`` degrees of freedom."""
    return _quantile(lambda q, df: special.chdtri(df, q), q, (df,), (np.inf, 0.0))


def f_sf(x, dfn, dfd):
    """``scipy.stats.f.sf(x, dfn, dfd)``: the upper tail of F on (``dfn``, ``dfd``) degrees of freedom."""
    return _in_support(lambda x, m, n: special.fdtrc(m, n, x), x, (dfn, dfd), (0.0, np.inf), (1.0, 0.0))
