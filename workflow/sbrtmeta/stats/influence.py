"""Leave-one-out analysis and case-deletion influence diagnostics.

These follow metafor 3.8 (Viechtbauer, J Stat Softw 2010;36(3)) for an
intercept-only ``rma.uni`` model:

* :func:`leave1out` is ``leave1out()``: the model refitted k times, each time
  without one study;
* :func:`influence_diagnostics` is ``influence.rma.uni()``: externally
  studentized residuals, DFFITS, Cook's distances, covariance ratios, the
  leave-one-out tau² and Q, hat values, weights and DFBETAS, and the flag for
  influential studies (Viechtbauer & Cheung, Res Synth Methods 2010;1:112-125);
* :func:`rstandard` and :func:`rstudent` are ``rstandard.rma.uni()`` (marginal,
  internally standardized residuals) and ``rstudent.rma.uni()``.

Each deleted-study model is fitted with :func:`sbrtmeta.stats.random_effects.fit_random_effects`,
so every tau² estimator it offers is available here. As in metafor, a model of
one remaining study has tau² = 0 and Wald (z) inference, and the Knapp-Hartung
scale factor is set to 0 when the weighted residual sum of squares is at most
machine epsilon.

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbrtmeta.stats.distributions import chi2_cdf, norm_sf, t_sf
from sbrtmeta.stats.inference import KNHA_SCALED, check_effect_sizes, critical_value, knha_scale
from sbrtmeta.stats.random_effects import fit_random_effects, fit_random_effects_batch

EPS = float(np.finfo(float).eps)


def _check(y, v):
    y, v = check_effect_sizes(y, v)
    if y.size < 2:
        raise ValueError("case-deletion diagnostics need k >= 2 studies (metafor: 'Stopped because k = 1.')")
    return y, v


def _knha_scale(w: np.ndarray, y: np.ndarray, mu: float, df: int, ci_method: str = "knha") -> float:
    """metafor's Knapp-Hartung factor s2w: RSS/df, or 0 when RSS <= eps; at least 1 under
    ``"adhoc"`` (:func:`sbrtmeta.stats.inference.knha_scale`)."""
    return knha_scale(float((w * (y - mu) ** 2).sum()), df, ci_method)


def _deletion_fits(y, v, tau2_method, ci_method, level, drops=None):
    """The models each fitted without one study (metafor's ``subset = -i``), or without each
    boolean mask of ``drops`` (a cluster's rows); none left: the row stays NaN."""
    k = y.size
    drops = [np.arange(k) == i for i in range(k)] if drops is None else drops
    names = ("estimate", "tau2", "sw", "s2w", "df", "q", "q_p", "i2", "h2")
    out = {name: np.full(len(drops), np.nan) for name in names}
    for i, drop in enumerate(drops):
        keep = ~drop
        yd, vd = y[keep], v[keep]
        if yd.size == 0:
            continue
        if yd.size == 1:
            # one study left: metafor fits it with tau2 = 0 and sets test = "z"
            vals = dict(estimate=yd[0], tau2=0.0, sw=1.0 / vd[0], s2w=1.0, df=np.nan, q=0.0, q_p=1.0, i2=0.0, h2=1.0)
        else:
            try:
                fit = fit_random_effects(yd, vd, tau2_method, ci_method, level)
            except (RuntimeError, FloatingPointError, np.linalg.LinAlgError):
                continue  # metafor's try(): the row stays NA
            w = 1.0 / (vd + fit.tau2)
            if ci_method in KNHA_SCALED:
                s2w, df = _knha_scale(w, yd, fit.estimate, yd.size - 1, ci_method), yd.size - 1
            else:
                s2w, df = 1.0, np.nan
            vals = dict(
                estimate=fit.estimate,
                tau2=fit.tau2,
                sw=w.sum(),
                s2w=s2w,
                df=df,
                q=fit.q,
                q_p=fit.q_p,
                i2=fit.i2,
                h2=fit.h2,
            )
        for name, value in vals.items():
            out[name][i] = value
    return out


def refit_inference(estimate, se, df, level):
    """``(zval, pval, ci_low, ci_high)`` of refitted models: t on ``df`` where it is finite
    (Knapp-Hartung), else z (as metafor's leave1out and cumul report them)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = estimate / se
    t = np.isfinite(df)
    pval = np.where(t, 2 * t_sf(np.abs(zval), np.where(t, df, 1.0)), 2 * norm_sf(np.abs(zval)))
    crit = np.where(t, critical_value(level, np.where(t, df, 1.0)), critical_value(level))
    return zval, pval, estimate - crit * se, estimate + crit * se


@dataclass(frozen=True)
class RefitSeries:
    """Models refitted on subsets of the studies (leave-one-out, cumulative): element ``i`` of
    every array is one refit.

    Attributes
    ----------
    estimate, se : pooled estimate and its standard error.
    zval : Wald z, or the t statistic under Knapp-Hartung (metafor's ``tval``).
    df : degrees of freedom of that t statistic (NaN for z; a fit of one study always uses
        z, as metafor does).
    pval : two-sided p-value.
    ci_low, ci_high : confidence interval of the estimate.
    q, q_p : Cochran's Q and its p-value (0 and 1 for one study).
    tau2, i2, h2 : between-study variance (0 for FE), I² (%) and H².
    """

    estimate: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    df: np.ndarray
    pval: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    q: np.ndarray
    q_p: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray


# --------------------------------------------------------------------------- leave one out


@dataclass(frozen=True)
class LeaveOneOutResult(RefitSeries):
    """The model refitted without each study in turn (metafor's ``leave1out()``).

    Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat
    Softw 2010;36(3):1-48.

    Element ``i`` of every array (the fields of :class:`RefitSeries`) describes the model
    fitted without study ``i``.

    Attributes
    ----------
    k : number of studies in the full data.
    tau2_method, ci_method : as passed.
    omitted : what each element left out: the row's index (0-based) without ``cluster``,
        else the cluster's id, in sorted order as metafor's ``leave1out(res, cluster = )``.
    """

    k: int
    tau2_method: str
    ci_method: str
    omitted: tuple = ()


def leave1out(
    y, v, tau2_method: str = "REML", ci_method: str = "knha", level: float = 0.95, cluster=None
) -> LeaveOneOutResult:
    """Leave-one-out estimates, as metafor's ``leave1out()`` for ``rma.uni``.

    Each of the k models is ``fit_random_effects`` on the other k - 1 studies
    with the same tau² and CI methods. With ``cluster`` (one id per row, e.g. the study of
    each arm) each model leaves out every row of one cluster, one per distinct id in sorted
    order, as ``leave1out(res, cluster = )`` of metafor 5 (a study with several arms leaves
    as a whole). Raises ``ValueError`` for k < 2 and for unknown methods.
    """
    y, v = _check(y, v)
    fit_random_effects(y, v, tau2_method, ci_method, level)  # validates the methods
    if cluster is None:
        omitted, drops = tuple(range(y.size)), None
    else:
        cluster = np.asarray(cluster)
        if cluster.shape != y.shape:
            raise ValueError(f"cluster has {cluster.size} ids for {y.size} studies")
        omitted = tuple(sorted(set(cluster.tolist())))
        drops = [cluster == c for c in omitted]
    d = _deletion_fits(y, v, tau2_method, ci_method, level, drops)
    se = np.sqrt(d["s2w"] / d["sw"])
    zval, pval, lo, hi = refit_inference(d["estimate"], se, d["df"], level)
    return LeaveOneOutResult(
        estimate=d["estimate"],
        se=se,
        zval=zval,
        df=d["df"],
        pval=pval,
        ci_low=lo,
        ci_high=hi,
        q=d["q"],
        q_p=d["q_p"],
        tau2=d["tau2"],
        i2=d["i2"],
        h2=d["h2"],
        k=y.size,
        tau2_method=tau2_method,
        ci_method=ci_method,
        omitted=omitted,
    )


# --------------------------------------------------------------------------- residuals


@dataclass(frozen=True)
class ResidualResult:
    """Residuals of an intercept-only model with their standard errors.

    Attributes
    ----------
    resid : observed minus fitted (for :func:`rstudent`, minus the estimate
        from the model without the study); set to 0 below 100 machine epsilons,
        as metafor does.
    se : standard error of ``resid``.
    z : ``resid / se``.
    """

    resid: np.ndarray
    se: np.ndarray
    z: np.ndarray


def rstandard(y, v, tau2_method: str = "REML") -> ResidualResult:
    """Internally standardized (marginal) residuals, as ``rstandard.rma.uni()``.

    ``resid = y - mu`` and ``se = sqrt(diag((I - H) M (I - H)'))`` with
    ``M = diag(v + tau2)`` and ``H`` the hat matrix, which for an intercept-only
    model is ``sqrt((1 - h_i) / w_i)``. The Knapp-Hartung factor does not enter,
    so the CI method is irrelevant (Viechtbauer & Cheung, Res Synth Methods
    2010;1:112-125).
    """
    y, v = _check(y, v)
    fit = fit_random_effects(y, v, tau2_method, "z")
    w = 1.0 / (v + fit.tau2)
    sw = w.sum()
    others = np.array([np.delete(w, i).sum() for i in range(y.size)])  # sum over j != i, no cancellation
    resid = y - fit.estimate
    resid[np.abs(resid) < 100 * EPS] = 0.0
    se = np.sqrt(others / sw / w)
    return ResidualResult(resid=resid, se=se, z=resid / se)


def rstudent(y, v, tau2_method: str = "REML", ci_method: str = "knha", level: float = 0.95) -> ResidualResult:
    """Externally studentized residuals, as ``rstudent.rma.uni()``.

    ``resid = y_i - mu_(-i)`` and ``se = sqrt(s2w_(-i) (v_i + tau2_(-i)) +
    Var(mu_(-i)))``, everything from the model fitted without study ``i``
    (``s2w`` the Knapp-Hartung factor, 1 for z). Raises ``ValueError`` where
    :func:`influence_diagnostics` does.
    """
    c = _case_deletion(*_check(y, v), tau2_method, ci_method, level)
    return ResidualResult(resid=c["resid"], se=c["se_resid"], z=c["rstudent"])


# --------------------------------------------------------------------------- influence


@dataclass(frozen=True)
class InfluenceResult:
    """Case-deletion diagnostics of an intercept-only model (``influence.rma.uni()``).

    Viechtbauer W, Cheung MW-L. Outlier and influence diagnostics for
    meta-analysis. Res Synth Methods 2010;1:112-125.

    Element ``i`` of every array refers to study ``i``; ``(-i)`` means "from the
    model fitted without study i".

    Attributes
    ----------
    rstudent : externally studentized residual ``(y_i - mu_(-i)) / se``.
    dffits : ``(mu - mu_(-i)) / sqrt(s2w_(-i) h_i (tau2_(-i) + v_i))``.
    cook_d : Cook's distance ``(mu - mu_(-i))² / Var(mu)``.
    cov_r : covariance ratio ``Var(mu_(-i)) / Var(mu)``.
    tau2_del, qe_del : tau² and Cochran's Q without study ``i``.
    hat : leverage ``w_i / sum(w)`` (set to 1 above 1 - 10 eps).
    weight : weight in % in the full model.
    dfbetas : ``(mu - mu_(-i)) / sqrt(s2w_(-i) / sum_j 1/(v_j + tau2_(-i)))``.
    inf : True where metafor marks the study influential ("*"): |dffits| >
        3 sqrt(1/(k - 1)), or pchisq(cook_d, 1) > 0.5, or hat > 3/k, or
        |dfbetas| > 1.
    rstandard : internally standardized residual (``rstandard(...).z``).
    tau2, qe : tau² and Q of the full model.
    k, tau2_method, ci_method : as fitted.
    """

    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    inf: np.ndarray
    rstandard: np.ndarray
    tau2: float
    qe: float
    k: int
    tau2_method: str
    ci_method: str


def _case_deletion(y, v, tau2_method, ci_method, level) -> dict:
    k = y.size
    fit = fit_random_effects(y, v, tau2_method, ci_method, level)
    w = 1.0 / (v + fit.tau2)
    sw = w.sum()
    mu = fit.estimate
    s2w = _knha_scale(w, y, mu, k - 1, ci_method) if ci_method in KNHA_SCALED else 1.0
    vb = s2w / sw
    if not vb > 0:
        raise ValueError(
            "the variance of the pooled estimate is 0 (Knapp-Hartung factor 0: the effect sizes "
            "are identical to machine precision), so Cook's distances and covariance ratios are "
            "undefined (metafor stops: 'leading minor ... is not positive definite')"
        )
    hat = w / sw
    hat[hat > 1 - 10 * EPS] = 1.0

    d = _deletion_fits(y, v, tau2_method, ci_method, level)
    mu_del, tau2_del, s2w_del = d["estimate"], d["tau2"], d["s2w"]
    vb_del_fit = s2w_del / d["sw"]  # Var(mu_(-i)) from the deleted model
    vb_del_all = 1.0 / (1.0 / (v[None, :] + tau2_del[:, None])).sum(axis=1)  # all k studies, tau2_(-i)
    diff = mu - mu_del
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = y - mu_del
        resid[np.abs(resid) < 100 * EPS] = 0.0
        se_resid = np.sqrt(v * s2w_del + vb_del_fit + tau2_del * s2w_del)
        return dict(
            fit=fit,
            w=w,
            sw=sw,
            hat=hat,
            deleted=d,
            resid=resid,
            se_resid=se_resid,
            rstudent=resid / se_resid,
            dffits=diff / np.sqrt(s2w_del * hat * (tau2_del + v)),
            dfbetas=diff / np.sqrt(s2w_del * vb_del_all),
            cook_d=diff**2 / vb,
            cov_r=vb_del_fit / vb,
        )


def influence_diagnostics(
    y, v, tau2_method: str = "REML", ci_method: str = "knha", level: float = 0.95
) -> InfluenceResult:
    """Influence diagnostics, as metafor's ``influence.rma.uni()``.

    Every deleted-study quantity comes from ``fit_random_effects`` on the other
    k - 1 studies with the same methods; a deletion whose fit fails is NaN, as
    metafor leaves it NA. Raises ``ValueError`` for k < 2, for unknown methods,
    and where metafor stops because the full model's variance is zero
    (Knapp-Hartung with a weighted residual sum of squares at most machine
    epsilon, i.e. effect sizes identical to machine precision).
    """
    y, v = _check(y, v)
    k, p = y.size, 1
    c = _case_deletion(y, v, tau2_method, ci_method, level)
    dffits, cook_d, hat, dfbetas = c["dffits"], c["cook_d"], c["hat"], c["dfbetas"]
    with np.errstate(invalid="ignore"):
        # comparisons with NaN are False, which is what metafor's NA handling amounts to
        inf = (
            (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
            | (chi2_cdf(cook_d, df=p) > 0.5)
            | (hat > 3 * p / k)
            | (np.abs(dfbetas) > 1)
        )
    return InfluenceResult(
        rstudent=c["rstudent"],
        dffits=dffits,
        cook_d=cook_d,
        cov_r=c["cov_r"],
        tau2_del=c["deleted"]["tau2"],
        qe_del=c["deleted"]["q"],
        hat=hat,
        weight=100.0 * c["w"] / c["sw"],
        dfbetas=dfbetas,
        inf=np.asarray(inf, bool),
        rstandard=rstandard(y, v, tau2_method).z,
        tau2=c["fit"].tau2,
        qe=c["fit"].q,
        k=k,
        tau2_method=tau2_method,
        ci_method=ci_method,
    )


# --------------------------------------------------------------------------- Baujat


def _leave_one_out_batch(y, v, tau2_method, ci_method, level):
    """Leave-one-out estimates and standard errors as :func:`leave1out` gives them, the k fits
    done at once by the batch engine (k >= 3; else, or if the batch fails, :func:`leave1out`)."""
    k = y.size
    if k >= 3:
        keep = ~np.eye(k, dtype=bool)
        Y, V = np.where(keep, y, np.nan), np.where(keep, v, np.nan)
        try:
            fit = fit_random_effects_batch(Y, V, tau2_method, ci_method, level)
        except (RuntimeError, FloatingPointError, ValueError, np.linalg.LinAlgError):
            fit = None
        if fit is not None:
            if ci_method not in KNHA_SCALED:
                return fit.estimate, fit.se
            w = np.where(keep, 1.0 / (V + fit.tau2[:, None]), 0.0)
            rss = (w * np.where(keep, Y - fit.estimate[:, None], 0.0) ** 2).sum(axis=1)
            s2w = knha_scale(rss, k - 2, ci_method)  # metafor's Knapp-Hartung factor
            return fit.estimate, np.sqrt(s2w / w.sum(axis=1))
    loo = leave1out(y, v, tau2_method, ci_method, level)
    return loo.estimate, loo.se


@dataclass(frozen=True)
class BaujatResult:
    """Each study's contribution to heterogeneity and its influence on the pooled estimate,
    the coordinates of metafor's ``baujat()`` for an intercept-only ``rma.uni`` model.

    Baujat B, Mahé C, Pignon JP, Hill C. A graphical method for exploring heterogeneity in
    meta-analyses: application to a meta-analysis of 65 trials. Stat Med 2002;21:2641-2652.

    Attributes
    ----------
    contribution : squared Pearson residual ``(y_i - mu)^2 / (tau2 + v_i)`` of the full
        model (the x axis; with FE they sum to Q).
    influence : ``(mu_(-i) - mu)^2 / se_(-i)^2``, the squared shift of the pooled estimate
        when study ``i`` is left out, in units of the leave-one-out standard error (the y
        axis; NaN where the leave-one-out fit failed).
    estimate, tau2 : the full model's estimate and τ².
    """

    contribution: np.ndarray
    influence: np.ndarray
    estimate: float
    tau2: float


def baujat(y, v, tau2_method: str = "REML", ci_method: str = "knha", level: float = 0.95) -> BaujatResult:
    """Baujat coordinates, as ``baujat(rma(yi, vi, method = tau2_method, test = ci_method))``.

    The leave-one-out fits are :func:`leave1out`'s, with the same test (under Knapp-Hartung
    the leave-one-out variance is the Knapp-Hartung one, as metafor's ``vb``). Raises
    ``ValueError`` for k < 2 (metafor: 'Stopped because k = 1.').
    """
    y, v = _check(y, v)
    full = fit_random_effects(y, v, tau2_method, ci_method, level)
    est, se = _leave_one_out_batch(y, v, tau2_method, ci_method, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        influence = (est - full.estimate) ** 2 / se**2
    return BaujatResult(
        contribution=(y - full.estimate) ** 2 / (full.tau2 + v),
        influence=influence,
        estimate=full.estimate,
        tau2=full.tau2,
    )
