"""Leave-one-out table: each pooled cell of a site refitted with each study omitted in turn.

Per cell with ``min_k`` or more studies, metafor's ``leave1out(res)`` (computed by
:func:`sbrtmeta.stats.influence.leave1out` with the cell's τ² estimator and CI method,
back-transformed to proportions), then the estimate on all studies, taken from
``pooled.csv``. :mod:`sbrtmeta.plots.leave_one_out` draws this table, so the numbers drawn
are the numbers written to ``leave_one_out_<site>.csv``. Cells with more than
``max_studies`` studies are not refitted k times: the table says so. A GLMM cell
(``pooling.model: glmm``) is refitted with the GLMM (``rma.glmm``) without each study in turn,
so its rows are the model of its "All studies" row. A study that gives several rows to a cell
(several arms) leaves as a whole (``leave1out(res, cluster = study)``), one row per study.
With ``back_transform="mean"`` (``pooling.back_transform``) each refit's estimate and CI are
mean rates over its own τ², as the "All studies" row of ``pooled.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.data.cells import select_rows
from sbrtmeta.stats.effect_sizes import MEAN_MEASURES, inverse_transform, mean_inverse_transform
from sbrtmeta.stats.inference import ci_subset, refit_tau2
from sbrtmeta.stats.influence import leave1out
from sbrtmeta.stats.proportions import pool_effect_sizes

MIN_K = 3
MAX_STUDIES = 100
LOO_CI = ci_subset("knha", "adhoc", "z")  # what leave1out offers; others fall back to z
COLUMNS = [
    "site",
    "histology",
    "endpoint",
    "timepoint_months",
    "row",
    "study_id",
    "label",
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "tau2",
    "i2",
    "tau2_method",
    "ci_method",
]


def site_slug(site: str) -> str:
    """``"lymph node"`` → ``"lymph_node"``: the site as it appears in file names."""
    return str(site).replace(" ", "_")


def sites_with_leave_one_out(pooled: pd.DataFrame, min_k: int = MIN_K) -> list[str]:
    """Sites with at least one pooled cell of ``min_k`` or more studies, sorted."""
    return sorted(pooled.loc[pooled["k"] >= min_k, "site"].unique())


def _cells(pooled: pd.DataFrame, site: str, min_k: int) -> pd.DataFrame:
    cells = pooled[(pooled["site"] == site) & (pooled["k"] >= min_k)]
    keys = [c for c in ("endpoint", "timepoint_months", "histology") if c in cells]
    return cells.sort_values(keys, kind="stable")


def _cell_group(studies: pd.DataFrame, cell, site: str) -> pd.DataFrame:
    group = select_rows(studies, cell.endpoint, cell.timepoint_months)
    group = group[group["site"] == site]
    if "histology" in group and hasattr(cell, "histology"):
        group = group[group["histology"] == cell.histology]
    return group


def _rates(values, transform: str, rest_n, tau2: float, back_transform: str) -> list[float]:
    """A refit's estimate and CI bounds as proportions: the back-transform, or the mean rate over
    N(value, τ²) (``back_transform="mean"``, where the measure has one)."""
    if back_transform == "mean" and transform in MEAN_MEASURES:
        return [mean_inverse_transform(x, transform, tau2) for x in values]
    return [float(inverse_transform(x, transform, rest_n)) for x in values]


def _omitted_rows(
    key: dict, cell, group: pd.DataFrame, method: str, ci: str, level: float, back_transform: str = "median"
) -> list[dict]:
    """One row per study: the model refitted without it (without all its rows when it gives the
    cell several), back-transformed to a proportion."""
    transform = str(cell.transform)
    ids = group["study_id"].to_numpy()
    several = bool(pd.Series(ids).duplicated().any())
    y, v = group["yi"].to_numpy(float), group["vi"].to_numpy(float)
    res = leave1out(y, v, method, ci, level, cluster=ids if several else None)
    n = group["n"].to_numpy(float)
    k = len(group)
    first = group.drop_duplicates("study_id").set_index("study_id") if several else None
    out = []
    for i, left in enumerate(res.omitted):
        drop = ids == left if several else np.arange(k) == i
        s = first.loc[left] if several else group.iloc[i]
        label = str(s["label"]) + (f" ({int(drop.sum())} arms)" if drop.sum() > 1 else "")
        values = (res.estimate[i], res.ci_low[i], res.ci_high[i])
        back = _rates(values, transform, n[~drop], float(res.tau2[i]), back_transform)
        out.append(
            dict(
                key,
                row="omitted",
                study_id=left if several else s["study_id"],
                label=label,
                k=k - int(drop.sum()),
                estimate=back[0],
                ci_low=back[1],
                ci_high=back[2],
                tau2=float(res.tau2[i]),
                i2=float(res.i2[i]),
                tau2_method=method,
                ci_method=ci,
            )
        )
    return out


def glmm_refit(group: pd.DataFrame, keep: np.ndarray, level: float) -> dict:
    """The GLMM (``rma.glmm(measure = "PLO")``) of the studies ``keep`` of ``group`` (one study:
    itself, Wald on the logit scale): logit estimate, se and CI, τ², I², Q (NaN where the GLMM has
    no estimate, the reason in ``error``)."""
    sub = group.iloc[np.flatnonzero(keep)]
    names = ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q", "q_p")
    try:
        fit = pool_effect_sizes(
            sub["yi"].to_numpy(float),
            sub["vi"].to_numpy(float),
            sub["events"].to_numpy(float),
            sub["n"].to_numpy(float),
            model="glmm",
            level=level,
        )
    except (ValueError, RuntimeError, FloatingPointError, np.linalg.LinAlgError) as exc:
        return dict.fromkeys(names, np.nan) | dict(error=str(exc))
    out = {c: float(getattr(fit, c)) for c in names}
    if len(sub) == 1:
        out.update(tau2=0.0, i2=0.0, q=0.0, q_p=1.0)
    return out | dict(error="")


def _omitted_glmm_rows(key: dict, group: pd.DataFrame, level: float, back_transform: str = "median") -> list[dict]:
    """One row per study: the GLMM refitted without it."""
    k = len(group)
    out = []
    for i, s in enumerate(group.itertuples()):
        fit = glmm_refit(group, np.arange(k) != i, level)
        row = dict(key, row="omitted", study_id=s.study_id, label=str(s.label), k=k - 1)
        values = [fit[c] for c in ("estimate", "ci_low", "ci_high")]
        row.update(zip(("estimate", "ci_low", "ci_high"), _rates(values, "PLO", None, fit["tau2"], back_transform)))
        row.update(tau2=fit["tau2"], i2=fit["i2"])
        out.append(dict(row, tau2_method="GLMM", ci_method="z"))
    return out


def _all_row(key: dict, cell) -> dict:
    """The estimate on all studies, as ``pooled.csv`` has it."""
    return dict(
        key,
        row="all",
        study_id="",
        label="All studies",
        k=int(cell.k),
        estimate=cell.estimate,
        ci_low=cell.ci_low,
        ci_high=cell.ci_high,
        tau2=cell.tau2,
        i2=cell.i2,
        tau2_method=cell.tau2_method,
        ci_method=cell.ci_method,
    )


def leave_one_out_table(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    site: str,
    min_k: int = MIN_K,
    max_studies: int = MAX_STUDIES,
    level: float | None = None,
    back_transform: str = "median",
) -> pd.DataFrame:
    """The leave-one-out estimates (proportions) of ``site``'s cells with ``min_k`` or more studies.

    Per cell: one row ``row="omitted"`` per study (the model without it), then a
    row ``row="all"`` with the estimate on all studies from ``pooled``. A cell with
    more than ``max_studies`` studies gets only its ``"all"`` row and one row
    ``row="not computed"``. Estimators leave1out does not offer fall back to REML
    (``tau2_method`` says which was used). ``back_transform`` is ``pooling.back_transform``
    (module text).
    """
    out = []
    level = level if level is not None else 0.95
    for cell in _cells(pooled, site, min_k).itertuples():
        group = _cell_group(studies, cell, site)
        key = dict(
            site=site,
            histology=getattr(cell, "histology", ""),
            endpoint=cell.endpoint,
            timepoint_months=float(cell.timepoint_months),
        )
        method = refit_tau2(cell.tau2_method)
        ci = cell.ci_method if cell.ci_method in LOO_CI else "z"
        k = len(group)
        if k > max_studies:
            label = f"k = {k} > {max_studies}"
            out.append(dict(key, row="not computed", study_id="", label=label, k=k, tau2_method=method, ci_method=ci))
        elif str(getattr(cell, "model", "")) == "GLMM":
            out += _omitted_glmm_rows(key, group, level, back_transform)
        else:
            out += _omitted_rows(key, cell, group, method, ci, level, back_transform)
        out.append(_all_row(key, cell))
    return pd.DataFrame(out, columns=COLUMNS)
