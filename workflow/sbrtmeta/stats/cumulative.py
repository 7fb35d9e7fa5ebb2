"""Cumulative meta-analysis, as metafor's ``cumul()`` for an intercept-only ``rma.uni`` model.

Lau J, Antman EM, Jimenez-Silva J, et al. Cumulative meta-analysis of therapeutic trials for
myocardial infarction. N Engl J Med 1992;327:248-254. Viechtbauer W. Conducting
meta-analyses in R with the metafor package. J Stat Softw 2010;36(3):1-48.

Step ``j`` is the model fitted to the first ``j`` studies in the given order, with the same τ²
estimator and test. As in metafor, the first step (one study) has τ² = 0, Q = 0 and a Wald (z)
interval whatever the test. Steps 2..k are fitted at once by the batch engine
(:func:`sbrtmeta.stats.random_effects.fit_random_effects_batch`).

Functions take arrays and return result objects; they do no I/O and no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbrtmeta.stats.inference import KNHA_SCALED, check_effect_sizes, check_level
from sbrtmeta.stats.influence import RefitSeries, refit_inference
from sbrtmeta.stats.random_effects import fit_random_effects_batch

TIE_BREAKS = ("n", "precision")


def accrual_order(year, n, v, tie_break: str = "n") -> np.ndarray:
    """Indices of the studies in the order they are added: by year (studies with no year
    last), ties by ``tie_break`` (``"n"``: larger sample first; ``"precision"``: smaller
    sampling variance first), then in the given order. This is R's
    ``order(year, -n, seq_along(n))`` or ``order(year, v, seq_along(v))``."""
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break {tie_break!r} is not one of {TIE_BREAKS}")
    year = np.asarray(year, dtype=float)
    second = -np.asarray(n, dtype=float) if tie_break == "n" else np.asarray(v, dtype=float)
    missing = np.isnan(year)
    # lexsort: the last key is the primary one
    return np.lexsort((np.arange(year.size), second, np.where(missing, 0.0, year), missing))


@dataclass(frozen=True)
class CumulativeResult(RefitSeries):
    """The model refitted as studies accrue (metafor's ``cumul()``).

    Element ``j`` of every array (the fields of :class:`sbrtmeta.stats.influence.RefitSeries`)
    describes the model of the first ``j + 1`` studies in ``order``.

    Attributes
    ----------
    order : the studies' indices (into the input arrays) in the order they are added.
    k : number of studies in each step (1..k).
    tau2_method, ci_method : as passed.
    """

    order: np.ndarray
    k: np.ndarray
    tau2_method: str
    ci_method: str


def cumulative(y, v, order=None, tau2_method: str = "REML", ci_method: str = "knha", level: float = 0.95):
    """Cumulative meta-analysis, as ``cumul(rma(yi, vi, method, test), order = order)``.

    ``order`` gives the indices of the studies in the order they are added (default: as
    given); it must be a permutation of ``0..k-1``.
    """
    y, v = check_effect_sizes(y, v)
    level = check_level(level)
    k = y.size
    order = np.arange(k) if order is None else np.asarray(order)
    if order.shape != (k,) or not np.array_equal(np.sort(order), np.arange(k)):
        raise ValueError(f"order must be a permutation of the {k} study indices")
    ys, vs = y[order], v[order]
    est, se = np.full(k, np.nan), np.full(k, np.nan)
    tau2, q, q_p, i2, h2 = (np.full(k, np.nan) for _ in range(5))
    df = np.full(k, np.nan)
    # step 1: one study, tau2 = 0 and z (metafor's k = 1 fit)
    est[0], se[0], tau2[0], q[0], q_p[0], i2[0], h2[0] = ys[0], np.sqrt(vs[0]), 0.0, 0.0, 1.0, 0.0, 1.0
    if k > 1:
        steps = np.arange(2, k + 1)
        present = np.arange(k)[None, :] < steps[:, None]
        yb = np.where(present, ys[None, :], np.nan)
        vb = np.where(present, vs[None, :], np.nan)
        fit = fit_random_effects_batch(yb, vb, tau2_method, ci_method, level)
        est[1:], se[1:], tau2[1:] = fit.estimate, fit.se, fit.tau2
        q[1:], q_p[1:], i2[1:], h2[1:] = fit.q, fit.q_p, fit.i2, fit.h2
        if ci_method in KNHA_SCALED:
            df[1:] = steps - 1
    zval, pval, ci_low, ci_high = refit_inference(est, se, df, level)
    return CumulativeResult(
        order=order,
        k=np.arange(1, k + 1),
        estimate=est,
        se=se,
        zval=zval,
        df=df,
        pval=pval,
        ci_low=ci_low,
        ci_high=ci_high,
        q=q,
        q_p=q_p,
        tau2=tau2,
        i2=i2,
        h2=h2,
        tau2_method=tau2_method,
        ci_method=ci_method,
    )
