"""Cumulative meta-analysis table: every pooled cell refitted as its studies accrue by year.

Per cell with two or more studies, metafor's ``cumul(res, order = ...)`` (computed by
:func:`sbrtmeta.stats.cumulative.cumulative` with the cell's τ² estimator and CI method,
back-transformed to proportions). Studies are added by publication year (studies with no
year last), a year's studies by the configured tie-break
(:func:`sbrtmeta.stats.cumulative.accrual_order`). GLMM cells (``pooling.model: glmm``) are
refitted with the GLMM at every step (``rma.glmm`` of the first k studies; metafor's ``cumul``
takes ``rma.uni`` models only, so this is the same accrual with the cell's own model). All cells go in
one table, ``results/tables/cumulative.csv``; :mod:`sbrtmeta.plots.cumulative` draws it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from sbrtmeta.analysis.leave_one_out import glmm_refit
from sbrtmeta.data.cells import CELL, row_place, with_years
from sbrtmeta.stats.cumulative import accrual_order, cumulative
from sbrtmeta.stats.effect_sizes import inverse_transform
from sbrtmeta.stats.inference import ci_subset, refit_tau2, wald_tests

# A step whose studies agree exactly: standard error 0, so its test statistic would be infinite.
ZERO_SE = "standard error 0 (the studies agree exactly): no test statistic"
MAX_STUDIES = 500  # the refits of a cell use k x k arrays: above this many studies they are skipped, and said so
REFIT_CI = ci_subset("knha", "adhoc", "z")  # what the refits offer; others fall back to z
COLUMNS = [
    *CELL,
    "step",
    "study_id",
    "label",
    "year",
    "n",
    "k",
    "transform",
    "tau2_method",
    "ci_method",
    "tie_break",
    "model_estimate",
    "se",
    "stat",
    "df",
    "p",
    "estimate",
    "ci_low",
    "ci_high",
    "tau2",
    "i2",
    "q",
    "q_p",
    "note",
]


def _glmm_steps(group: pd.DataFrame, order: np.ndarray, level: float) -> SimpleNamespace:
    """The GLMM of the first k studies in ``order``, k = 1..K, as the arrays of
    :func:`~sbrtmeta.stats.cumulative.cumulative` (logit scale; the first step is the study
    alone, Wald)."""
    k = len(group)
    steps = [glmm_refit(group, np.isin(np.arange(k), order[: j + 1]), level) for j in range(k)]
    col = {c: np.array([s[c] for s in steps], dtype=float) for c in ("estimate", "se", "ci_low", "ci_high")}
    zval, pval = wald_tests(col["estimate"], col["se"])
    more = {c: np.array([s[c] for s in steps], dtype=float) for c in ("tau2", "i2", "q", "q_p")}
    return SimpleNamespace(**col, **more, zval=zval, pval=pval, df=np.full(k, np.nan))


def refit_methods(cell) -> tuple[str, str, str]:
    """The τ² estimator and test with which a pooled cell is refitted, and a note when they are
    not the cell's own (GLMM, GENQ and GENQM cells: REML; CI methods other than knha and z: z)."""
    method = refit_tau2(cell.tau2_method)
    ci = cell.ci_method if cell.ci_method in REFIT_CI else "z"
    note = "" if method == cell.tau2_method else f"refitted with REML τ² (the cell's model is {cell.tau2_method})"
    if cell.tau2_method == "GLMM":
        note = "refitted with the inverse-variance model, REML τ² (the cell's GLMM has no such form here)"
    return method, ci, note


def cell_groups(pooled: pd.DataFrame, studies: pd.DataFrame, min_k: int):
    """``(cell, its studies)`` for every pooled cell of ``min_k`` or more studies, in table order."""
    keyed = studies.groupby(CELL, sort=False)
    for cell in pooled[pooled["k"] >= min_k].itertuples():
        key = tuple(getattr(cell, c) for c in CELL)
        yield cell, keyed.get_group(key)


def too_many(cell, group: pd.DataFrame, max_studies: int, method: str) -> dict | None:
    """The row of a cell with more than ``max_studies`` studies, which is not refitted."""
    if len(group) <= max_studies:
        return None
    note = f"not computed: k = {len(group)} > {max_studies} (sensitivity max_studies)"
    return dict(**row_place(cell), k=len(group), tau2_method=method, note=note)


def _cell_rows(cell, group: pd.DataFrame, tie_break: str, level: float, max_studies: int) -> list[dict]:
    glmm = str(getattr(cell, "model", "")) == "GLMM"
    method, ci, note = ("GLMM", "z", "") if glmm else refit_methods(cell)
    skipped = too_many(cell, group, max_studies, method)
    if skipped:
        return [skipped]
    yi, vi = group["yi"].to_numpy(float), group["vi"].to_numpy(float)
    n = group["n"].to_numpy(float)
    year = pd.to_numeric(group["year"], errors="coerce").to_numpy(float)
    order = accrual_order(year, n, vi, tie_break)
    try:
        res = _glmm_steps(group, order, level) if glmm else cumulative(yi, vi, order, method, ci, level)
    except (ValueError, RuntimeError, FloatingPointError, np.linalg.LinAlgError) as exc:
        return [dict(**row_place(cell), k=len(group), tau2_method=method, note=f"not estimable: {exc}")]
    transform = str(cell.transform)
    rows = []
    for j, i in enumerate(order):
        sub = n[order[: j + 1]]
        back = [float(inverse_transform(x, transform, sub)) for x in (res.estimate[j], res.ci_low[j], res.ci_high[j])]
        s = group.iloc[i]
        first_ci = "z"
        if j == 0 and "study_ci" in group:  # the study alone: its own interval (pooled_studies.csv)
            back[1], back[2], first_ci = float(s["ci_low"]), float(s["ci_high"]), str(s["study_ci"])
        rows.append(
            dict(
                **row_place(cell),
                step=j + 1,
                study_id=s["study_id"],
                label=s["label"],
                year=year[i],
                n=int(n[i]),
                k=j + 1,
                transform=transform,
                tau2_method=method,
                ci_method=ci if j else first_ci,
                tie_break=tie_break,
                model_estimate=res.estimate[j],
                se=res.se[j],
                stat=res.zval[j] if np.isfinite(res.zval[j]) else np.nan,  # se 0: no statistic (note)
                df=res.df[j],
                p=res.pval[j],
                estimate=back[0],
                ci_low=back[1],
                ci_high=back[2],
                tau2=res.tau2[j],
                i2=res.i2[j],
                q=res.q[j],
                q_p=res.q_p[j],
                note="; ".join(
                    filter(
                        None,
                        [
                            note,
                            "" if np.isfinite(year[i]) else "no year: added last",
                            "" if np.isfinite(res.zval[j]) else ZERO_SE,
                        ],
                    )
                ),
            )
        )
    return rows


def cumulative_table(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    included: pd.DataFrame,
    tie_break: str = "n",
    level: float = 0.95,
    max_studies: int = MAX_STUDIES,
) -> pd.DataFrame:
    """The cumulative meta-analysis of every pooled cell with two or more studies, one row per
    step (the model of the first ``k`` studies), all cells in one table (columns
    :data:`COLUMNS`). ``included`` gives the studies' years. A cell of more than ``max_studies``
    studies gets one row saying it was not computed."""
    studies = with_years(studies, included)
    if "year" not in studies:
        studies = studies.assign(year=np.nan)
    out = []
    for cell, group in cell_groups(pooled, studies, 2):
        out += _cell_rows(cell, group, tie_break, level, max_studies)
    return pd.DataFrame(out, columns=COLUMNS)
