"""sbrtmeta.stats.distributions gives scipy.stats' numbers bit for bit (signs of zero, NaN and the ends of
the support included), for scalars and arrays, so that taking them from scipy.special changes no table."""

import numpy as np
import pytest
from sbrtmeta.stats import distributions as d
from scipy import stats

X = [-np.inf, -1e300, -40.0, -8.5, -1.96, -1.0, -1e-300, -0.0, 0.0, 5e-324, 1e-12, 0.3, 1.0, 1.96, 3.7, 38.5,
     1e3, 1e300, np.inf, np.nan]  # fmt: skip
Q = [-0.5, 0.0, 5e-324, 1e-300, 1e-16, 0.001, 0.025, 0.05, 0.3, 0.5, 0.7, 0.975, 0.995, 1 - 1e-16, 1.0, 1.5, np.nan]
DF = [-1.0, 0.0, 1e-8, 0.5, 1.0, 2.0, 2.5, 7.0, 30.0, 1e6, 1e300, np.inf, np.nan]

TAILS = [
    (d.norm_cdf, stats.norm.cdf, 0),
    (d.norm_sf, stats.norm.sf, 0),
    (d.t_sf, stats.t.sf, 1),
    (d.chi2_cdf, stats.chi2.cdf, 1),
    (d.chi2_sf, stats.chi2.sf, 1),
    (d.f_sf, stats.f.sf, 2),
]
QUANTILES = [
    (d.norm_ppf, stats.norm.ppf, 0),
    (d.norm_isf, stats.norm.isf, 0),
    (d.t_ppf, stats.t.ppf, 1),
    (d.chi2_ppf, stats.chi2.ppf, 1),
    (d.chi2_isf, stats.chi2.isf, 1),
]


def _same(ours, theirs):
    """Equal bit for bit: type, shape, values (NaN where NaN) and the sign of every zero."""
    assert type(ours) is type(theirs)
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs, equal_nan=True)
    assert np.array_equal(np.signbit(ours), np.signbit(theirs))


def _shape_grids(n_shapes):
    if n_shapes == 0:
        return [()]
    if n_shapes == 1:
        return [(df,) for df in DF]
    return [(m, n) for m in DF for n in DF]


@pytest.mark.parametrize(("ours", "theirs", "n_shapes"), TAILS + QUANTILES, ids=lambda f: getattr(f, "__name__", ""))
def test_scalars_match_scipy_stats(ours, theirs, n_shapes):
    points = Q if (ours, theirs, n_shapes) in QUANTILES else X
    with np.errstate(all="ignore"):
        for shapes in _shape_grids(n_shapes):
            for p in points:
                _same(ours(p, *shapes), theirs(p, *shapes))


@pytest.mark.parametrize(("ours", "theirs", "n_shapes"), TAILS + QUANTILES, ids=lambda f: getattr(f, "__name__", ""))
def test_arrays_and_broadcasting_match_scipy_stats(ours, theirs, n_shapes):
    points = np.array(Q if (ours, theirs, n_shapes) in QUANTILES else X)
    grid = np.array(DF)
    shapes = [(), (grid[:, None],), (grid[:, None, None], grid[None, :, None])][n_shapes]
    with np.errstate(all="ignore"):
        _same(ours(points, *shapes), theirs(points, *shapes))
        _same(
            ours(points.tolist(), *(s.tolist() for s in shapes)), theirs(points.tolist(), *(s.tolist() for s in shapes))
        )
        if n_shapes:
            _same(ours(points[3], *(np.ravel(s)[:4].reshape(-1) for s in shapes)),
                  theirs(points[3], *(np.ravel(s)[:4].reshape(-1) for s in shapes)))  # fmt: skip
        _same(ours(np.array(points[5]), *(np.asarray(DF[4]) for _ in shapes)),
              theirs(np.array(points[5]), *(np.asarray(DF[4]) for _ in shapes)))  # fmt: skip


def test_integer_arguments_match_scipy_stats():
    """Counts of studies and coefficients come in as integers (chi2.sf(q, k - 1), f.sf(F, m, df))."""
    k = np.arange(1, 40)
    _same(d.chi2_sf(3.5, k - 1), stats.chi2.sf(3.5, k - 1))
    _same(d.chi2_ppf(0.5, k - 1), stats.chi2.ppf(0.5, k - 1))
    _same(d.chi2_isf(0.025, k), stats.chi2.isf(0.025, k))
    _same(d.f_sf(2.2, 3, k), stats.f.sf(2.2, 3, k))
    _same(d.t_ppf(0.975, k), stats.t.ppf(0.975, k))
    _same(d.chi2_sf(7, 2), stats.chi2.sf(7, 2))


def test_random_values_match_scipy_stats():
    rng = np.random.default_rng(21)
    x, df = rng.normal(0, 3, 2000), rng.uniform(0.2, 60, 2000)
    q = rng.uniform(size=2000)
    for ours, theirs in [(d.norm_cdf, stats.norm.cdf), (d.norm_sf, stats.norm.sf)]:
        _same(ours(x), theirs(x))
    for ours, theirs in [(d.norm_ppf, stats.norm.ppf), (d.norm_isf, stats.norm.isf)]:
        _same(ours(q), theirs(q))
    _same(d.t_sf(np.abs(x), df), stats.t.sf(np.abs(x), df))
    _same(d.t_ppf(q, df), stats.t.ppf(q, df))
    _same(d.chi2_sf(x**2, df), stats.chi2.sf(x**2, df))
    _same(d.chi2_cdf(x**2, df), stats.chi2.cdf(x**2, df))
    _same(d.chi2_ppf(q, df), stats.chi2.ppf(q, df))
    _same(d.chi2_isf(q, df), stats.chi2.isf(q, df))
    _same(d.f_sf(x**2, df, df[::-1]), stats.f.sf(x**2, df, df[::-1]))


def test_normal_density_matches_scipy_stats():
    rng = np.random.default_rng(23)
    for z, y, tau in zip(rng.normal(0, 4, 500), rng.normal(0, 2, 500), rng.uniform(1e-4, 3, 500)):
        _same(d.norm_pdf(float(z), float(y), float(tau)), stats.norm.pdf(float(z), float(y), float(tau)))
    z = np.array([-np.inf, -3.0, -0.0, 0.0, 1.5, np.inf, np.nan])
    _same(d.norm_pdf(z), stats.norm.pdf(z))
    _same(d.norm_pdf(z, 0.4, 2.5), stats.norm.pdf(z, 0.4, 2.5))
