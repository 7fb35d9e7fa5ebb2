"""Binomial-normal random-effects model for single proportions (logit link).

The model is the random-intercept logistic regression

    x_i ~ Binomial(n_i, p_i),   logit(p_i) = mu + b_i,   b_i ~ N(0, tau^2),

fitted by maximum likelihood, as metafor's ``rma.glmm(xi=, ni=, measure="PLO")``
does through ``lme4::glmer(cbind(xi, ni - xi) ~ 1 + (1 | study),
family = binomial, nAGQ = 7)``. It uses the exact binomial likelihood, so studies
with 0 or n events need no continuity correction.

References
----------
Stijnen T, Hamza TH, Özdemir P. Random effects meta-analysis of event outcome
in the framework of the generalized linear mixed model with applications in
sparse data. Stat Med 2010;29:3046-3067.

Hamza TH, van Houwelingen HC, Stijnen T. The binomial distribution of
meta-analysis was preferred to model within-study variability. J Clin Epidemiol
2008;61:41-51.

Pinheiro JC, Bates DM. Approximations to the log-likelihood function in the
nonlinear mixed-effects model. J Comput Graph Stat 1995;4:12-35 (adaptive
Gauss-Hermite quadrature).

Bates D, Mächler M, Bolker B, Walker S. Fitting linear mixed-effects models
using lme4. J Stat Softw 2015;67(1):1-48.

Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat
Softw 2010;36(3):1-48.

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite import hermgauss
from scipy import special

from sbrtmeta.stats.distributions import chi2_sf, norm_sf
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes
from sbrtmeta.stats.inference import check_level, critical_value
from sbrtmeta.stats.random_effects import tau2_dl

__all__ = ["GlmmResult", "fit_glmm_logit", "glmm_loglik"]


@dataclass(frozen=True)
class GlmmResult:
    """A fitted binomial-normal model, as reported by metafor's ``rma.glmm``.

    Attributes
    ----------
    estimate : ML estimate of mu, the mean logit (``res$beta``).
    se : its standard error from the observed information of the marginal
        likelihood in (mu, tau) at the optimum, as ``vcov()`` of the glmer fit
        (``res$se``). At the boundary tau2 = 0 it is the common-effect
        (logistic) standard error.
    z, p : Wald z statistic and its two-sided p-value (``zval``, ``pval``).
    ci_low, ci_high : Wald confidence interval of mu at ``level``.
    tau2 : ML estimate of the between-study variance of the logits
        (``res$tau2``); exactly 0 when the maximum is at the boundary.
    tau : sqrt(tau2).
    loglik : maximised marginal log-likelihood under the quadrature rule,
        including the binomial coefficients (so with tau2 = 0 it is the
        log-likelihood of the common-effect logistic model). lme4's ``logLik()``
        of a glmer fit with nAGQ > 1 is reported relative to the saturated
        model: it equals ``loglik - loglik_saturated``.
    loglik_saturated : log-likelihood of the saturated logistic model (one
        proportion per study; metafor's ``ll.QE``).
    loglik_metafor : the log-likelihood as ``logLik(rma.glmm)`` prints it:
        ll(saturated) - deviance/2 with lme4's *conditional* deviance, i.e. the
        binomial log-likelihood at the fitted proportions expit(mu + b_i) given
        the conditional modes b_i; kept only to compare with metafor's output.
    qe_wald, qe_wald_p : Wald test for heterogeneity (``QE.Wld``), the Wald
        test that all k study logits are equal in the saturated logistic
        model; studies with 0 or n events enter with their limiting weight 0.
    qe_lrt, qe_lrt_p : likelihood-ratio test of the common-effect against the
        saturated logistic model (``QE.LRT``).
    qe_df : degrees of freedom of both tests (k - 1).
    i2, h2 : I² (%) and H² as metafor computes them for ``rma.glmm``: tau2
        against the "typical" within-study variance of the continuity-corrected
        logits (``escalc`` with add = 1/2 to zero cells only).
    k : number of studies.
    n_nodes : quadrature nodes per study (``nAGQ``; 1 is the Laplace
        approximation).
    level : confidence level of the interval.
    converged : whether the optimiser met its step tolerance (for a maximum at
        tau2 = 0: whether the likelihood does not increase in tau2 there).
    iterations : Newton iterations used.
    """

    estimate: float
    se: float
    z: float
    p: float
    ci_low: float
    ci_high: float
    tau2: float
    tau: float
    loglik: float
    loglik_saturated: float
    loglik_metafor: float
    qe_wald: float
    qe_wald_p: float
    qe_lrt: float
    qe_lrt_p: float
    qe_df: int
    i2: float
    h2: float
    k: int
    n_nodes: int
    level: float
    converged: bool
    iterations: int

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Wald confidence interval of the mean logit at ``level``."""
        crit = critical_value(check_level(level))
        return self.estimate - crit * self.se, self.estimate + crit * self.se


@lru_cache(maxsize=32)
def _rule(n_nodes: int):
    """Standard-normal Gauss-Hermite rule: nodes z and log weights (sum of weights = 1)."""
    x, w = hermgauss(n_nodes)
    z = np.sqrt(2.0) * x
    logw = np.log(w) - 0.5 * np.log(np.pi)
    if n_nodes % 2 == 1:
        z[n_nodes // 2] = 0.0  # exact centre node (Laplace for n_nodes = 1)
    return z, logw


def _check_counts(events, n):
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    if x.ndim != 1 or x.shape != n.shape:
        raise ValueError("events and n must be 1-d arrays of one length")
    if x.size == 0:
        raise ValueError("no studies to pool (k = 0)")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(n))):
        raise ValueError("events and n must be finite numbers (found NaN or inf)")
    if np.any(n < 1):
        raise ValueError("each study needs n >= 1")
    if np.any(x < 0) or np.any(x > n):
        raise ValueError("each study needs 0 <= events <= n")
    if np.any(x != np.round(x)) or np.any(n != np.round(n)):
        raise ValueError("events and n must be whole numbers (binomial counts)")
    return x, n


def _conditional_modes(mu, theta, x, n, max_iter: int = 200):
    """Modes of the per-study integrands in the standardised random effect u.

    With b = theta * u, u ~ N(0, 1), the log-integrand of study i is
    g(u) = x eta - n log(1 + e^eta) - u^2/2, eta = mu + theta u. It is strictly
    concave; g'(u) = theta (x - n p) - u has its root in the bracket
    [min(theta x, theta (x - n)), max(...)]. Newton's method is safeguarded as
    in ``rtsafe`` (Press et al., Numerical Recipes, 9.4): a bisection step is
    taken whenever the Newton step leaves the bracket or fails to halve the
    previous step, so the bracket shrinks geometrically even where plain Newton
    would cycle (sparse studies with large tau). Vectorised over parameter
    points (rows of ``mu``/``theta``, shape (P, 1)) and studies (columns).

    Returns the modes u and the curvatures -g''(u) at them.
    """
    a, b = theta * x, theta * (x - n)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    p0 = special.expit(mu)
    u = np.clip(theta * (x - n * p0) / (1.0 + theta**2 * n * p0 * (1.0 - p0)), lo, hi)
    dxold = hi - lo
    for _ in range(max_iter):
        p = special.expit(mu + theta * u)
        g1 = theta * (x - n * p) - u
        g2 = theta**2 * n * p * (1.0 - p) + 1.0  # -g''
        lo = np.where(g1 > 0, u, lo)
        hi = np.where(g1 < 0, u, hi)
        step = g1 / g2
        new = u + step
        moving = np.abs(step) > 1e-14 * (1.0 + np.abs(u))  # converged entries are left alone
        bisect = moving & ((new < lo) | (new > hi) | (np.abs(2.0 * step) > np.abs(dxold)))
        new = np.where(bisect, 0.5 * (lo + hi), new)
        dxold = np.where(bisect, 0.5 * (hi - lo), step)
        done = np.max(np.abs(new - u)) <= 1e-13 * (1.0 + np.max(np.abs(u)))
        u = new
        if done:
            break
    p = special.expit(mu + theta * u)
    return u, theta**2 * n * p * (1.0 - p) + 1.0


def _neg_loglik(mu, theta, x, n, z, logw, gradient: bool = False, return_modes: bool = False):
    """Minus the marginal log-likelihood (without binomial coefficients) by AGQ.

    ``mu`` and ``theta`` are arrays of one shape (P,); returns f of shape (P,)
    and, with ``gradient=True``, also its gradient in (mu, theta), shape (P, 2).
    For each study, ∫ exp(l(mu + theta u)) φ(u) du is approximated by
    s Σ_j w_j exp(l(η_j)) φ(u_j) / φ(z_j), u_j = û + s z_j, η_j = mu + theta u_j,
    s = 1/sqrt(-g''(û)) (Pinheiro & Bates 1995; lme4's ``nAGQ``), centred at the
    conditional mode û. The gradient is exact for this approximation: it
    includes how û and s move with (mu, theta) (implicit differentiation of
    the mode equation).
    """
    mu = np.asarray(mu, dtype=float)[:, None]
    theta = np.asarray(theta, dtype=float)[:, None]
    u, curv = _conditional_modes(mu, theta, x, n)
    s = 1.0 / np.sqrt(curv)
    uq = u[..., None] + s[..., None] * z  # (P, k, Q)
    eta = mu[..., None] + theta[..., None] * uq
    xx, nn = x[:, None], n[:, None]
    logf = xx * eta - nn * np.logaddexp(0.0, eta) - 0.5 * uq**2 + 0.5 * z**2 + logw
    top = logf.max(axis=-1)
    e = np.exp(logf - top[..., None])
    tot = e.sum(axis=-1)
    ll = np.log(s) + top + np.log(tot)
    out = -ll.sum(axis=-1)
    if not gradient:
        return (out, u) if return_modes else out

    pi = e / tot[..., None]  # weights of the nodes in each study's integral
    ph = special.expit(mu + theta * u)
    a = n * ph * (1.0 - ph)  # binomial information at the mode
    a1 = a * (1.0 - 2.0 * ph)  # its derivative in eta
    r = x - n * ph
    # mode equation theta (x - n p(mu + theta u)) = u, differentiated
    du = (-theta * a / curv, (r - theta * a * u) / curv)
    deta = (1.0 / curv, u + theta * du[1])
    dcurv = (theta**2 * a1 * deta[0], 2.0 * theta * a + theta**2 * a1 * deta[1])
    rq = xx - nn * special.expit(eta)
    grads = []
    for j in range(2):
        dlogs = -0.5 * dcurv[j] / curv
        duq = du[j][..., None] + (s * dlogs)[..., None] * z
        detaq = (1.0 if j == 0 else uq) + theta[..., None] * duq
        grads.append(-(dlogs + (pi * (rq * detaq - uq * duq)).sum(axis=-1)).sum(axis=-1))
    g = np.stack(grads, axis=-1)
    return (out, g, u) if return_modes else (out, g)


def _log_binom_coef(x, n):
    return special.gammaln(n + 1.0) - special.gammaln(x + 1.0) - special.gammaln(n - x + 1.0)


def glmm_loglik(mu: float, tau2: float, events, n, n_nodes: int = 7) -> float:
    """Marginal log-likelihood of the binomial-normal model at (mu, tau2) by AGQ.

    Includes the binomial coefficients; at the ML estimates it equals
    ``GlmmResult.loglik``.
    """
    x, n = _check_counts(events, n)
    if not (np.isfinite(mu) and np.isfinite(tau2) and tau2 >= 0):
        raise ValueError("mu must be finite and tau2 finite and >= 0")
    z, logw = _rule(_check_nodes(n_nodes))
    f = _neg_loglik(np.array([mu]), np.array([np.sqrt(tau2)]), x, n, z, logw)[0]
    return float(_log_binom_coef(x, n).sum() - f)


def _check_nodes(n_nodes) -> int:
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) or not 1 <= n_nodes <= 100:
        raise ValueError(f"n_nodes must be an integer between 1 and 100, got {n_nodes!r}")
    return int(n_nodes)


# Points at which the gradient is evaluated for a central-difference Hessian.
_STENCIL = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)], dtype=float)


def _derivatives(par, fun):
    """f, gradient and Hessian at ``par`` = (mu, theta), in one batched call.

    The gradient is analytic; the Hessian is central differences of it.
    """
    h = 1e-5 * (1.0 + np.abs(par))
    pts = par + _STENCIL * h
    f, g = fun(pts[:, 0], pts[:, 1], gradient=True)
    hess = np.column_stack([(g[1] - g[2]) / (2 * h[0]), (g[3] - g[4]) / (2 * h[1])])
    return f[0], g[0], 0.5 * (hess + hess.T)


def _newton(par, fun, max_iter: int = 200, xtol: float = 1e-9):
    """Damped Newton minimisation of ``fun`` over (mu, theta) ∈ R².

    The objective is even in theta (the sign of the random effect's scale is not
    identified), so the minimisation is unconstrained and tau = |theta|. An
    indefinite Hessian is shifted to be positive definite; steps are backtracked
    until the objective decreases (Armijo rule). Returns the minimiser, the
    objective, gradient and Hessian there, whether the step tolerance was met,
    and the number of iterations.
    """
    par = np.asarray(par, dtype=float)
    f0, g, hess = _derivatives(par, fun)
    for it in range(1, max_iter + 1):
        evals, evecs = np.linalg.eigh(hess)
        floor = 1e-8 * max(1.0, float(np.max(np.abs(evals))))
        evals = np.where(evals < floor, np.maximum(np.abs(evals), floor), evals)
        step = -(evecs @ ((evecs.T @ g) / evals))
        small = bool(np.all(np.abs(step) <= xtol * (1.0 + np.abs(par))))
        slope = float(g @ step)
        # f is only known to rounding error (sums of large binomial terms); near the optimum the
        # Armijo test must not reject Newton steps for changes below that, and a Newton decrement
        # below it means the optimum is reached to working precision
        noise = 1e-13 * (1.0 + abs(f0))
        flat = -slope <= noise
        t = 1.0
        trial = par + step
        ft, gt, ht = _derivatives(trial, fun)  # full steps are the rule: derivatives come with the test
        while not (np.isfinite(ft) and ft <= f0 + 1e-4 * t * slope + noise):
            t *= 0.5
            if t < 1e-10:  # no decrease along the step
                return par, f0, g, hess, small or flat, it
            trial = par + t * step
            ft = float(fun(trial[:1], trial[1:])[0])
            if np.isfinite(ft) and ft <= f0 + 1e-4 * t * slope + noise:
                ft, gt, ht = _derivatives(trial, fun)
                break
        par, f0, g, hess = trial, ft, gt, ht
        if small:
            return par, f0, g, hess, True, it
        if np.any(np.abs(par) > 1e3):  # tau or |mu| running off: no finite maximum
            return par, f0, g, hess, False, it
    return par, f0, g, hess, False, max_iter


def _check_estimable(x: np.ndarray, n: np.ndarray) -> None:
    """ValueError where the ML estimate of the mean logit does not exist: k < 2, or every
    study with 0 events (or every study with n events)."""
    k = x.size
    if k < 2:
        raise ValueError(f"need at least 2 studies to estimate mu and tau2 (got k = {k})")
    if np.all(x == 0) or np.all(x == n):
        raise ValueError(
            "every study has 0 events (or every study n events): the ML estimate of the mean logit does not exist"
        )


def _maximise(x, n, yi, vi, fun):
    """ML estimates ``(mu, tau, -loglik, se(mu), converged, iterations)``: damped Newton from
    DerSimonian-Laird starting values, or the common-effect fit when the maximum is at tau2 = 0."""
    # common-effect (tau2 = 0) fit: the logistic MLE is the pooled logit
    mu_fe = float(special.logit(x.sum() / n.sum()))
    f_fe = float(fun(np.array([mu_fe]), np.array([0.0]))[0])

    # starting values: DerSimonian-Laird on the continuity-corrected logits
    t2 = tau2_dl(yi, vi)
    w = 1.0 / (vi + t2)
    start = np.array([float((w * yi).sum() / w.sum()), max(np.sqrt(t2), 0.1)])
    par, f_hat, _, hess, converged, iterations = _newton(start, fun)
    mu_hat, theta_hat = float(par[0]), abs(float(par[1]))

    if theta_hat < 1e-5 or f_fe <= f_hat:  # maximum at the boundary tau2 = 0
        mu_hat, theta_hat, f_hat = mu_fe, 0.0, f_fe
        # a maximum at the boundary needs the likelihood not to increase in tau2 there; the
        # objective is even in theta, so that is a non-negative second derivative in theta
        _, _, hess0 = _derivatives(np.array([mu_fe, 0.0]), fun)
        converged = bool(hess0[1, 1] >= -1e-6 * max(1.0, abs(hess0[0, 0])))
        # the Hessian in (mu, theta) is diagonal at theta = 0: the common-effect information
        p_fe = x.sum() / n.sum()
        se = float(1.0 / np.sqrt((n * p_fe * (1.0 - p_fe)).sum()))
    else:
        evals = np.linalg.eigvalsh(hess)
        if np.all(evals > 0):
            se = float(np.sqrt(np.linalg.inv(hess)[0, 0]))
        else:  # not positive definite: information for mu given tau
            se = float(1.0 / np.sqrt(hess[0, 0])) if hess[0, 0] > 0 else float("nan")
            converged = False
    return mu_hat, theta_hat, f_hat, se, converged, iterations


def _heterogeneity_tests(x, n, lbc):
    """``(loglik_saturated, qe_lrt, qe_wald)``: the saturated model's log-likelihood, the
    likelihood-ratio test of saturated vs common-effect logistic model and the Wald-type
    test on the logits of the studies with 0 < events < n (0 log 0 = 0)."""
    ll_sat = float((lbc + special.xlogy(x, x / n) + special.xlogy(n - x, (n - x) / n)).sum())
    p_fe = x.sum() / n.sum()
    ll_fe = float((lbc + x * np.log(p_fe) + (n - x) * np.log1p(-p_fe)).sum())
    qe_lrt = max(0.0, 2.0 * (ll_sat - ll_fe))
    inner = (x > 0) & (x < n)
    if inner.any():
        yw = special.logit(x[inner] / n[inner])
        ww = x[inner] * (n[inner] - x[inner]) / n[inner]
        qe_wald = float((ww * (yw - (ww * yw).sum() / ww.sum()) ** 2).sum())
    else:
        qe_wald = 0.0
    return ll_sat, qe_lrt, qe_wald


def _conditional_loglik(mu_hat, theta_hat, x, n, z, logw, lbc) -> float:
    """metafor's logLik: ll(saturated) - conditional deviance / 2 = binomial ll at expit(mu + b_i)."""
    _, u_hat = _neg_loglik(np.array([mu_hat]), np.array([theta_hat]), x, n, z, logw, return_modes=True)
    eta_cond = mu_hat + theta_hat * u_hat[0]
    ll_cond = (
        lbc
        - np.where(x > 0, x * np.logaddexp(0.0, -eta_cond), 0.0)
        - np.where(x < n, (n - x) * np.logaddexp(0.0, eta_cond), 0.0)
    )
    return float(ll_cond.sum())


def fit_glmm_logit(events, n, n_nodes: int = 7, level: float = 0.95) -> GlmmResult:
    """Fit the binomial-normal random-intercept logistic model by ML.

    Agrees with metafor's ``rma.glmm(xi = events, ni = n, measure = "PLO")``
    (model ``UM.FS`` for single proportions, ML via ``lme4::glmer`` with
    ``nAGQ = n_nodes`` adaptive Gauss-Hermite quadrature; Stijnen, Hamza &
    Özdemir, Stat Med 2010;29:3046-3067; Pinheiro & Bates, J Comput Graph Stat
    1995;4:12-35).

    The marginal likelihood is maximised over (mu, tau) by a damped Newton
    method (analytic gradient, Hessian by central differences of the
    gradient, all evaluated in one vectorised call); each evaluation finds the
    conditional mode and curvature of every study's integrand by vectorised
    safeguarded Newton steps and places the quadrature nodes there, as lme4
    does. The standard error of mu comes from the inverse of the Hessian of the
    marginal log-likelihood in (mu, tau) at the optimum, which is what
    ``vcov()`` of the glmer fit reports. When the maximum is at tau2 = 0 (glmer's
    "boundary (singular) fit"), tau2 is reported as exactly 0 and mu is the
    common-effect logistic estimate logit(sum(events) / sum(n)) — also when all
    observed proportions are equal, a case glmer refuses ("Response is
    constant").

    Raises ``ValueError`` for k < 2 (metafor: more parameters than studies),
    NaN/inf, n < 1, events outside [0, n], non-integer counts, or when every
    study has 0 events (or every study n events), where the ML estimate of mu
    does not exist. If every study has 0 or n events (some of each), the exact
    likelihood has no finite maximum; the quadrature rule then gives a huge
    tau2 (so does glmer) and the estimates are not meaningful. Check
    ``converged`` before using a result.
    """
    x, n = _check_counts(events, n)
    _check_estimable(x, n)
    k = x.size
    n_nodes = _check_nodes(n_nodes)
    check_level(level)
    z, logw = _rule(n_nodes)

    def fun(mu, theta, gradient=False):
        return _neg_loglik(mu, theta, x, n, z, logw, gradient=gradient)

    yi, vi = proportion_effect_sizes(x, n)
    mu_hat, theta_hat, f_hat, se, converged, iterations = _maximise(x, n, yi, vi, fun)
    tau2 = theta_hat**2
    zval = mu_hat / se
    crit = critical_value(level)
    lbc = _log_binom_coef(x, n)
    loglik = float(lbc.sum() - f_hat)
    ll_sat, qe_lrt, qe_wald = _heterogeneity_tests(x, n, lbc)
    qe_df = k - 1
    loglik_metafor = _conditional_loglik(mu_hat, theta_hat, x, n, z, logw, lbc)
    # I² and H² as rma.glmm: typical within-study variance from escalc's vi
    wi = 1.0 / vi
    vt = (k - 1) / (wi.sum() - (wi**2).sum() / wi.sum())

    return GlmmResult(
        estimate=mu_hat,
        se=se,
        z=float(zval),
        p=float(2.0 * norm_sf(abs(zval))),
        ci_low=mu_hat - crit * se,
        ci_high=mu_hat + crit * se,
        tau2=float(tau2),
        tau=float(theta_hat),
        loglik=loglik,
        loglik_saturated=ll_sat,
        loglik_metafor=loglik_metafor,
        qe_wald=qe_wald,
        qe_wald_p=float(chi2_sf(qe_wald, qe_df)),
        qe_lrt=float(qe_lrt),
        qe_lrt_p=float(chi2_sf(qe_lrt, qe_df)),
        qe_df=qe_df,
        i2=float(100.0 * tau2 / (vt + tau2)),
        h2=float(tau2 / vt + 1.0),
        k=k,
        n_nodes=n_nodes,
        level=float(level),
        converged=bool(converged),
        iterations=iterations,
    )
