"""Small-study tables behind the funnel plots: Egger's test and trim and fill per pooled cell.

For one endpoint × time point, :func:`funnel_panels` gives per site (and histology) pooled
from at least ``sensitivity.funnel.min_studies.plot`` studies (3) the studies on the model's
scale (``yi``, ``sei``, ``n``), the pooled estimate on that scale, the regression test for
funnel asymmetry (metafor's ``regtest(res, predictor = ...)``: the model's τ² estimator and test; predictor the standard
error for Egger's test, or 1/n etc. from config ``sensitivity.funnel.predictor``;
:func:`sbrtmeta.stats.small_study.regtest`) with its fitted line ``yi = b0 + b1·predictor``,
where the site has at least ``min_studies.test`` studies (10, after Sterne et al., BMJ
2011;343:d4002), and trim and fill (``trimfill(res)``, estimator L0;
:func:`sbrtmeta.stats.small_study.trimfill`) with the imputed studies. It also gives where
round percentages fall on each panel's scale, so that :mod:`sbrtmeta.plots.funnel` draws
the tables without a transform of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sbrtmeta.data.cells import cell_studies, select_rows
from sbrtmeta.stats.effect_sizes import forward_transform
from sbrtmeta.stats.inference import ci_subset, tau2_subset
from sbrtmeta.stats.small_study import regtest, trimfill

# the funnel's vertical axis (config sensitivity.funnel.axis) and the regression test's predictor
FUNNEL_AXES = ("sample_size", "inverse_sqrt_n", "standard_error")
PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtninv")
# A funnel plot from this many studies, a regression test from this many (Sterne et al., BMJ 2011;343:d4002:
# tests for funnel asymmetry need at least ten); config sensitivity.funnel.min_studies
MIN_STUDIES = {"plot": 3, "test": 10}
MAX_TRIMFILL_K = 2000  # trim and fill iterates k-study fits: above this many studies it is skipped, and said so
# what both regtest and trimfill offer; other estimators fall back to REML
FUNNEL_TAU2 = tau2_subset("REML", "DL", "FE")
FUNNEL_CI = ci_subset("z", "knha", "adhoc")
# Round percentages whose position on each panel's scale is tabulated (the plot picks its ticks among them).
PERCENTS = (0.1, 0.5, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99, 99.5, 99.9)
PANEL_COLUMNS = [
    "panel",
    "site",
    "histology",
    "k",
    "transform",
    "estimate",
    "egger_stat",
    "egger_df",
    "egger_p",
    "egger_b0",
    "egger_b1",
    "predictor",
    "axis",
    "k0",
    "side",
    "tau2_method",
    "note",
]


@dataclass(frozen=True)
class FunnelTests:
    """Egger's test and trim and fill of one panel.

    ``egger_*`` come from :func:`sbrtmeta.stats.small_study.regtest` (Egger et al., BMJ
    1997;315:629-634; metafor's ``regtest``; NaN below three studies): the statistic (t with
    ``egger_df`` df under Knapp-Hartung, else z), its p-value, and the fitted line
    ``b0 + b1·sei``. ``k0``, ``side`` and ``filled_yi``/``filled_sei`` come from
    :func:`sbrtmeta.stats.small_study.trimfill` (Duval & Tweedie, Biometrics 2000;56:455-463;
    metafor's ``trimfill``, estimator L0): the imputed studies, each the reflection of the observed
    study ``filled_mirrors`` indexes. ``tau2_method`` is the
    estimator used; ``note`` says why a test was not done.
    """

    egger_stat: float = float("nan")
    egger_df: int | None = None
    egger_p: float = float("nan")
    egger_b0: float = float("nan")
    egger_b1: float = float("nan")
    k0: int | None = None
    side: str = ""
    filled_yi: np.ndarray = field(default_factory=lambda: np.empty(0))
    filled_sei: np.ndarray = field(default_factory=lambda: np.empty(0))
    filled_mirrors: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    tau2_method: str = ""
    note: str = ""


@dataclass(frozen=True)
class FunnelTables:
    """What a funnel figure draws for one endpoint × time point.

    ``panels``: one row per site (and histology) with two or more studies, in ``pooled``
    order, columns :data:`PANEL_COLUMNS` (``estimate`` on the model's scale). ``points``:
    ``panel``, ``yi``, ``sei``, ``n`` and ``imputed`` (True for the studies trim and fill adds,
    with the ``sei`` and ``n`` of the study each reflects).
    ``percents``: ``panel``, ``percent`` and ``x``, the position of each of :data:`PERCENTS`
    on the panel's scale.
    """

    panels: pd.DataFrame
    points: pd.DataFrame
    percents: pd.DataFrame


def _egger(yi, vi, method: str, ci: str, level: float, predictor: str = "sei", ni=None) -> tuple[dict, list[str]]:
    try:
        r = regtest(yi, vi, model="rma", predictor=predictor, tau2_method=method, ci_method=ci, level=level, ni=ni)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {}, [f"regression test: not estimable ({exc})"]
    fields = dict(
        egger_stat=float(r.zval),
        egger_df=r.df,
        egger_p=float(r.pval),
        egger_b0=float(r.fit.coef[0]),
        egger_b1=float(r.fit.coef[1]),
    )
    return fields, []


def _trimfill(yi, vi, method: str, level: float, max_trimfill: int) -> tuple[dict, list[str]]:
    if yi.size > max_trimfill:
        return {}, [f"trim and fill: not run (k > {max_trimfill})"]
    try:
        tf = trimfill(yi, vi, tau2_method=method, estimator="L0", level=level)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {}, [f"trim and fill: not estimable ({exc})"]
    filled = dict(filled_yi=tf.yi[tf.filled], filled_sei=np.sqrt(tf.vi[tf.filled]), filled_mirrors=tf.mirrors)
    return dict(k0=int(tf.k0), side=tf.side, **filled), []


def funnel_tests(
    yi,
    vi,
    tau2_method: str = "REML",
    ci_method: str = "knha",
    level: float = 0.95,
    max_trimfill: int = MAX_TRIMFILL_K,
    predictor: str = "sei",
    ni=None,
    min_test: int = 3,
) -> FunnelTests:
    """The regression test (``regtest(res, predictor = predictor)``; ``"sei"`` is Egger's test,
    the others need the sample sizes ``ni``) and trim and fill (``trimfill(res)``, L0) for one panel.

    ``tau2_method`` and ``ci_method`` are the pooled model's; estimators the
    regression test and trim and fill do not offer (ML, PM, EB, HE, HS, SJ, GLMM) fall
    back to REML, and ``tau2_method`` says which was used. Trim and fill refits with
    a z test, as metafor's ``trimfill()`` does by default. Fewer than three studies
    give no tests; fewer than ``min_test`` (at least 3) give trim and fill only; more than
    ``max_trimfill`` give the regression test only.
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.size < 3:
        return FunnelTests(note="k < 3: no test")
    method = tau2_method if tau2_method in FUNNEL_TAU2 else "REML"
    ci = ci_method if ci_method in FUNNEL_CI else "z"
    notes = [] if method == tau2_method else ["tests with REML τ²"]
    if yi.size >= min_test:
        egger, egger_notes = _egger(yi, vi, method, ci, level, predictor, ni)
    else:
        egger, egger_notes = {}, [f"k < {min_test}: no regression test (Sterne et al., BMJ 2011)"]
    fill, fill_notes = _trimfill(yi, vi, method, level, max_trimfill)
    return FunnelTests(**egger, **fill, tau2_method=method, note="; ".join(notes + egger_notes + fill_notes))


def _panel_row(i: int, cell, transform: str, mu: float, t: FunnelTests, predictor="sei", axis="standard_error") -> dict:
    hist = getattr(cell, "histology", "")
    return dict(
        panel=i,
        site=cell.site,
        histology=hist if isinstance(hist, str) else "",
        k=int(cell.k),
        transform=transform,
        estimate=mu,
        egger_stat=t.egger_stat,
        egger_df=t.egger_df,
        egger_p=t.egger_p,
        egger_b0=t.egger_b0,
        egger_b1=t.egger_b1,
        predictor=predictor,
        axis=axis,
        k0=t.k0,
        side=t.side,
        tau2_method=t.tau2_method,
        note=t.note,
    )


def funnel_panels(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    endpoint: str,
    timepoint_months: float,
    max_trimfill: int = MAX_TRIMFILL_K,
    level: float = 0.95,
    predictor: str = "sei",
    axis: str = "standard_error",
    min_studies: dict | None = None,
) -> FunnelTables:
    """The funnel tables of the sites with ``min_studies["plot"]`` or more studies (default
    :data:`MIN_STUDIES`, config ``sensitivity.funnel.min_studies``) for ``endpoint`` at
    ``timepoint_months``; the regression test where a site has ``min_studies["test"]`` or more.

    ``predictor`` is the regression test's (one of :data:`PREDICTORS`, as ``regtest(predictor =)``)
    and ``axis`` the vertical axis the plot draws (one of :data:`FUNNEL_AXES`); the points
    table carries each study's ``n`` for the sample-size axes.

    ``pooled`` and ``studies`` are the tables of :func:`sbrtmeta.analysis.pooling.pool_cells`.
    Every panel is on the scale of the first cell's transform; the pooled estimate is the
    cell's ``model_estimate`` where the table has it, else its estimate transformed.
    """
    if predictor not in PREDICTORS or axis not in FUNNEL_AXES:
        raise ValueError(f"predictor must be one of {PREDICTORS} and axis one of {FUNNEL_AXES}")
    cells = select_rows(pooled, endpoint, timepoint_months)
    least = {**MIN_STUDIES, **(min_studies or {})}
    cells = cells[cells["k"] >= least["plot"]]
    rows = select_rows(studies, endpoint, timepoint_months)
    transform = str(cells["transform"].iloc[0]) if "transform" in cells and len(cells) else "PLO"
    panels, points, percents = [], [], []
    for i, cell in enumerate(cells.itertuples()):
        group = cell_studies(cell, rows)
        n = group["n"].to_numpy(float)
        mu = float(getattr(cell, "model_estimate", np.nan))
        if not np.isfinite(mu):
            mu = float(forward_transform(cell.estimate, transform, n))
        yi, vi = group["yi"].to_numpy(float), group["vi"].to_numpy(float)
        t = funnel_tests(
            yi,
            vi,
            str(getattr(cell, "tau2_method", "REML")),
            str(getattr(cell, "ci_method", "knha")),
            level=level,
            max_trimfill=max_trimfill,
            predictor=predictor,
            ni=n,
            min_test=least["test"],
        )
        panels.append(_panel_row(i, cell, transform, mu, t, predictor, axis))
        points.append(pd.DataFrame(dict(panel=i, yi=yi, sei=np.sqrt(vi), n=n, imputed=False)))
        # an imputed study is the reflection of an observed one: it has that study's variance and sample size
        points.append(
            pd.DataFrame(dict(panel=i, yi=t.filled_yi, sei=t.filled_sei, n=n[t.filled_mirrors], imputed=True))
        )
        x = forward_transform(np.array(PERCENTS) / 100, transform, n)
        percents.append(pd.DataFrame(dict(panel=i, percent=PERCENTS, x=x)))
    empty = dict(points=["panel", "yi", "sei", "n", "imputed"], percents=["panel", "percent", "x"])
    return FunnelTables(
        panels=pd.DataFrame(panels, columns=PANEL_COLUMNS),
        points=pd.concat(points, ignore_index=True) if points else pd.DataFrame(columns=empty["points"]),
        percents=pd.concat(percents, ignore_index=True) if percents else pd.DataFrame(columns=empty["percents"]),
    )
