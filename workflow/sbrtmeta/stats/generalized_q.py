"""The generalized Q-statistic estimators of τ², GENQ and GENQM (DerSimonian & Kacker,
Contemp Clin Trials 2007;28:105-114; Jackson, Turner, Rhodes & Viechtbauer, BMC Med Res
Methodol 2014;14:103), as metafor's ``rma.uni(..., weights = a, method = "GENQ")`` and
``method = "GENQM"`` compute them.

With fixed weights ``a`` (the pipeline passes the number of patients of each arm), the
generalized Q of an intercept-only model is ``Q_a = Σ a_i (y_i - ȳ_a)²``, ``ȳ_a`` the
a-weighted mean, and with ``P = A - a aᵀ / Σa``:

* GENQ, the method-of-moments estimator: ``τ² = (Q_a - tr(PV)) / tr(P)``, truncated at 0
  (``tr(P) = Σa - Σa²/Σa``, ``tr(PV) = Σa v - Σa² v / Σa``); with ``a = 1/v`` it is DL.
* GENQM, the median-unbiased estimator: the τ² at which ``Q_a`` is the median of its
  distribution, a weighted sum ``Σ λ_j χ²_1`` with λ the nonzero eigenvalues of
  ``S P S``, ``S = diag(√(v + τ²))``; 0 when ``Q_a`` lies below that median at τ² = 0.
  metafor takes the distribution from CompQuadForm's ``farebrother()``; here it comes from
  Imhof's inversion formula (Imhof, Biometrika 1961;48:419-426) integrated by
  ``scipy.integrate.quad`` (:func:`weighted_chi2_cdf`), and the root from ``scipy.optimize.brentq`` in [0, 100]
  (metafor's ``tau2.max``, beyond which it stops with an error, as here).

Only the estimate of τ² uses ``a``: the pooled estimate then has the inverse-variance
weights ``1/(v + τ²)`` of every other estimator, which equals
``rma(yi, vi, tau2 = <the GENQ τ²>)`` in metafor.
"""

from __future__ import annotations

import warnings

import numpy as np

from sbrtmeta.stats.distributions import chi2_cdf

GENQM_TAU2_MAX = 100.0  # metafor's control$tau2.max


def generalized_q_parts(y, v, a):
    """``(Q_a, tr(P), tr(PV))`` of one intercept-only model with weights ``a``; of each row for 2-d arrays
    (the batch of :func:`sbrtmeta.stats.random_effects.tau2_batch`: an absent study has weight 0)."""
    sa = a.sum(axis=-1)
    mean = (a * y).sum(axis=-1) / sa
    q = (a * (y - np.expand_dims(mean, -1)) ** 2).sum(axis=-1)
    tr_p = sa - (a * a).sum(axis=-1) / sa
    tr_pv = (a * v).sum(axis=-1) - (a * a * v).sum(axis=-1) / sa
    return q, tr_p, tr_pv


def tau2_genq(y, v, a) -> float:
    """GENQ estimate of τ² (method of moments with weights ``a``), truncated at 0."""
    if len(y) < 2:
        return 0.0
    q, tr_p, tr_pv = generalized_q_parts(y, v, a)
    return max(0.0, (q - tr_pv) / tr_p)


def _eigenvalues(v, a, tau2):
    """The k - 1 nonzero eigenvalues of ``S P S`` at ``tau2``."""
    s = np.sqrt(v + tau2)
    sa = s * a
    m = np.diag(a * s * s) - np.outer(sa, sa) / a.sum()
    lam = np.linalg.eigvalsh(m)[::-1]
    return lam[: len(v) - 1]


def weighted_chi2_cdf(x: float, lam) -> float:
    """P(Σ λ_j χ²_1 ≤ x) for positive weights ``lam`` (Imhof 1961); exact for one weight.

    Imhof's integrand is ``sin θ(u) / (u ρ(u))`` with ``θ = φ(u) - x u / 2``,
    ``φ = ½ Σ arctan(λ_j u)`` and ``ρ = Π (1 + λ_j² u²)^¼``; it decays as ``u^(-1-n/2)``
    for n weights, too slowly for a plain quadrature to infinity with few weights. It is
    integrated directly up to ``max(20 periods of x u / 2, 20 / min λ)`` (with breakpoints
    spaced geometrically from ``0.1 / max λ``); beyond, where φ
    is nearly constant, it is written as ``sin φ cos(xu/2) - cos φ sin(xu/2)`` over ``uρ``
    and integrated as two Fourier integrals (QUADPACK's QAWF).
    """
    from scipy import integrate  # here, not at the top: only GENQ and GENQM use it

    lam = np.asarray(lam, dtype=float)
    lam = lam[lam > 0]
    if x <= 0:
        return 0.0
    if lam.size == 1:
        return float(chi2_cdf(x / lam[0], 1))
    n = lam.size
    # λ_min χ²_n ≤ Q ≤ λ_max χ²_n: far in either tail the bound is the answer to 1e-15
    at_most = float(chi2_cdf(x / lam.min(), n))
    at_least = float(chi2_cdf(x / lam.max(), n))
    if at_most < 1e-15 or at_least > 1.0 - 1e-15:
        return at_most if at_most < 1e-15 else at_least
    omega = 0.5 * x

    def phi(u):
        return 0.5 * np.arctan(lam * u).sum()

    def urho(u):
        return u * np.exp(0.25 * np.log1p((lam * u) ** 2).sum())

    def integrand(u):
        return np.sin(phi(u) - omega * u) / urho(u) if u > 0 else 0.5 * lam.sum() - omega

    split = max(20 * np.pi / omega, 20.0 / lam.min())
    # breakpoints from the scale of the largest weight up: the integrand changes on 1/λ
    points = np.geomspace(0.1 / lam.max(), split, 40)[:-1]
    with warnings.catch_warnings():  # QUADPACK warns of roundoff near 1e-15; the tests check 1e-12
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        head, _ = integrate.quad(integrand, 0.0, split, points=points, limit=5000, epsabs=1e-15, epsrel=1e-13)
        cos_part, _ = integrate.quad(
            lambda u: np.sin(phi(u)) / urho(u), split, np.inf, weight="cos", wvar=omega, limlst=200, epsabs=1e-15
        )
        sin_part, _ = integrate.quad(
            lambda u: np.cos(phi(u)) / urho(u), split, np.inf, weight="sin", wvar=omega, limlst=200, epsabs=1e-15
        )
    total = head + cos_part - sin_part
    upper = 0.5 + total / np.pi
    return float(min(1.0, max(0.0, 1.0 - upper)))


def tau2_genqm(y, v, a) -> float:
    """GENQM estimate of τ² (median-unbiased generalized Q with weights ``a``)."""
    from scipy import optimize

    if len(y) < 2:
        return 0.0
    q, _, _ = generalized_q_parts(y, v, a)

    def below_median(tau2):
        return weighted_chi2_cdf(q, _eigenvalues(v, a, tau2)) - 0.5

    if below_median(0.0) <= 0:
        return 0.0
    if below_median(GENQM_TAU2_MAX) > 0:
        raise ValueError(
            f"GENQM: tau2 above {GENQM_TAU2_MAX:g} (metafor's tau2.max); choose another tau2_method for these data"
        )
    return float(optimize.brentq(below_median, 0.0, GENQM_TAU2_MAX, xtol=1e-14, rtol=1e-13, maxiter=500))
