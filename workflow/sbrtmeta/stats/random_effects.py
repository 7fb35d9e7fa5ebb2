"""Common-effect and random-effects models for one or many sets of effect sizes.

The estimators follow metafor's ``rma.uni`` (Viechtbauer, J Stat Softw 2010;36(3)):

* τ² estimators, all truncated at zero:
  DL, DerSimonian & Laird, Control Clin Trials 1986;7:177-188;
  HE, Hedges & Olkin 1985 (the unweighted method of moments);
  HS, Hunter & Schmidt 2004;
  SJ, Sidik & Jonkman, Stat Med 2005;24:3093-3107 (non-iterated);
  PM, Paule & Mandel, J Res Natl Bur Stand 1982;87:377-385;
  EB, Morris, J Am Stat Assoc 1983;78:47-55 (the same estimating equation as PM);
  ML and REML, Viechtbauer, J Educ Behav Stat 2005;30:261-293;
* Wald (z) or Knapp-Hartung (t with k-1 df; Knapp & Hartung, Stat Med
  2003;22:2693-2710) confidence intervals, the latter also with the ad hoc correction
  (``test = "adhoc"``: scale factor at least 1; Jackson et al., Stat Med 2017;36:3923-3934);
* the prediction interval of ``predict.rma`` (Riley et al., BMJ 2011;342:d549), or on k - 1
  or k - 2 t df with the model-based standard error (``pi_df``, :func:`sbrtmeta.stats.inference.prediction_df`);
* Cochran's Q, I² and H² (Higgins & Thompson, Stat Med 2002;21:1539-1558), and the
  Q-profile confidence interval for τ² of ``confint.rma`` (Viechtbauer, Stat Med
  2007;26:37-52).

Every estimator works on a batch: ``Y`` and ``V`` of shape (m, k) hold m independent
meta-analyses of k studies each (NaN pads shorter ones), so a sensitivity grid is
one vectorized call and one fit of 10^6 studies costs O(k) memory and time. The
iterative estimators (PM, EB, ML, REML, Q-profile) solve their estimating equation
to machine precision with a bracketed Newton/Fisher-scoring iteration that falls
back to bisection, so they agree with metafor once metafor has converged
(``control = list(threshold = 1e-12)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbrtmeta.stats.distributions import chi2_isf, chi2_ppf, chi2_sf
from sbrtmeta.stats.generalized_q import generalized_q_parts, tau2_genqm
from sbrtmeta.stats.inference import (
    KNHA_CI,
    KNHA_SCALED,
    WEIGHTED_TAU2,
    canonical_tau2,
    check_ci_method,
    check_level,
    check_tau2_method,
    critical_value,
    knha_scale,
    prediction_df,
)

_MAX_ITER = 500
_MAX_MAGNITUDE = 1e50


@dataclass(frozen=True)
class RandomEffectsResult:
    """A fitted model, on the scale of the effect sizes.

    Attributes
    ----------
    estimate, se : pooled estimate and its standard error.
    ci_low, ci_high : confidence interval of the estimate.
    pi_low, pi_high : prediction interval for a new study's true effect (NaN for
        the common-effect model, as ``predict.rma`` gives none).
    pi_se, pi_df : its standard error ``√(se² + τ²)`` and t df (None: z), after ``pi_df``.
    tau2 : between-study variance (0 for the common-effect model).
    tau2_ci_low, tau2_ci_high : Q-profile confidence interval of τ² (NaN for FE).
    q, q_df, q_p : Cochran's Q for heterogeneity, its df and p-value.
    i2, h2 : I² (in %) and H², as metafor reports them.
    k : number of studies.
    tau2_method, ci_method : what was used (see ``inference.TAU2_METHODS``, ``inference.KNHA_CI``).
    df : degrees of freedom of the t distribution (None for z).
    weights : relative weights of the studies, in % (sum to 100).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    k: int
    tau2_method: str
    ci_method: str
    df: int | None
    weights: np.ndarray
    tau2_ci_low: float = float("nan")
    tau2_ci_high: float = float("nan")
    pi_se: float = float("nan")
    pi_df: float | None = None

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the pooled estimate at ``level`` (z, or t on ``df``)."""
        crit = critical_value(check_level(level), self.df)
        return self.estimate - crit * self.se, self.estimate + crit * self.se


@dataclass(frozen=True)
class BatchResult:
    """Fits of m independent meta-analyses: every field is an array of length m,
    with the meaning it has in :class:`RandomEffectsResult`."""

    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    tau2: np.ndarray
    q: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    k: np.ndarray
    tau2_method: str
    ci_method: str


# --- input checks ----------------------------------------------------------------------


def _check_magnitudes(y_min, y_max, v_min, v_max):
    """The checks of :func:`_as_batch` from the extremes of y and v (NaN and inf propagate)."""
    if not np.all(np.isfinite([y_min, y_max, v_min, v_max])):
        raise ValueError("effect sizes and variances must be finite (found NaN or inf)")
    if v_min <= 0:
        raise ValueError("sampling variances must be > 0")
    if max(abs(y_min), abs(y_max)) > _MAX_MAGNITUDE or v_max > _MAX_MAGNITUDE or v_min < 1.0 / _MAX_MAGNITUDE:
        raise ValueError(_MAGNITUDE_MESSAGE)


_MAGNITUDE_MESSAGE = (
    f"effect sizes must be within ±{_MAX_MAGNITUDE:g} and variances within "
    f"[{1 / _MAX_MAGNITUDE:g}, {_MAX_MAGNITUDE:g}] (double precision overflows beyond)"
)


def _as_batch(y, v):
    """Arrays of shape (m, k) with a mask of the studies present (NaN in y pads)."""
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    if y.shape != v.shape or y.ndim not in (1, 2):
        raise ValueError("y and v must be arrays of one shape, (k,) or (m, k)")
    if y.ndim == 1:
        y, v = y[None, :], v[None, :]
    if y.shape[1] == 0:
        raise ValueError("no studies to pool (k = 0)")
    if not np.isnan(y.min()):  # every study present: four reductions check everything (speed at k = 10^6)
        _check_magnitudes(y.min(), y.max(), v.min(), v.max())
        return y, v, None, np.full(y.shape[0], y.shape[1])
    present = ~np.isnan(y)
    if np.any(np.isnan(v[present])) or not np.all(np.isfinite(y[present])) or not np.all(np.isfinite(v[present])):
        raise ValueError("effect sizes and variances must be finite (found NaN or inf)")
    if np.any(v[present] <= 0):
        raise ValueError("sampling variances must be > 0")
    # τ² and the weights enter squared and cubed: beyond these magnitudes double precision
    # overflows and the fit would come back as NaN or inf instead of an error
    if (
        np.any(np.abs(y[present]) > _MAX_MAGNITUDE)
        or np.any(v[present] > _MAX_MAGNITUDE)
        or np.any(v[present] < 1.0 / _MAX_MAGNITUDE)
    ):
        raise ValueError(_MAGNITUDE_MESSAGE)
    k = present.sum(axis=1)
    if np.any(k == 0):
        raise ValueError("no studies to pool (k = 0) in at least one meta-analysis")
    if present.all():
        return y, v, None, k
    y = np.where(present, y, 0.0)
    v = np.where(present, v, 1.0)
    return y, v, present, k


# --- weighted moments -------------------------------------------------------------------


def _masked(mask, a, fill):
    """``a`` with absent studies set to ``fill`` (``mask`` None: every study present)."""
    return a if mask is None else np.where(mask, a, fill)


def _rows(mask, rows):
    return None if mask is None else mask[rows]


def _take(a, rows):
    """Rows ``rows`` (integer indices or a boolean mask) of ``a``; ``a`` itself when they
    are all of its rows in order, so a single fit at k = 10^6 copies nothing."""
    if rows.dtype == bool:
        return a if rows.all() else a[rows]
    return a if len(rows) == len(a) else a[rows]


def _dot(a, b):
    """Row-wise dot products of two (m, k) arrays."""
    return np.einsum("ij,ij->i", a, b)


class _Moments:
    """Weighted quantities at a given τ² for a batch (rows are meta-analyses)."""

    def __init__(self, y, v, mask, tau2):
        # in place where a temporary would be dropped anyway: the same numbers, fewer passes
        w = v + tau2[:, None]
        np.divide(1.0, w, out=w)
        if mask is not None:
            w = np.where(mask, w, 0.0)
        self.w = w
        self.sw = w.sum(axis=1)
        self.mu = _dot(w, y) / self.sw
        r = y - self.mu[:, None]
        self.r = r if mask is None else np.where(mask, r, 0.0)
        self.wr = w * self.r
        self.q = _dot(self.wr, self.r)  # generalized Q
        self._w2 = None

    @property
    def w2(self):
        """Σw², computed when asked for (PM's iteration does not need it)."""
        if self._w2 is None:
            self._w2 = _dot(self.w, self.w)
        return self._w2


def _score(method, mom, k, target=None, slope=True):
    """Estimating equation f(τ²), positive below the root, and -f'(τ²).

    With w = 1/(v + τ²) and r = y - μ̂(τ²):
    REML: f = Σw²r² - tr(P), P the projection of the GLS fit;
    ML:   f = Σw²r² - Σw;
    PM/EB and the Q-profile: f = Σwr² - target.
    The derivatives are exact, so the Newton steps converge quadratically.
    """
    w, wr = mom.w, mom.wr
    w2r2 = _dot(wr, wr)
    if method == "PM":
        return mom.q - target, w2r2
    tr_p = mom.sw - mom.w2 / mom.sw
    f = w2r2 - (tr_p if method == "REML" else mom.sw)
    if not slope:
        return f, None
    w3r2 = np.einsum("ij,ij,ij->i", wr, wr, w)
    w2r = _dot(w, wr)
    common = 2.0 * w3r2 - 2.0 * w2r**2 / mom.sw
    if method == "REML":
        w3 = np.einsum("ij,ij,ij->i", w, w, w)
        tr_pp = mom.w2 - 2.0 * w3 / mom.sw + mom.w2**2 / mom.sw**2
        return f, common - tr_pp
    return f, common - mom.w2


def _split(lo, hi):
    """Bisection point, geometric once the bracket is away from 0 (τ² spans decades)."""
    return np.where(lo > 0, np.sqrt(lo * hi), hi / 8.0)


def _refine(method, y, v, mask, k, target, lo, hi, t0=None, strict=False):
    """Root of the estimating equation inside [lo, hi] (f(lo) > 0 > f(hi)), row-wise,
    by Newton steps from ``t0`` that fall back to bisection outside the bracket.
    Converged rows leave the working set, so a few slow rows cost little. A row still
    moving after ``_MAX_ITER`` steps keeps its last value, or raises with ``strict``."""
    t = _split(lo, hi) if t0 is None else np.where((t0 > lo) & (t0 < hi), t0, _split(lo, hi))
    out = t.copy()
    idx = np.arange(len(t))
    eps = 4 * np.finfo(float).eps
    for _ in range(_MAX_ITER):
        tg = None if target is None else target[idx]
        f, scale = _score(method, _Moments(_take(y, idx), _take(v, idx), _rows(mask, idx), t), k[idx], tg)
        lo = np.where(f > 0, t, lo)
        hi = np.where(f > 0, hi, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = t + f / scale
        bad = ~np.isfinite(new) | (new <= lo) | (new >= hi)
        new = np.where(bad, _split(lo, hi), new)
        done = (np.abs(new - t) <= eps * np.maximum(t, 1e-300)) | (f == 0) | (hi - lo <= eps * np.maximum(hi, 1e-300))
        t = np.where(f == 0, t, new)
        out[idx] = t
        keep = ~done
        if not keep.any():
            break
        idx, t, lo, hi = idx[keep], t[keep], lo[keep], hi[keep]
    else:
        if strict:
            raise RuntimeError(f"tau2: {len(idx)} of {len(out)} rows not converged in {_MAX_ITER} steps")
    return out


def _upper_bracket(method, y, v, mask, k, target, above):
    """A τ² above ``above`` for every row where the estimating equation is negative."""
    if mask is None:
        spread = y.max(axis=1) - y.min(axis=1)
    else:
        spread = np.nanmax(_masked(mask, y, np.nan), axis=1) - np.nanmin(_masked(mask, y, np.nan), axis=1)
    hi = np.maximum(np.maximum(spread**2 / 4.0, 2.0 * above), 1e-8)
    for _ in range(200):
        f_hi, _ = _score(method, _Moments(y, v, mask, hi), k, target)
        if not (f_hi > 0).any():
            return hi
        hi = np.where(f_hi > 0, hi * 4.0, hi)
    raise RuntimeError("tau2: no upper bracket found (effect sizes too spread)")


def _loglik(method, y, v, mask, tau2, mom=None):
    """(Restricted) log-likelihood up to a constant, for choosing between local maxima."""
    mom = _Moments(y, v, mask, tau2) if mom is None else mom
    logv = np.log(v + tau2[:, None])
    ll = -0.5 * (_masked(mask, logv, 0).sum(axis=1) + mom.q)
    return ll - 0.5 * np.log(mom.sw) if method == "REML" else ll


# This solver is meta-regression's (meta_regression._tau2_likelihood) with X = 1, kept
# separate for speed: it works on a batch of m analyses at once and costs O(k) per step
# with no QR: `make bench` shows a batch of 10^4 analyses in ~0.03 s and one fit of 10^6
# studies in ~0.03 s (PM), where the meta-regression solver loops per analysis with a QR per step.
def _solve(method, y, v, mask, k, target=None, start=None, mom0=None, strict=False):
    """τ² ≥ 0 solving the estimating equation of ``method`` for every row.

    For PM/EB and the Q-profile the generalized Q decreases in τ², so the root is
    unique. ML and REML follow metafor: the search starts from ``start`` (metafor
    starts from the HE estimate), a bracket around the nearest root is found by
    halving or doubling, the root is refined by safeguarded Newton steps, and a τ²
    of 0 is taken instead when its likelihood is higher (metafor's ``ll0check``).
    ``mom0`` are the moments at τ² = 0 when the caller has them already; ``strict``
    raises where the iteration stops at its cap instead of converging.
    """
    m = y.shape[0]
    tau2 = np.zeros(m)
    live = k > 1
    if not live.any():
        return tau2
    if target is not None:
        target = np.broadcast_to(np.asarray(target, dtype=float), (m,))[live]
    if mom0 is None or not live.all():
        y, v, mask, k = _take(y, live), _take(v, live), _rows(mask, live), k[live]
        mom0 = _Moments(y, v, mask, np.zeros(len(k)))
    n = len(k)
    zeros = np.zeros(n)
    f0, _ = _score(method, mom0, k, target, slope=False)
    if method == "PM":
        lo = zeros
        start = zeros if start is None else np.maximum(start[live], 0.0)
    else:
        start = np.maximum(start[live], 0.0) if start is not None else zeros
        f_start, _ = _score(method, _Moments(y, v, mask, start), k, slope=False)
        # look below a start where f < 0 for a point where f > 0
        lo = np.where(f_start > 0, start, 0.0)
        idx = np.nonzero((f_start <= 0) & (start > 0) & (f0 <= 0))[0]
        probe = start[idx]
        for _ in range(40):  # down to 1e-12 of the start
            if not len(idx):
                break
            probe = probe / 2.0
            fp, _ = _score(method, _Moments(_take(y, idx), _take(v, idx), _rows(mask, idx), probe), k[idx], slope=False)
            found = fp > 0
            lo[idx[found]] = probe[found]
            idx, probe = idx[~found], probe[~found]
    has_root = (f0 > 0) | (lo > 0)
    out = np.zeros(n)
    if has_root.any():
        r = has_root
        tg = None if target is None else target[r]
        base = np.where(lo[r] > 0, lo[r], 0.0)
        mr = _rows(mask, r)
        yr, vr = _take(y, r), _take(v, r)
        hi = _upper_bracket(method, yr, vr, mr, k[r], tg, np.maximum(base, start[r]))
        out[r] = _refine(method, yr, vr, mr, k[r], tg, base, hi, start[r], strict)
    check = has_root & (f0 <= 0)  # 0 is a local maximum too: keep the better of the two
    if method in ("REML", "ML") and check.any():
        better0 = _loglik(method, y, v, mask, zeros, mom0) > _loglik(method, y, v, mask, out)
        out = np.where(better0 & check, 0.0, out)
    tau2[live] = out
    return tau2


# --- τ² estimators (batch) ---------------------------------------------------------------


def tau2_batch(y, v, method: str = "REML", strict: bool = False, weights=None) -> np.ndarray:
    """τ² for each row of ``y``/``v`` (shape (m, k), NaN in ``y`` for absent studies).
    ``strict=True`` raises RuntimeError if an iterative estimator stops at its step cap
    instead of converging (by default the row keeps its last value; results are the same).
    ``weights`` (same shape, or (k,) for every row) are the fixed weights GENQ and GENQM
    need (:mod:`sbrtmeta.stats.generalized_q`); the other estimators ignore them."""
    y, v, mask, k = _as_batch(y, v)
    return _tau2(y, v, mask, k, method, strict=strict, weights=_as_weights(weights, y, mask, method))


def _as_weights(weights, y, mask, method):
    """``weights`` as an (m, k) array of positive values where studies are present, or
    None when ``method`` needs none; ValueError when GENQ/GENQM has none."""
    if canonical_tau2(method) not in WEIGHTED_TAU2:
        return None
    if weights is None:
        raise ValueError(f"tau2_method {method!r} needs weights (metafor's rma(..., weights = ))")
    a = np.broadcast_to(np.asarray(weights, dtype=float), y.shape)
    present = np.ones(y.shape, dtype=bool) if mask is None else mask
    if not np.all(np.isfinite(a[present])) or np.any(a[present] <= 0):
        raise ValueError(f"tau2_method {method!r}: weights must be finite and > 0")
    return a


def _tau2_weighted(y, v, mask, k, method, weights):
    """GENQ for every row at once (closed form: absent studies get weight 0); GENQM one row at a time (its
    root finding integrates a weighted χ² distribution with each row's own eigenvalues)."""
    if method == "GENQ":
        present = np.ones(y.shape, dtype=bool) if mask is None else mask
        a, y0, v0 = (np.where(present, x, 0.0) for x in (weights, y, v))
        with np.errstate(invalid="ignore", divide="ignore"):
            q, tr_p, tr_pv = generalized_q_parts(y0, v0, a)
            return np.where(k > 1, np.maximum((q - tr_pv) / tr_p, 0.0), 0.0)
    out = np.zeros(y.shape[0])
    for i in range(y.shape[0]):
        keep = slice(None) if mask is None else mask[i]
        out[i] = tau2_genqm(y[i][keep], v[i][keep], weights[i][keep])
    return out


# the estimators whose estimating equation is Q(τ²) = k - 1 (Paule-Mandel's): metafor's
# DLIT and SJIT iterate to its root (rma.uni's comments say so for DLIT), EB by Fisher scoring
_PM_ROOT = ("PM", "EB", "DLIT", "SJIT")


def _tau2(y, v, mask, k, method, mom0=None, strict=False, weights=None):
    """τ² of every row by ``method``; ``mom0`` are the moments at τ² = 0 if known."""
    method = canonical_tau2(method)
    m = y.shape[0]
    if method == "FE":
        return np.zeros(m)
    if method in WEIGHTED_TAU2:
        return _tau2_weighted(y, v, mask, k, method, weights)
    if mom0 is None and method not in ("HE", "SJ"):
        mom0 = _Moments(y, v, mask, np.zeros(m))
    if method in ("REML", "ML"):
        return _solve(method, y, v, mask, k, start=_tau2(y, v, mask, k, "HE"), mom0=mom0, strict=strict)
    if method in _PM_ROOT or method == "PMM":
        # PMM: the median of χ²(k-1) as target, the median-unbiased Paule-Mandel estimator
        target = chi2_ppf(0.5, k - 1) if method == "PMM" else (k - 1).astype(float)
        start = _tau2(y, v, mask, k, "DL", mom0)
        return _solve("PM", y, v, mask, k, target=target, start=start, mom0=mom0, strict=strict)
    kk = np.maximum(k - 1, 1)
    if method == "DL":
        tau2 = (mom0.q - (k - 1)) / (mom0.sw - mom0.w2 / mom0.sw)
    elif method == "HS":
        tau2 = (mom0.q - k) / mom0.sw
    elif method == "HSk":
        tau2 = (k / kk * mom0.q - k) / mom0.sw
    elif method == "HE":
        ybar = _masked(mask, y, 0).sum(axis=1) / k
        rss = _masked(mask, (y - ybar[:, None]) ** 2, 0).sum(axis=1)
        tr_pv = _masked(mask, v, 0).sum(axis=1) * (1 - 1 / k)
        tau2 = (rss - tr_pv) / kk
    elif method == "SJ":
        ybar = _masked(mask, y, 0).sum(axis=1) / k
        tau0 = _masked(mask, (y - ybar[:, None]) ** 2, 0).sum(axis=1) / k
        mom = _Moments(y, v, mask, tau0)
        tau2 = tau0 * mom.q / kk
    else:
        check_tau2_method(method)
    return np.where(k > 1, np.maximum(tau2, 0.0), 0.0)


def tau2_reml(y, v) -> float:
    """REML estimate of τ², truncated at zero."""
    return float(tau2_batch(y, v, "REML")[0])


def tau2_dl(y, v) -> float:
    """DerSimonian-Laird estimate of τ², truncated at zero."""
    return float(tau2_batch(y, v, "DL")[0])


def _tau2_qprofile(y, v, mask, k, level, tau2, mom0):
    """Q-profile CI of τ² as ``confint.rma.uni`` (Viechtbauer 2007). As there, the
    search stops at ``max(100, 10 τ²)``: a bound beyond it is reported as that value."""
    alpha = 1.0 - level
    crit_u = chi2_isf(alpha / 2, k - 1)
    crit_l = chi2_ppf(alpha / 2, k - 1)
    q0 = mom0.q
    lo = _solve("PM", y, v, mask, k, target=crit_u, mom0=mom0)
    hi = _solve("PM", y, v, mask, k, target=crit_l, mom0=mom0)
    lo = np.where(q0 < crit_u, 0.0, lo)
    both0 = q0 < crit_l
    cap = np.maximum(100.0, 10.0 * tau2)
    return np.minimum(np.where(both0, 0.0, lo), cap), np.minimum(np.where(both0, 0.0, hi), cap)


# --- model fit ---------------------------------------------------------------------------


def _prediction(mom, se, tau2, k, ci_df, level, pi_df):
    """The prediction interval's standard error, t df (None: z) and critical value: the model's
    se and the CI's df (``"metafor"``), or the model-based se ``√(1/Σw)`` (not Knapp-Hartung's)
    with t on k - 1 or k - 2 df, as meta's ``method.predict = "V"`` / ``"HTS"``."""
    if pi_df == "metafor":
        df, base = ci_df, se
    else:
        df, base = prediction_df(pi_df, ci_df, k), np.sqrt(1.0 / mom.sw)
    crit = np.full_like(se, critical_value(level)) if df is None else critical_value(level, df)
    return np.sqrt(base**2 + tau2), df, crit


def _fit(y, v, mask, k, tau2_method, ci_method, level, strict=False, weights=None, pi_df="metafor"):
    check_tau2_method(tau2_method)
    check_ci_method(ci_method, KNHA_CI)
    check_level(level)
    if ci_method in KNHA_SCALED and np.any(k < 2):
        raise ValueError("Knapp-Hartung intervals need k >= 2 studies")
    weights = _as_weights(weights, y, mask, tau2_method)
    fe = _Moments(y, v, mask, np.zeros(y.shape[0]))  # shared by the τ² estimator and Q
    tau2 = _tau2(y, v, mask, k, tau2_method, fe, strict, weights)
    common = canonical_tau2(tau2_method) == "FE"
    mom = _Moments(y, v, mask, tau2)
    mu = mom.mu
    if ci_method == "knha":
        s2 = mom.q / (k - 1)
        se = np.sqrt(s2 / mom.sw)
        crit = critical_value(level, k - 1)
    elif ci_method == "adhoc":  # metafor's factor: 0 at RSS <= eps, then at least 1
        se = np.sqrt(knha_scale(mom.q, k - 1, "adhoc") / mom.sw)
        crit = critical_value(level, k - 1)
    else:
        se = np.sqrt(1.0 / mom.sw)
        crit = np.full_like(mu, critical_value(level))
    ci_df = (k - 1) if ci_method in KNHA_SCALED else None
    pi_se, pi_dfs, pi_crit = _prediction(mom, se, tau2, k, ci_df, level, pi_df)
    q = fe.q
    with np.errstate(divide="ignore", invalid="ignore"):
        q_p = np.where(k > 1, chi2_sf(q, k - 1), np.nan)
        if common:
            i2 = np.where((k > 1) & (q > 0), np.maximum(0.0, 100.0 * (q - (k - 1)) / q), 0.0)
            h2 = np.where(k > 1, q / (k - 1), 1.0)
        else:
            vt = (k - 1) / (fe.sw - fe.w2 / fe.sw)
            i2 = np.where(k > 1, 100.0 * tau2 / (vt + tau2), 0.0)
            h2 = np.where(k > 1, (vt + tau2) / vt, 1.0)
    nan = np.full_like(mu, np.nan)
    pi_lo = mu - pi_crit * pi_se if not common else nan
    pi_hi = mu + pi_crit * pi_se if not common else nan
    return tau2, mom, mu, se, crit, pi_lo, pi_hi, q, q_p, i2, h2, fe, (pi_se, pi_dfs)


def fit_random_effects(
    y,
    v,
    tau2_method: str = "REML",
    ci_method: str = "knha",
    level: float = 0.95,
    tau2_ci: bool = False,
    weights=None,
    pi_df: str = "metafor",
) -> RandomEffectsResult:
    """Fit a common-effect (``FE``) or random-effects model, as ``rma.uni``.

    ``ci_method="knha"`` gives Knapp-Hartung standard errors with t(k-1) intervals,
    as ``test="knha"`` in metafor, ``"adhoc"`` the same with the factor at least 1
    (``test="adhoc"``); ``"z"`` gives Wald intervals. The prediction
    interval uses the same critical value, as ``predict.rma`` does, unless ``pi_df`` is
    ``"k-1"`` or ``"k-2"`` (:func:`_prediction`). With
    ``tau2_ci=True`` the result also carries the Q-profile CI of τ², as
    ``confint.rma`` gives it (two more root searches, so it is off by default).
    ``weights`` are the fixed weights of GENQ and GENQM (e.g. sample sizes), used for τ² only.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError("y and v must be 1-d arrays of one length (use fit_random_effects_batch)")
    if y.size and np.isnan(y.min()):  # one reduction instead of a mask (speed at k = 10^6)
        raise ValueError("effect sizes and variances must be finite (found NaN or inf)")
    yb, vb, mask, k = _as_batch(y, v)
    tau2, mom, mu, se, crit, pi_lo, pi_hi, q, q_p, i2, h2, fe, (pi_se, pi_dfs) = _fit(
        yb, vb, mask, k, tau2_method, ci_method, level, weights=weights, pi_df=pi_df
    )
    if not tau2_ci or canonical_tau2(tau2_method) == "FE" or k[0] < 2:
        t_lo = t_hi = np.array([np.nan])
    else:
        t_lo, t_hi = _tau2_qprofile(yb, vb, mask, k, level, tau2, fe)
    kk = int(k[0])
    return RandomEffectsResult(
        estimate=float(mu[0]),
        se=float(se[0]),
        ci_low=float(mu[0] - crit[0] * se[0]),
        ci_high=float(mu[0] + crit[0] * se[0]),
        pi_low=float(pi_lo[0]),
        pi_high=float(pi_hi[0]),
        tau2=float(tau2[0]),
        q=float(q[0]),
        q_df=kk - 1,
        q_p=float(q_p[0]),
        i2=float(i2[0]),
        h2=float(h2[0]),
        k=kk,
        tau2_method=tau2_method,
        ci_method=ci_method,
        df=kk - 1 if ci_method in KNHA_SCALED else None,
        weights=100.0 * mom.w[0] / mom.sw[0],
        tau2_ci_low=float(t_lo[0]),
        tau2_ci_high=float(t_hi[0]),
        pi_se=float(pi_se[0]),
        pi_df=None if pi_dfs is None else float(np.ravel(pi_dfs)[0]),
    )


def fit_random_effects_batch(
    y, v, tau2_method: str = "REML", ci_method: str = "knha", level: float = 0.95, strict: bool = False, weights=None
) -> BatchResult:
    """Fit m independent meta-analyses at once: ``y``, ``v`` of shape (m, k), with
    NaN in ``y`` marking absent studies. Each row gives what
    :func:`fit_random_effects` gives for it. ``strict=True`` raises RuntimeError
    if the τ² iteration of any row stops at its step cap instead of converging
    (the tests use it to show the batch converges; results are otherwise the same).
    ``weights`` (shape (m, k) or (k,)) are GENQ's and GENQM's fixed weights."""
    yb, vb, mask, k = _as_batch(y, v)
    tau2, mom, mu, se, crit, pi_lo, pi_hi, q, q_p, i2, h2, _, _ = _fit(
        yb, vb, mask, k, tau2_method, ci_method, level, strict, weights
    )
    return BatchResult(
        estimate=mu,
        se=se,
        ci_low=mu - crit * se,
        ci_high=mu + crit * se,
        pi_low=pi_lo,
        pi_high=pi_hi,
        tau2=tau2,
        q=q,
        q_p=q_p,
        i2=i2,
        h2=h2,
        k=k,
        tau2_method=tau2_method,
        ci_method=ci_method,
    )
