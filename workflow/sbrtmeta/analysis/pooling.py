"""Pooling of proportions per site × endpoint × time point.

Glue between the tidy tables and the estimators: it groups the included rows
into cells, computes effect sizes (:mod:`sbrtmeta.stats.effect_sizes`), pools each cell
(:func:`sbrtmeta.stats.proportions.pool_effect_sizes`, the library's ``pool_proportions``
underneath) and returns tables on the proportion scale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.data.cells import TARGET_CELL, cell_place
from sbrtmeta.data.errors import InputError
from sbrtmeta.data.study_labels import label_rows, study_names
from sbrtmeta.stats.effect_sizes import boundary_studies, proportion_effect_sizes, study_interval
from sbrtmeta.stats.inference import REGRESSION_TAU2
from sbrtmeta.stats.meta_regression import subgroup_test
from sbrtmeta.stats.proportions import POOLED_FIELDS, check_model, pool_effect_sizes

_LOG = logging.getLogger(__name__)

POOLED_COLUMNS = (
    "site",
    "histology",
    "endpoint",
    "timepoint_months",
    "k",
    "k_mixed_primaries",
    "n_total",
    *POOLED_FIELDS,  # model, transform, tau2_method, ci_method, model_estimate, estimate ... q_p
    "studies",
)
# pooled_studies.csv: one row per study of a cell (written with this header when nothing is pooled)
STUDY_COLUMNS = (
    "site",
    "histology",
    "endpoint",
    "timepoint_months",
    "study_id",
    "label",
    "arm",
    "primary",
    "mixed_primaries",
    "events",
    "n",
    "rate",
    "yi",
    "vi",
    "estimate",
    "ci_low",
    "ci_high",
    "study_ci",
    "weight_pct",
    "continuity_add",
    "continuity_to",
)


# the study intervals and continuity correction of sensitivity: in config (escalc's defaults)
def _histology_groups(included: pd.DataFrame, by: str) -> pd.DataFrame:
    """The histology a cell pools: the review's (``by="review"``: a colorectal review's
    mixed-primary studies pool with its colorectal ones, and are counted) or the
    row's own (``by="row"``: mixed primaries form their own cells)."""
    out = included.copy()
    if "review_histology" not in out:  # tables made before histology existed
        out["histology"] = out.get("histology", "unspecified")
        return out
    if by == "review":
        out["row_histology"] = out["histology"]
        out["histology"] = out["review_histology"]
    elif by != "row":
        raise ValueError(f"histology grouping {by!r} is not 'review' or 'row'")
    return out


def _study_table(place, cell, labels, mixed, yi, vi, weights, level, transform, n, study_ci="wald", cc=(0.5, "only0")):
    """One row per study of a cell: its own estimate, CI (``study_ci``: Wald on the model's
    scale, or an interval of :func:`sbrtmeta.stats.effect_sizes.study_intervals`) and weight
    (what a forest plot draws)."""
    # whole columns at once (a cell may hold thousands of studies); the back-transform is elementwise
    est, lo, hi = study_interval(cell["events"].to_numpy(float), n, yi, vi, transform, study_ci, level)
    return pd.DataFrame(
        dict(
            **place,
            study_id=cell["study_id"].to_numpy(),
            label=labels,
            arm=cell["arm"].to_numpy(),
            primary=cell["primary"].to_numpy(),
            mixed_primaries=mixed.to_numpy(dtype=bool),
            events=cell["events"].to_numpy(dtype=int),
            n=cell["n"].to_numpy(dtype=int),
            rate=cell["rate"].to_numpy(dtype=float),
            yi=yi,
            vi=vi,
            estimate=est.astype(float),
            ci_low=lo.astype(float),
            ci_high=hi.astype(float),
            study_ci=study_ci,
            weight_pct=np.asarray(weights, dtype=float),
            continuity_add=cc[0],
            continuity_to=cc[1],
        )
    )


def cell_effect_sizes(cell: pd.DataFrame, transform: str, add: float = 0.5, to: str = "only0"):
    """``yi``, ``vi`` of a cell's rows, as ``escalc(transform, add = add, to = to)``. A study
    whose value is undefined (0 % or 100 % with no correction under PLO or PR) stops the run
    with an :class:`InputError` naming it."""
    x, n = cell["events"].to_numpy(float), cell["n"].to_numpy(float)
    bad = boundary_studies(x, n, transform, add, to)
    if bad.size:
        r = cell.iloc[int(bad[0])]
        raise InputError(
            f"{int(r['events'])} of {int(r['n'])} events ({r['site']}, {r['endpoint']} at "
            f"{float(r['target_timepoint_months']):g} months): with sensitivity.continuity.to = {to!r} "
            f"nothing is added, so its {transform} value is undefined; use only0, if0all or all",
            file="results/tables/included.csv",
            row=f"study {r['study_id']} arm {r['arm']}",
            column="events",
            value=int(r["events"]),
        )
    return proportion_effect_sizes(x, n, transform, add, to)


def target_columns(targets: dict | None) -> list[str]:
    """pooled.csv's columns for ``pooling.targets`` (endpoint -> cutoffs as proportions): for each
    distinct cutoff, sorted, ``share_above_<percent>`` and its ``_low`` and ``_high`` bounds."""
    cutoffs = sorted({float(c) for cuts in (targets or {}).values() for c in cuts})
    return [f"share_above_{100 * c:g}{end}" for c in cutoffs for end in ("", "_low", "_high")]


def _target_fields(fit, endpoint: str, targets: dict | None) -> dict:
    """The shares of true rates above the cutoffs of ``endpoint`` (NaN under other endpoints' cutoffs)."""
    out = dict.fromkeys(target_columns(targets), np.nan)
    for cutoff in (targets or {}).get(endpoint, []):
        name = f"share_above_{100 * float(cutoff):g}"
        out[name], out[name + "_low"], out[name + "_high"] = fit.share_above(float(cutoff))
    return out


def cell_keys(included: pd.DataFrame, histology: str = "review") -> set[tuple]:
    """The cells :func:`pool_cells` makes of ``included`` (``histology``: config ``pooling.histology``), as
    ``(site, histology, endpoint, target time point)`` tuples, without pooling them."""
    grouped = _histology_groups(included, histology)
    return {(s, h, e, float(t)) for s, h, e, t in grouped[TARGET_CELL].drop_duplicates().itertuples(index=False)}


def pool_cells(
    included: pd.DataFrame,
    transform: str = "PLO",
    tau2_method: str = "REML",
    ci_method: str = "knha",
    level: float = 0.95,
    model: str = "random-effects",
    histology: str = "review",
    study_ci: str = "wald",
    add: float = 0.5,
    to: str = "only0",
    targets: dict | None = None,
    pi_df: str = "metafor",
    back_transform: str = "median",
):
    """Pool every cell of ``included``.

    ``model`` is ``"random-effects"`` (inverse-variance, ``rma``) or ``"glmm"`` (the
    binomial-normal model of ``rma.glmm``, logit scale only).
    Returns ``(pooled, studies)``: one row per cell, and one row per study with its
    own estimate, CI and weight in the cell (what a forest plot draws). A cell with
    one study reports that study, with its own interval (``study_ci``, column ``ci_method``,
    :func:`sbrtmeta.stats.effect_sizes.study_interval`); it is not a fit.
    ``study_ci`` is the studies' interval in ``studies`` (``"wald"`` on the model's scale, or
    one of :data:`sbrtmeta.stats.effect_sizes.STUDY_CI_METHODS`); ``add`` and ``to`` are the
    continuity correction (:func:`cell_effect_sizes`). ``targets`` (``pooling.targets``:
    endpoint -> cutoffs) add each cutoff's share of true rates above it and its interval
    (:meth:`sbrtmeta.stats.proportions.PooledProportion.share_above`, metafor's
    ``predict(prob = ">c")``) as the last columns (:func:`target_columns`). ``pi_df`` and
    ``back_transform`` are :func:`sbrtmeta.stats.proportions.pool_effect_sizes`'s.
    """
    check_model(model, transform)
    pooled, studies = [], []
    included = _histology_groups(included, histology)
    names = study_names(included)  # a row without an author is named as its study's other rows name it
    for key, cell in included.groupby(TARGET_CELL, sort=True):
        cell = cell.reset_index(drop=True)
        x = cell["events"].to_numpy(dtype=float)
        n = cell["n"].to_numpy(dtype=float)
        yi, vi = cell_effect_sizes(cell, transform, add, to)
        # a cell of one study: the study itself, with its own interval, as in every table and figure
        fit = pool_effect_sizes(
            yi, vi, x, n, transform, model, tau2_method, ci_method, level, study_ci, pi_df, back_transform
        )
        row, weights = fit.pooled_row(), fit.weights
        mixed = (cell["row_histology"] if "row_histology" in cell else cell["histology"]) == "mixed"
        labels = label_rows(cell, names=names)
        place = cell_place(*key)
        summary = dict(k=len(cell), k_mixed_primaries=int(mixed.sum()), n_total=int(n.sum()))
        shares = _target_fields(fit, place["endpoint"], targets)
        pooled.append(dict(**place, **summary, studies="; ".join(labels), **row, **shares))
        studies.append(
            _study_table(place, cell, labels, mixed, yi, vi, weights, level, transform, n, study_ci, (add, to))
        )
    pooled = pd.DataFrame(pooled, columns=list(POOLED_COLUMNS) + target_columns(targets))
    studies = pd.concat(studies, ignore_index=True) if studies else pd.DataFrame(columns=list(STUDY_COLUMNS))
    return pooled, studies


def not_pooled(
    included: pd.DataFrame, excluded: pd.DataFrame, sites, endpoints, histology: str = "review"
) -> pd.DataFrame:
    """What could not be pooled and why: each selected site × histology × endpoint with
    rows in the data but nothing pooled (with the count of rows per exclusion
    criterion), and each selected site with no rows at all."""
    out = []
    inc = _histology_groups(included, histology)
    exc = _histology_groups(excluded, histology)
    have = set(zip(inc["site"], inc["histology"], inc["endpoint"]))
    for (site, hist, endpoint), rows in exc.groupby(["site", "histology", "endpoint"], sort=True):
        if site not in sites or endpoint not in endpoints or (site, hist, endpoint) in have:
            continue
        counts = rows["criterion"].value_counts().sort_index()
        why = "; ".join(f"{c}: {k} row{'s' if k > 1 else ''}" for c, k in counts.items())
        details = "; ".join(sorted(set(rows["detail"])))
        out.append(dict(site=site, histology=hist, endpoint=endpoint, rows=len(rows), reason=why, detail=details))
    present = set(inc["site"]) | set(exc["site"])
    for site in sites:
        if site not in present:
            out.append(
                dict(
                    site=site,
                    histology="",
                    endpoint="",
                    rows=0,
                    reason="no rows in the data",
                    detail="no configured sheet has a row for this site",
                )
            )
    return pd.DataFrame(out, columns=["site", "histology", "endpoint", "rows", "reason", "detail"])


SUBGROUP_COLUMNS = (
    "histology",
    "endpoint",
    "timepoint_months",
    "sites",
    "k",
    "transform",
    "tau2_method",
    "ci_method",
    "test",
    "qm",
    "df1",
    "df2",
    "p",
    "tau2",
    "model",
)
IV_MODEL = "random effects (inverse variance)"
GLMM_NO_TEST = (
    "random effects (inverse variance): the GLMM (pooling.model) has no test for subgroup differences here, "
    "so this test uses the inverse-variance model"
)


def _subgroup_row(cell, sites, transform, method, ci_method, level, add=0.5, to="only0") -> dict:
    """The QM test of ``factor(site)`` in one endpoint × time point, as a row (without its place)."""
    yi, vi = cell_effect_sizes(cell, transform, add, to)
    res = subgroup_test(yi, vi, cell["site"].to_numpy(), method, ci_method, level)
    df1, df2 = res.QM_df
    return dict(
        sites="; ".join(sites),
        k=len(cell),
        transform=transform,
        tau2_method=method,
        ci_method=ci_method,
        test="F" if df2 is not None else "chi2",
        qm=res.QM,
        df1=df1,
        df2=df2 if df2 is not None else np.nan,
        p=res.QM_p,
        tau2=res.tau2,
    )


def subgroup_differences(
    included: pd.DataFrame,
    transform: str = "PLO",
    tau2_method: str = "REML",
    ci_method: str = "knha",
    level: float = 0.95,
    histology: str = "review",
    add: float = 0.5,
    to: str = "only0",
    model: str = "random-effects",
) -> pd.DataFrame:
    """Test for differences between sites, per endpoint × time point, as the QM test of
    ``rma(yi, vi, mods = ~ factor(site))`` (one common τ²). Cells with fewer than two
    sites, or no more studies than sites, have no test. Estimators the meta-regression
    does not offer fall back to REML, and the table says so; with ``model="glmm"`` the
    ``model`` column says in words that the test is the inverse-variance one."""
    out = []
    method = tau2_method if tau2_method in REGRESSION_TAU2 else "REML"  # what the subgroup test supports
    included = _histology_groups(included, histology)
    for (hist, endpoint, t), cell in included.groupby(TARGET_CELL[1:], sort=True):
        sites = sorted(cell["site"].unique())
        if len(sites) < 2 or len(cell) <= len(sites):
            continue
        place = dict(histology=hist, endpoint=endpoint, timepoint_months=float(t))
        row = _subgroup_row(cell, sites, transform, method, ci_method, level, add, to)
        out.append(dict(**place, **row, model=GLMM_NO_TEST if model == "glmm" else IV_MODEL))
    return pd.DataFrame(out, columns=list(SUBGROUP_COLUMNS))


@dataclass(frozen=True)
class PoolingOptions:
    """How every cell is pooled, built once from the validated config (:meth:`from_config`):
    config's ``pooling`` section and the study intervals and continuity correction of its
    ``sensitivity`` section. The schema (``workflow/schemas/config.schema.yaml``) is the one
    source of their defaults, which Snakemake's ``validate`` fills in."""

    transform: str
    tau2_method: str
    ci_method: str
    level: float
    model: str
    histology: str
    study_ci: str
    add: float
    to: str
    targets: dict
    pi_df: str = "metafor"
    back_transform: str = "median"

    @classmethod
    def from_config(cls, config: dict) -> PoolingOptions:
        """From a validated config, or any mapping with its ``pooling`` and ``sensitivity`` sections."""
        p, s = config["pooling"], config["sensitivity"]
        return cls(
            transform=p["transform"],
            tau2_method=p["tau2_method"],
            ci_method=p["ci_method"],
            level=p["level"],
            model=p["model"],
            histology=p["histology"],
            study_ci=s["study_ci"],
            add=float(s["continuity"]["add"]),
            to=s["continuity"]["to"],
            targets=p["targets"],
            pi_df=p["pi_df"],
            back_transform=p["back_transform"],
        )
