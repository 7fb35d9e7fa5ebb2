"""Local control and survival as curves: every printed time point of a study in one model.

:func:`curve_rows` applies the inclusion criteria of config with every time point in
the data as a target (no tolerance), so that a study enters with each rate it prints
(one arm per study and time point, chosen as in pooling). :func:`analyse_curves` then
fits, per site × histology × endpoint, the curve model of
:func:`sbrtmeta.stats.curves.fit_curve`, ``rma.mv(yi, V, mods = ~ f(t), random = ~ t |
study, struct)`` with V from the nested binomial approximation, and predicts the pooled
rate with CI and PI at each month of a grid. A cell that cannot support the model falls
back to the per-time-point pooling (``pooled.csv``), and the tables say why.

No curve rises: the slope of ln t or t is constrained to be <= 0 (a fit at the bound is flat
and says so), and a spline fit that rises is refused (the cell falls back). A cell where no
study prints two or more time points has no within-study information on time: a slope
would compare different studies at different months, so by default it falls back too
(``curves.between_studies: allow`` fits it anyway, and its figure's title says so). A
cohort whose rates have a singular V is named in the tables and the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.analysis.pooling import _histology_groups
from sbrtmeta.data.cells import CURVE
from sbrtmeta.data.inclusion import apply_inclusion
from sbrtmeta.data.study_labels import label_rows
from sbrtmeta.stats.curves import first_rise, fit_curve, logit_rate_covariance, predict_curve, singular_groups
from sbrtmeta.stats.effect_sizes import inverse_transform

_LOG = logging.getLogger(__name__)

CURVE_COLUMNS = (
    "site",
    "histology",
    "endpoint",
    "month",
    "method",
    "estimate",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "within_data",
    "note",
)
MODEL_COLUMNS = (
    "site",
    "histology",
    "endpoint",
    "status",
    "reason",
    "time_function",
    "struct",
    "tau2_method",
    "ci_method",
    "level",
    "k_rows",
    "n_studies",
    "n_studies_several_times",
    "times",
    "term",
    "coef",
    "se",
    "ci_low",
    "ci_high",
    "pval",
    "tau2",
    "tau2_month",
    "rho",
    "loglik",
)
STUDY_COLUMNS = (
    "site",
    "histology",
    "endpoint",
    "study_id",
    "arm",
    "label",
    "timepoint_months",
    "events",
    "n",
    "rate",
    "yi",
    "weight_pct",
    "rising",
)


def curve_rows(
    outcomes: pd.DataFrame, inclusion: dict, histology: str = "review", risk_of_bias: dict | None = None
) -> pd.DataFrame:
    """Every included rate at its printed time point, with the pooling cell's histology.

    The inclusion criteria are applied with all the data's time points as targets and no
    tolerance, so the rule choosing one arm per study works per time point as in pooling.
    Crude proportions given a time point (``inclusion.crude.timepoint``) are not rates of a
    curve and are left out. ``risk_of_bias`` (``{study_id: overall}``) serves
    ``inclusion.max_risk_of_bias``, as in pooling."""
    times = sorted(float(t) for t in pd.unique(outcomes["timepoint_months"].dropna()))
    criteria = dict(inclusion)
    criteria["timepoints"] = {"targets": times or [0.0], "tolerance_months": 0.0}
    included, _ = apply_inclusion(outcomes, criteria, risk_of_bias)
    if "crude_timepoint" in included:
        included = included[~included["crude_timepoint"].astype(bool)]
    rows = _histology_groups(included, histology)
    rows = one_report_per_cohort(rows, inclusion.get("overlaps", []))
    rows = rows.assign(label=label_rows(rows, outcomes))
    return rows.sort_values([*CURVE, "study_id", "timepoint_months"], kind="mergesort").reset_index(drop=True)


def one_report_per_cohort(rows: pd.DataFrame, overlaps: list) -> pd.DataFrame:
    """Reports of one cohort (``inclusion.overlaps``) count once per curve: the inclusion keeps one
    per time point, which can be a different report at different times; here, per site ×
    histology × endpoint, only the latest report (then the one with the larger n) keeps its rows."""
    drop = pd.Series(False, index=rows.index)
    for group in overlaps:
        live = rows[rows["study_id"].isin(set(group["studies"]))]
        for _, cell in live.groupby(CURVE, sort=False):
            if cell["study_id"].nunique() < 2:
                continue
            year = cell["year"].astype("Float64").fillna(0) if "year" in cell else pd.Series(0, index=cell.index)
            order = cell.assign(_y=year, _n=cell["n"].astype("Float64").fillna(0))
            order = order.sort_values(["_y", "_n"], ascending=[False, False], kind="mergesort")
            keep = order["study_id"].iloc[0]
            drop[cell.index[cell["study_id"] != keep]] = True
            _LOG.info(
                "curves: %s (%s) counts once per curve, kept %s", group["reason"], ", ".join(group["studies"]), keep
            )
    return rows[~drop]


@dataclass(frozen=True)
class CurveOptions:
    """The ``curves`` config: time function (``log``, ``linear``, ``spline`` with ``df``),
    structure, estimator, test and level, the month grid, the minimum of studies, and
    whether a cell with no study printing two time points is fitted (``between_studies``:
    ``fallback`` or ``allow``)."""

    time_function: str = "log"
    df: int = 3
    struct: str = "CAR"
    tau2_method: str = "REML"
    ci_method: str = "z"
    level: float = 0.95
    start: float = 6.0
    stop: float = 60.0
    step: float = 3.0
    min_studies: int = 3
    between_studies: str = "fallback"

    @classmethod
    def of(cls, cfg: dict) -> CurveOptions:
        return cls(
            time_function=cfg["time_function"],
            df=int(cfg["spline_df"]),
            struct=cfg["struct"],
            tau2_method=cfg["tau2_method"],
            ci_method=cfg["ci_method"],
            level=float(cfg["level"]),
            start=float(cfg["from"]),
            stop=float(cfg["to"]),
            step=float(cfg["step"]),
            min_studies=int(cfg["min_studies"]),
            between_studies=cfg["between_studies"],
        )

    def months(self) -> np.ndarray:
        n = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return self.start + self.step * np.arange(n)

    def n_coef(self) -> int:
        return 1 + (self.df if self.time_function == "spline" else 1)

    def describe(self) -> str:
        f = {"log": "ln t", "linear": "t"}.get(self.time_function, f"natural spline (df {self.df})")
        return f"{f}, {self.struct}"


def _why_not(cell: pd.DataFrame, opt: CurveOptions) -> str:
    """Why a cell cannot support the curve model ("" when it can)."""
    n_studies = cell["study_id"].nunique()
    times = cell["timepoint_months"].nunique()
    if n_studies < opt.min_studies:
        return (
            f"{n_studies} stud{'y' if n_studies == 1 else 'ies'}, the minimum is {opt.min_studies} (curves.min_studies)"
        )
    if times < 2:
        return "every study is at one time point, so there is no curve to fit"
    if opt.between_studies != "allow" and _several(cell) == 0:
        return (
            "no study prints two or more time points, so the cell has no within-study information on time: "
            "a slope would compare different studies at different months (curves.between_studies: allow fits it)"
        )
    if times < opt.n_coef():
        return f"{times} distinct time points for {opt.n_coef()} coefficients of the curve"
    if len(cell) <= opt.n_coef() + 1:
        return f"{len(cell)} rates for {opt.n_coef()} coefficients and the variance components"
    if opt.time_function == "log" and (cell["timepoint_months"] <= 0).any():
        return "a time point of 0 months has no logarithm"
    return ""


def _several(cell: pd.DataFrame) -> int:
    """How many studies of a cell print two or more time points."""
    return int((cell.groupby("study_id")["timepoint_months"].nunique() > 1).sum())


def _structure(cell: pd.DataFrame, opt: CurveOptions) -> tuple[str, str]:
    """The structure fitted to a cell, and a note when it is not the configured one: with no
    study printing two time points the correlation over time does not enter the likelihood,
    and the model is the meta-regression on f(t) (struct ID, one random effect per rate)."""
    if opt.struct != "ID" and _several(cell) == 0:
        return "ID", (
            f"no study prints two time points: the correlation over time ({opt.struct}) is not estimable, "
            "so the model is the meta-regression on f(t) with one random effect per rate (struct ID)"
        )
    return opt.struct, ""


def _bound_note(fit) -> str:
    """A note when the slope of f(t) met its constraint (slope <= 0)."""
    if fit is None or not fit.at_bound:
        return ""
    return (
        f"the slope of {fit.basis.describe()} is at its bound 0 (slope <= 0: a curve cannot rise; "
        f"the unconstrained fit rose, slope {fit.free_slope:.3g}), so the curve is flat: the model without f(t)"
    )


def _rise_refused(fit, opt: CurveOptions) -> str:
    """Why a spline fit is refused: its curve rises somewhere on the printed times and the grid."""
    if fit is None or fit.basis.kind != "spline":
        return ""
    rise = first_rise(fit, np.r_[opt.months(), fit.times])
    if rise is None:
        return ""
    return (
        f"the spline fit rises between {rise[0]:g} and {rise[1]:g} months, which a survival or local-control "
        "curve cannot (a spline has no monotone constraint here)"
    )


def _singular_v(cell: pd.DataFrame, group: pd.Series, V) -> list[str]:
    """One line per cohort whose block of V is singular or not positive definite, naming the study."""
    lines = []
    for idx in singular_groups(V, group.to_numpy()):
        rows = cell.iloc[idx].sort_values("timepoint_months")
        r = rows.iloc[0]
        rates = ", ".join(f"{x:.0%} at {t:g}" for t, x in zip(rows["timepoint_months"], rows["rate"]))
        lines.append(
            f"V is singular (not positive definite) for {r['label']} ({r['study_id']}, {r['arm']}): "
            f"rates {rates} months are perfectly correlated under the binomial approximation"
        )
    return lines


def _rising(cell: pd.DataFrame, pairs: list) -> list[str]:
    """One line per study and cohort whose printed rate rises between two of its times."""
    lines, seen = [], set()
    for i, j in pairs:
        a, b = cell.iloc[i], cell.iloc[j]
        key = (a["study_id"], a["arm"], a["timepoint_months"], b["timepoint_months"])
        if key in seen:
            continue
        seen.add(key)
        lines.append(
            f"{a['site']} {a['endpoint']}: {a['label']} ({a['study_id']}) prints a rate that rises over time, "
            f"{a['rate']:.0%} at {a['timepoint_months']:g} months to {b['rate']:.0%} at {b['timepoint_months']:g} "
            "months; a survival curve cannot rise (rates kept as printed)"
        )
    return lines


def _model_rows(place: dict, cell: pd.DataFrame, opt: CurveOptions, fit, reason: str) -> list[dict]:
    several = _several(cell)
    common = dict(
        place,
        status="fallback" if fit is None else "fitted",
        reason=reason,
        time_function=opt.time_function if opt.time_function != "spline" else f"spline (df {opt.df})",
        struct=opt.struct if fit is None else fit.model.struct,
        tau2_method=opt.tau2_method,
        ci_method=opt.ci_method,
        level=opt.level,
        k_rows=len(cell),
        n_studies=int(cell["study_id"].nunique()),
        n_studies_several_times=several,
        times=" ".join(f"{t:g}" for t in sorted(cell["timepoint_months"].unique())),
    )
    if fit is None:
        return [common]
    m = fit.model
    names = ["intercept"] + (
        ["ln t"]
        if fit.basis.kind == "log"
        else ["t"]
        if fit.basis.kind == "linear"
        else [f"ns{j + 1}" for j in range(fit.basis.df)]
    )
    hcs = m.struct == "HCS"
    coef, se, lo, hi, p = fit.coefficients()
    terms = [
        dict(
            common,
            term=name,
            coef=float(coef[j]),
            se=float(se[j]),
            ci_low=float(lo[j]),
            ci_high=float(hi[j]),
            pval=float(p[j]),
            tau2=np.nan if hcs else float(m.tau2[0]),
            rho=m.rho,
            loglik=m.loglik,
        )
        for j, name in enumerate(names)
    ]
    # HCS: one variance per time point, one row each (long form)
    per_time = [
        dict(common, term="tau2", tau2=float(v), tau2_month=float(t), rho=m.rho, loglik=m.loglik)
        for t, v in zip(m.tau2_levels, m.tau2)
    ]
    return terms + (per_time if hcs else [])


def _curve_table(place, cell, opt: CurveOptions, fit) -> pd.DataFrame:
    months = opt.months()
    pr = predict_curve(fit, months, level=opt.level)
    lo, hi = cell["timepoint_months"].min(), cell["timepoint_months"].max()
    within = (months >= lo) & (months <= hi)
    back = {c: inverse_transform(getattr(pr, c), "PLO") for c in ("pred", "ci_low", "ci_high", "pi_low", "pi_high")}
    return pd.DataFrame(
        dict(
            **place,
            month=months,
            method=f"curve model ({fit.basis.describe()}, {fit.model.struct})",
            estimate=back["pred"],
            ci_low=back["ci_low"],
            ci_high=back["ci_high"],
            pi_low=back["pi_low"],
            pi_high=back["pi_high"],
            within_data=within,
            note=np.where(within, "", f"outside the printed time points ({lo:g}-{hi:g} months): extrapolated"),
        )
    )


def _fallback_table(place, pooled: pd.DataFrame, reason: str) -> pd.DataFrame:
    """The per-time-point pooled rows of a cell that has no curve."""
    if pooled is None or pooled.empty:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    sub = pooled[(pooled["site"] == place["site"]) & (pooled["histology"] == place["histology"])]
    sub = sub[sub["endpoint"] == place["endpoint"]]
    return pd.DataFrame(
        dict(
            **place,
            month=sub["timepoint_months"].astype(float).to_numpy(),
            method="per-time-point pooling (" + sub["model"].astype(str).to_numpy() + ")",
            estimate=sub["estimate"].to_numpy(),
            ci_low=sub["ci_low"].to_numpy(),
            ci_high=sub["ci_high"].to_numpy(),
            pi_low=sub["pi_low"].to_numpy(),
            pi_high=sub["pi_high"].to_numpy(),
            within_data=True,
            note=f"no curve: {reason}",
        )
    )


@dataclass
class CurveAnalysis:
    """What :func:`analyse_curves` returns: ``curves`` (survival_curves.csv), ``models``
    (curve_models.csv), ``studies`` (each rate with its weight, for the figures) and the
    one-line ``warnings`` of rates that rise over time."""

    curves: pd.DataFrame
    models: pd.DataFrame
    studies: pd.DataFrame
    warnings: list


def analyse_curves(rows: pd.DataFrame, pooled: pd.DataFrame | None, opt: CurveOptions, log=_LOG) -> CurveAnalysis:
    """Fit the curve model per site × histology × endpoint of ``rows`` (:func:`curve_rows`);
    fall back to ``pooled`` (pooled.csv) where a cell cannot support it."""
    curves, models, studies, warnings = [], [], [], []
    for key, cell in rows.groupby(CURVE, sort=True):
        place = dict(zip(CURVE, key))
        cell = cell.reset_index(drop=True)
        group = cell["study_id"].astype(str) + "\x1f" + cell["arm"].astype(str)
        yi, V, pairs = logit_rate_covariance(cell["events"], cell["n"], cell["timepoint_months"], group)
        warnings += _rising(cell, pairs)
        singular = _singular_v(cell, group, V)
        warnings += [f"{place['site']} {place['endpoint']}: {line}" for line in singular]
        rising = np.zeros(len(cell), bool)
        for i, j in pairs:
            rising[[i, j]] = True
        reason, fit = _why_not(cell, opt), None
        struct, note = _structure(cell, opt)
        if not reason:
            try:
                fit = fit_curve(
                    cell["events"].to_numpy(float),
                    cell["n"].to_numpy(float),
                    cell["timepoint_months"].to_numpy(float),
                    cell["study_id"].to_numpy(),
                    group=group.to_numpy(),
                    f=opt.time_function,
                    df=opt.df,
                    struct=struct,
                    tau2_method=opt.tau2_method,
                    ci_method=opt.ci_method,
                    level=opt.level,
                )
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
                reason = f"the model could not be fitted: {err}"
        refused = _rise_refused(fit, opt)
        if refused:
            reason, fit = refused, None
        notes = [reason or note, _bound_note(fit), *singular]
        models += _model_rows(place, cell, opt, fit, "; ".join(x for x in notes if x))
        curves.append(
            _curve_table(place, cell, opt, fit) if fit is not None else _fallback_table(place, pooled, reason)
        )
        weight = fit.model.weights if fit is not None else np.full(len(cell), np.nan)
        studies.append(cell.assign(yi=yi, weight_pct=weight, rising=rising).reindex(columns=list(STUDY_COLUMNS)))
        log.info("%s %s %s: %s", *key, "curve fitted" if fit is not None else f"fallback: {reason}")
    for line in warnings:
        log.warning(line)

    def frame(parts, cols):
        parts = [p for p in parts if not p.empty]  # (an empty part would make the numbers objects)
        return (
            pd.concat(parts, ignore_index=True).reindex(columns=list(cols))
            if parts
            else pd.DataFrame(columns=list(cols))
        )

    return CurveAnalysis(
        curves=frame(curves, CURVE_COLUMNS),
        models=pd.DataFrame(models).reindex(columns=list(MODEL_COLUMNS)),
        studies=frame(studies, STUDY_COLUMNS),
        warnings=warnings,
    )
