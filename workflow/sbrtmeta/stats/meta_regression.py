"""Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods = ...)``.

The model is ``y_i = x_i'β + u_i + e_i`` with ``u_i ~ N(0, τ²)`` and
``e_i ~ N(0, v_i)`` (v_i known). It follows metafor's ``rma.uni``
(Viechtbauer, J Stat Softw 2010;36(3):1-48):

* τ² by REML or ML (Viechtbauer, J Educ Behav Stat 2005;30:261-293;
  Raudenbush, in *The Handbook of Research Synthesis and Meta-Analysis*, 2009),
  or by the DerSimonian-Laird moment estimator generalised to meta-regression
  (Raudenbush 2009; DerSimonian & Laird, Control Clin Trials 1986;7:177-188),
  truncated at zero; ``"FE"`` is the fixed-effects (τ² = 0) model;
* Wald (z) tests, or the Knapp-Hartung method (Knapp & Hartung, Stat Med
  2003;22:2693-2710): the covariance matrix scaled by
  ``s² = Σ w_i (y_i - x_i'b)² / (k - p)`` (not truncated at 1, as metafor's
  ``test="knha"``), t tests with k - p df and an F test for the moderators;
* the omnibus test of moderators ``QM``, the test for residual heterogeneity
  ``QE`` with residual I² and H² (Higgins & Thompson, Stat Med 2002;21:1539-1558,
  with the typical within-study variance of a model with moderators), and the
  pseudo R² of Raudenbush (2009): the proportional reduction of τ² against the
  model without moderators;
* predictions with confidence and prediction intervals, as ``predict.rma``;
* the test for subgroup differences as the QM test of a mixed-effects model with
  one common τ² (:func:`subgroup_test`);
* the meta-regression that Egger's regression test for funnel-plot asymmetry fits
  (:func:`sbrtmeta.stats.small_study.regtest`, as metafor's ``regtest``).

ML and REML are solved to full precision as the root of the score of the
profiled (restricted) log-likelihood in τ², found by Brent's method within a
bracket over τ² >= 0, with a bounded one-dimensional maximisation as the fallback.
Every step costs O(k p²): nothing k × k is ever formed.

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.stats.distributions import chi2_sf
from sbrtmeta.stats.inference import (
    INTERCEPT_NAME,
    KNHA_CI,
    KNHA_SCALED,
    REGRESSION_TAU2,
    Coefficients,
    FixedEffects,
    Heterogeneity,
    Prediction,
    check_ci_method,
    check_effect_sizes,
    check_level,
    check_tau2_method,
    knha_scale,
    predict_rows,
)
from sbrtmeta.stats.model_comparison import gls_loglik

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MetaRegressionResult(Coefficients):
    """A fitted meta-regression, on the scale of the effect sizes, as metafor's
    ``rma(yi, vi, mods, method, test)`` (Viechtbauer, J Stat Softw 2010;36(3):1-48).

    Attributes
    ----------
    fixed : the coefficients (:class:`~sbrtmeta.stats.inference.FixedEffects`): names
        (the columns of X), estimates β, their covariance (Knapp-Hartung scaled with
        ``ci_method="knha"``), t df k - p under Knapp-Hartung (None for ``"z"``), the
        level, and the omnibus test QM of the coefficients ``btt`` (by default all but
        the intercept): χ² with ``QM_df = (m, None)``, or with ``"knha"`` F on (m, k - p).
        Its fields are forwarded: ``coef``, ``se``, ``zval`` (``tval``), ``pval``,
        ``ci_low``, ``ci_high``, ``vcov``, ``QM``, ``QM_df``, ``QM_p``, ``btt``, ``df``,
        ``level``, ``coef_names``, ``p``.
    heterogeneity : the test for residual heterogeneity (metafor's QE, Σ (y - Xb)²/v of
        the fixed-effects fit, with k - p df) and residual I² (in %) and H², as metafor:
        ``100 τ²/(ṽ + τ²)`` and ``τ²/ṽ + 1`` with ṽ = (k - p)/tr(P); for ``"FE"`` from q.
        Forwarded as ``q``, ``q_df``, ``q_p``, ``i2``, ``h2``.
    loglik : the log-likelihood at τ², restricted for REML, on metafor's scale
        (``logLik(res)``: the ML one for ML, DL and FE).
    tau2 : residual between-study variance (0 for ``"FE"``).
    se_tau2 : its standard error as metafor reports it (None for ``"FE"``).
    R2 : pseudo R² in % (None for the intercept alone, or a design whose columns do
        not span a constant; a model without an intercept column but with a full set
        of dummies has one, as in metafor 5.0-1 and later: NEWS.md "rma() now calculates
        R^2 as long as a standard random-effects model is nested within the fitted
        mixed-effects model"; 3.8-1 gave none). For REML/ML/DL ``max(0, 100 (τ²₀ - τ²)/τ²₀)``, τ²₀ from the
        same estimator without moderators (0 when τ²₀ = 0); for ``"FE"`` the
        adjusted R² of the weighted least-squares fit, as metafor.
    k : number of studies.
    s2w : the Knapp-Hartung scale factor s² (1.0 for ``"z"``).
    tau2_method, ci_method : what was used.
    intercept : whether X has a column of ones.
    fitted, residuals : X b and y - X b.
    weights : the model weights 1 / (v + τ²).
    """

    fixed: FixedEffects
    heterogeneity: Heterogeneity
    loglik: float
    tau2: float
    se_tau2: float | None
    R2: float | None
    k: int
    s2w: float
    tau2_method: str
    ci_method: str
    intercept: bool
    fitted: np.ndarray
    residuals: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class SubgroupTestResult:
    """Test for subgroup differences as the QM test of ``rma(yi, vi, mods = ~ factor(group))``.

    This is a mixed-effects meta-regression on the subgroup dummies with one
    τ² common to all subgroups; it is *not* the test of RevMan or of the meta
    package's ``subgroup`` option, which pool each subgroup with its own τ² and
    compare the subgroup means with a Q statistic.

    Attributes
    ----------
    QM, QM_df, QM_p : the test (χ² with G - 1 df, or F with (G - 1, k - G) df
        under Knapp-Hartung).
    levels : the subgroups, the reference (first) level first.
    tau2 : the common residual τ².
    q, q_df, q_p : residual heterogeneity within subgroups (metafor's QE).
    fit : the fitted :class:`MetaRegressionResult`.
    """

    QM: float
    QM_df: tuple
    QM_p: float
    levels: tuple
    tau2: float
    q: float
    q_df: int
    q_p: float
    fit: MetaRegressionResult


# --------------------------------------------------------------------------- design


def _is_categorical(series: pd.Series) -> bool:
    return (
        isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(series)
        or pd.api.types.is_string_dtype(series)
        or pd.api.types.is_bool_dtype(series)
    )


def _levels_of(series: pd.Series, name: str) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    values = list(pd.unique(series))
    if pd.api.types.is_bool_dtype(series):
        return [x for x in (False, True) if x in values]
    try:
        return sorted(values)
    except TypeError:
        raise ValueError(
            f"moderator {name!r} mixes value types that cannot be sorted into levels; "
            "make it a pandas Categorical with the level order you want"
        ) from None


def _level_label(level) -> str:
    if isinstance(level, (bool, np.bool_)):
        return "TRUE" if level else "FALSE"  # R's name for logical dummies
    return str(level)


def design_matrix(moderators: pd.DataFrame, intercept: bool = True, levels: Mapping[str, Sequence] | None = None):
    """Model matrix for the moderators, as R's ``model.matrix(~ a + b + ..., data)``.

    Numeric columns enter as they are. Categorical columns (object, string,
    category or bool dtype) enter as treatment dummies named ``<column><level>``,
    the first level being the reference: the categories' order for a pandas
    Categorical, otherwise the sorted values (code-point order, as R sorts
    factor levels in the C locale); only levels that occur in the data are used.
    Without an intercept the first categorical column is coded with one
    indicator per level, as R does. The intercept column is named ``"intrcpt"``,
    as in metafor.

    ``levels`` fixes the levels of some categorical columns (first = reference),
    e.g. to code new moderator values for :func:`predict_meta_regression`
    exactly as the data the model was fitted to; values outside them are refused.

    Returns ``(X, names)``: a float array (k × p) and the list of column names.
    """
    if not isinstance(moderators, pd.DataFrame):
        raise ValueError("moderators must be a pandas DataFrame (one column per moderator)")
    levels = dict(levels or {})
    unknown = set(levels) - set(moderators.columns)
    if unknown:
        raise ValueError(f"levels given for columns the moderators do not have: {sorted(unknown)}")
    k = len(moderators)
    if k == 0:
        raise ValueError("no studies: the moderator table has no rows")
    columns, names = [], []
    if intercept:
        columns.append(np.ones(k))
        names.append(INTERCEPT_NAME)
    full_coding = not intercept
    for name in moderators.columns:
        col = moderators[name]
        if col.isna().any():
            raise ValueError(
                f"moderator {name!r} has missing values (rows "
                f"{list(np.flatnonzero(col.isna().to_numpy())[:5])}); "
                "drop those studies or fill the values before fitting"
            )
        if name in levels or _is_categorical(col):
            lv = list(levels[name]) if name in levels else _levels_of(col, name)
            if len(set(lv)) != len(lv):
                raise ValueError(f"levels of {name!r} repeat a level: {lv}")
            outside = set(col.unique()) - set(lv)
            if outside:
                raise ValueError(f"moderator {name!r} has values outside its levels {lv}: {sorted(map(str, outside))}")
            if len(lv) < 2 and not full_coding:
                raise ValueError(
                    f"categorical moderator {name!r} has a single level {lv}: "
                    "it cannot be contrasted (as R's model.matrix refuses)"
                )
            values = col.to_numpy()
            used = lv if full_coding else lv[1:]
            for level in used:
                columns.append((values == level).astype(float))
                names.append(f"{name}{_level_label(level)}")
            full_coding = False
        elif pd.api.types.is_numeric_dtype(col):
            x = col.to_numpy(dtype=float)
            if not np.all(np.isfinite(x)):
                raise ValueError(f"moderator {name!r} has values that are not finite")
            columns.append(x)
            names.append(str(name))
        else:
            raise ValueError(f"moderator {name!r} has dtype {col.dtype}, neither numeric nor categorical")
    if not columns:
        raise ValueError("the design has no columns: give moderators or an intercept")
    return np.column_stack(columns), names


# --------------------------------------------------------------------------- linear algebra


class _WLS:
    """Weighted least squares of y on X with weights w, via the QR of √w X.

    Everything metafor's rma.uni forms with k × k matrices (P = W - W X (X'WX)⁻¹ X'W
    and its traces) is computed here from k-vectors and p × p matrices.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, w: np.ndarray):
        sw = np.sqrt(w)
        Q, R = np.linalg.qr(X * sw[:, None])
        self.w, self.Q, self.R = w, Q, R
        Rinv = np.linalg.inv(R)  # p × p upper triangular
        self.beta = Rinv @ (Q.T @ (y * sw))
        self.resid = y - X @ self.beta
        self.h = np.einsum("ij,ij->i", Q, Q)  # leverages of the weighted fit
        self.cov = Rinv @ Rinv.T  # (X'WX)^-1

    @property
    def rss(self) -> float:
        """Σ w (y - Xb)² = y'P y."""
        return float(np.sum(self.w * self.resid**2))

    def yPPy(self) -> float:
        """y'P P y = Σ w² (y - Xb)²."""
        return float(np.sum((self.w * self.resid) ** 2))

    def trP(self) -> float:
        """tr(P) = Σ w (1 - h)."""
        return float(np.sum(self.w * (1.0 - self.h)))

    def trPP(self) -> float:
        """tr(P P) = Σ w² - 2 Σ w² h + ‖Q'WQ‖²_F."""
        M = self.Q.T @ (self.w[:, None] * self.Q)
        return float(np.sum(self.w**2) - 2.0 * np.sum(self.w**2 * self.h) + np.sum(M * M))

    def logdet_XWX(self) -> float:
        return float(2.0 * np.sum(np.log(np.abs(np.diag(self.R)))))


def _loglik(tau2: float, y, v, X, reml: bool) -> float:
    """Profiled (restricted) log-likelihood in τ², up to a constant."""
    fit = _WLS(X, y, 1.0 / (v + tau2))
    ll = -0.5 * (np.sum(np.log(v + tau2)) + fit.rss)
    if reml:
        ll -= 0.5 * fit.logdet_XWX()
    return float(ll)


def _score(tau2: float, y, v, X, reml: bool) -> float:
    """Twice the derivative of the (restricted) log-likelihood in τ²:
    y'PPy - tr(P) for REML, y'PPy - Σw for ML."""
    fit = _WLS(X, y, 1.0 / (v + tau2))
    return fit.yPPy() - (fit.trP() if reml else float(np.sum(fit.w)))


def _tau2_likelihood(y, v, X, reml: bool) -> float:
    """ML or REML estimate of τ² >= 0: the highest of the local maxima of the
    profiled likelihood (roots of the score where it falls through zero, or the
    boundary τ² = 0)."""
    from scipy import optimize  # here, not at the top: a job fitting no ML/REML regression skips its import

    k, p = X.shape
    ols = _WLS(X, y, np.ones(k))
    hi = max(ols.rss / max(k - p, 1), float(np.mean(v)), 1e-8)
    limit = 1e12 * max(1.0, hi)
    while _score(hi, y, v, X, reml) > 0.0:
        hi *= 2.0
        if hi > limit:
            res = optimize.minimize_scalar(
                lambda t: -_loglik(t, y, v, X, reml),
                bounds=(0.0, limit),
                method="bounded",
                options={"xatol": 1e-12 * limit},
            )
            return float(max(0.0, res.x))
    grid = np.concatenate([[0.0], np.geomspace(hi * 1e-10, hi, 48)])
    scores = np.array([_score(t, y, v, X, reml) for t in grid])
    candidates = [0.0] if scores[0] <= 0.0 else []
    for a, b, sa, sb in zip(grid[:-1], grid[1:], scores[:-1], scores[1:]):
        if sa > 0.0 and sb <= 0.0:
            if sb == 0.0:
                candidates.append(float(b))
                continue
            try:
                candidates.append(
                    float(
                        optimize.brentq(
                            _score, a, b, args=(y, v, X, reml), xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500
                        )
                    )
                )
            except (RuntimeError, ValueError):
                res = optimize.minimize_scalar(
                    lambda t: -_loglik(t, y, v, X, reml),
                    bounds=(a, b),
                    method="bounded",
                    options={"xatol": 1e-14 * max(b, 1e-300)},
                )
                candidates.append(float(res.x))
    if not candidates:  # cannot happen with a negative score at hi; kept as a safe fallback
        res = optimize.minimize_scalar(
            lambda t: -_loglik(t, y, v, X, reml), bounds=(0.0, hi), method="bounded", options={"xatol": 1e-14 * hi}
        )
        candidates.append(float(max(0.0, res.x)))
    lls = [_loglik(t, y, v, X, reml) for t in candidates]
    return candidates[int(np.argmax(lls))]


def _tau2_dl(y, v, X) -> float:
    """DerSimonian-Laird estimator for meta-regression: (QE - (k - p)) / tr(P), ≥ 0."""
    k, p = X.shape
    fe = _WLS(X, y, 1.0 / v)
    return float(max(0.0, (fe.rss - (k - p)) / fe.trP()))


def estimate_regression_tau2(y, v, X, method: str) -> float:
    """τ² of the meta-regression of ``y`` on ``X`` by ``method`` (REML, ML, DL or FE), ≥ 0."""
    if method == "FE":
        return 0.0
    if method == "DL":
        return _tau2_dl(y, v, X)
    return _tau2_likelihood(y, v, X, reml=(method == "REML"))


# --------------------------------------------------------------------------- checks


def _check_X(X, k: int, coef_names):
    if isinstance(X, pd.DataFrame):
        if coef_names is None:
            coef_names = [str(c) for c in X.columns]
        X = X.to_numpy(dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != k:
        raise ValueError(f"X must be a k × p matrix with k = {k} rows (got shape {X.shape})")
    p = X.shape[1]
    if p == 0:
        raise ValueError("X has no columns")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (found NaN or inf)")
    if k <= p:
        raise ValueError(f"k = {k} studies cannot fit p = {p} coefficients: a meta-regression needs k > p")
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise ValueError(
            f"X is rank-deficient (rank {rank} < {p} columns): a moderator is constant, "
            "duplicated or a combination of others; drop the redundant columns"
        )
    if coef_names is None:
        coef_names = [f"X{j}" for j in range(p)]
    coef_names = tuple(str(c) for c in coef_names)
    if len(coef_names) != p:
        raise ValueError(f"{len(coef_names)} coefficient names for {p} columns of X")
    return X, coef_names


def _btt_indices(btt, p: int, intercept_cols: list, names: tuple) -> tuple:
    if btt is None:
        out = [j for j in range(p) if j not in intercept_cols] if p > 1 else [0]
        return tuple(out)
    if isinstance(btt, (str, int, np.integer)):
        btt = [btt]
    out = []
    for b in btt:
        if isinstance(b, str):
            if b not in names:
                raise ValueError(f"btt names {b!r}, which is not a coefficient ({list(names)})")
            out.append(names.index(b))
        else:
            j = int(b)
            if not 0 <= j < p:
                raise ValueError(f"btt index {j} is outside 0..{p - 1}")
            out.append(j)
    if not out:
        raise ValueError("btt selects no coefficient")
    return tuple(sorted(set(out)))


# --------------------------------------------------------------------------- fitting


def _heterogeneity(fit: _WLS, fe: _WLS, tau2: float, tau2_method: str, k: int, p: int):
    """Residual Q (metafor's QE) of the fixed-effects fit ``fe``, its p-value, I², H² and
    the standard error of τ² (None for FE), as ``rma.uni`` reports them."""
    q = max(0.0, fe.rss)
    q_p = float(chi2_sf(q, k - p))
    trP_fe = fe.trP()
    if tau2_method == "FE":
        i2 = max(0.0, 100.0 * (q - (k - p)) / q) if q > 0 else 0.0
        return q, q_p, i2, q / (k - p), None
    vt = (k - p) / trP_fe
    i2 = 100.0 * tau2 / (vt + tau2)
    h2 = tau2 / vt + 1.0
    if tau2_method == "REML":
        se_tau2 = float(np.sqrt(2.0 / fit.trPP()))
    elif tau2_method == "ML":
        se_tau2 = float(np.sqrt(2.0 / np.sum(fit.w**2)))
    else:  # DL, from the fixed-effects P
        se_tau2 = float(np.sqrt((2 * (k - p) + 4 * tau2 * trP_fe + 2 * tau2**2 * fe.trPP()) / trP_fe**2))
    return q, q_p, i2, h2, se_tau2


def _pseudo_r2(y, v, fe: _WLS, tau2: float, tau2_method: str, k: int, p: int) -> float:
    """metafor's pseudo R² (in %): the share of τ² the moderators account for, or for
    FE the adjusted R² of the weighted least-squares fit."""
    if tau2_method != "FE":
        tau2_0 = estimate_regression_tau2(y, v, np.ones((k, 1)), tau2_method)
        return 0.0 if tau2_0 == 0.0 else max(0.0, 100.0 * (tau2_0 - tau2) / tau2_0)
    if np.var(y) == 0:
        return 0.0
    w = 1.0 / v
    tss = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    adj = 1.0 - (fe.rss / tss) * (k - 1) / (k - p)
    return max(0.0, 100.0 * adj)


def _spans_constant(X) -> bool:
    """Whether a column of ones lies in the column space of ``X`` (metafor's ``.is.nested(X, 1)``):
    the random-effects model is nested in this one, so metafor (>= 5.0-1) reports its R²."""
    ones = np.ones(X.shape[0])
    coef = np.linalg.lstsq(X, ones, rcond=None)[0]
    return bool(np.allclose(X @ coef, ones, rtol=0, atol=1e-10))


def _heterogeneity_fields(y, v, X, fit: _WLS, tau2: float, tau2_method: str, has_intercept: bool) -> dict:
    """The result's heterogeneity fields: residual Q with its df and p-value, I² and H²
    (:class:`Heterogeneity`), the standard error of τ² and the pseudo-R² (None without an
    intercept or moderators)."""
    k, p = X.shape
    fe = _WLS(X, y, 1.0 / v)
    q, q_p, i2, h2, se_tau2 = _heterogeneity(fit, fe, tau2, tau2_method, k, p)
    R2 = _pseudo_r2(y, v, fe, tau2, tau2_method, k, p) if has_intercept and p > 1 else None
    het = Heterogeneity(q=float(q), q_df=k - p, q_p=q_p, i2=float(i2), h2=float(h2))
    return dict(heterogeneity=het, se_tau2=se_tau2, R2=R2)


def _knha_scale(fit: _WLS, ci_method: str, k: int, p: int):
    """``(s2w, df)``: the Knapp-Hartung scale of the covariance (the weighted residual
    sum of squares over k - p, 0 when it is 0 to rounding) and the t df, or (1, None)
    for Wald tests."""
    if ci_method not in KNHA_SCALED:
        return 1.0, None
    return knha_scale(fit.rss, k - p, ci_method), k - p


def fit_meta_regression(
    y,
    v,
    X,
    tau2_method: str = "REML",
    ci_method: str = "z",
    level: float = 0.95,
    btt=None,
    coef_names: Sequence[str] | None = None,
) -> MetaRegressionResult:
    """Fit a mixed-effects meta-regression, as ``rma(yi, vi, mods = X, method, test)``.

    ``X`` is the full design (k × p, with its intercept column if the model has
    one; :func:`design_matrix` builds it from a table of moderators), an array
    or a DataFrame (whose column names become ``coef_names``). ``tau2_method`` is
    ``"REML"``, ``"ML"``, ``"DL"`` or ``"FE"``; ``ci_method`` is ``"z"`` (Wald) or
    ``"knha"`` (Knapp-Hartung). ``btt`` selects the coefficients of the omnibus
    test QM: 0-based indices or coefficient names; by default all but the
    intercept (all of them in a model without intercept).

    Raises ``ValueError`` for NaN/inf, v <= 0, k <= p or a rank-deficient X.

    Where this departs from metafor 3.8-1 (none of it arises in the fixtures):

    * a rank-deficient X is refused; metafor drops redundant columns with a
      warning. k = p is refused for ``"FE"`` too (metafor fits it, with QE = 0);
    * for a model whose columns do not span a constant (no intercept and no full
      set of dummies) metafor centres y before estimating τ² and computing QE,
      which changes both; here y itself is used, the residual test the model
      defines. With an intercept, or a full set of dummies, the two agree;
    * ML/REML take the highest local maximum of the likelihood over τ² >= 0, and
      give τ² = 0 exactly when that is on the boundary; metafor's Fisher scoring
      may stop at a value like 1e-13 there, and in a likelihood with several
      local maxima it keeps the one its start leads to.
    """
    y, v = check_effect_sizes(y, v)
    check_tau2_method(tau2_method, REGRESSION_TAU2)
    check_ci_method(ci_method, KNHA_CI)
    level = check_level(level)
    k = y.size
    X, names = _check_X(X, k, coef_names)
    p = X.shape[1]
    intercept_cols = [j for j in range(p) if np.all(X[:, j] == 1.0)]
    has_intercept = bool(intercept_cols)
    btt = _btt_indices(btt, p, intercept_cols, names)

    tau2 = estimate_regression_tau2(y, v, X, tau2_method)
    fit = _WLS(X, y, 1.0 / (v + tau2))
    s2w, df = _knha_scale(fit, ci_method, k, p)
    return MetaRegressionResult(
        fixed=FixedEffects(names, fit.beta, s2w * fit.cov, df, level, btt),
        **_heterogeneity_fields(y, v, X, fit, tau2, tau2_method, has_intercept or _spans_constant(X)),
        loglik=gls_loglik(y, v, X, tau2, tau2_method == "REML"),
        tau2=float(tau2),
        k=k,
        s2w=float(s2w),
        tau2_method=tau2_method,
        ci_method=ci_method,
        intercept=has_intercept,
        fitted=X @ fit.beta,
        residuals=fit.resid,
        weights=fit.w,
    )


def predict_meta_regression(result: MetaRegressionResult, newX, level: float | None = None) -> Prediction:
    """Predicted effects at new moderator values, as ``predict.rma(newmods = ...)``.

    ``newX`` holds full design rows (m × p, or one row of length p) coded as the
    fit's X, intercept column included (build them with :func:`design_matrix`
    and its ``levels`` argument). ``level`` defaults to the fit's level. The CI
    and the prediction interval use the fit's critical value: normal, or t with
    k - p df under Knapp-Hartung.
    """
    level = result.level if level is None else check_level(level)
    if isinstance(newX, pd.DataFrame):
        newX = newX.to_numpy(dtype=float)
    newX = np.asarray(newX, dtype=float)
    if newX.ndim == 1:
        newX = newX[None, :]
    if newX.ndim != 2 or newX.shape[1] != result.p:
        raise ValueError(f"newX must have p = {result.p} columns ({list(result.coef_names)}), got shape {newX.shape}")
    if not np.all(np.isfinite(newX)):
        raise ValueError("newX must be finite (found NaN or inf)")
    tau2 = None if result.tau2_method == "FE" else result.tau2
    return predict_rows(newX, result.coef, result.vcov, tau2, result.df, level)


def subgroup_test(
    y, v, groups, tau2_method: str = "REML", ci_method: str = "z", level: float = 0.95
) -> SubgroupTestResult:
    """Test for subgroup differences (e.g. between sites), as the QM test of
    metafor's ``rma(yi, vi, mods = ~ factor(group), method, test)``.

    This is a mixed-effects meta-regression on the subgroup dummies with one
    common τ²: QM tests that all subgroup means are equal (χ² with G - 1 df, or
    F(G - 1, k - G) under Knapp-Hartung). It differs from the test of RevMan or
    of meta's ``subgroup`` option, which fit a separate τ² in each subgroup.
    Levels are sorted (or follow a pandas Categorical's order); the first is the
    reference of the fit's dummies.
    """
    y, v = check_effect_sizes(y, v)
    g = groups if isinstance(groups, pd.Series) else pd.Series(groups)
    if len(g) != y.size:
        raise ValueError(f"groups has {len(g)} labels for k = {y.size} studies")
    g = g.reset_index(drop=True)
    if g.isna().any():
        raise ValueError("groups has missing labels")
    if pd.api.types.is_numeric_dtype(g) and not pd.api.types.is_bool_dtype(g):
        g = pd.Series(pd.Categorical(g, categories=sorted(g.unique())))  # numeric labels sort as numbers
    levels = _levels_of(g, "group")
    if len(levels) < 2:
        raise ValueError(f"a subgroup test needs at least 2 subgroups (found {levels})")
    X, names = design_matrix(pd.DataFrame({"group": g}), intercept=True)
    fit = fit_meta_regression(y, v, X, tau2_method, ci_method, level, coef_names=names)
    return SubgroupTestResult(
        QM=fit.QM,
        QM_df=fit.QM_df,
        QM_p=fit.QM_p,
        levels=tuple(levels),
        tau2=fit.tau2,
        q=fit.q,
        q_df=fit.q_df,
        q_p=fit.q_p,
        fit=fit,
    )
