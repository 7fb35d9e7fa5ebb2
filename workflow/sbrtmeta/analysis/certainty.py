"""GRADE certainty of every pooled result: the summary-of-findings table.

One row per pooled (or single-study) cell of ``pooled.csv``: the pooled rate with its CI, k
and N, the judgement of each GRADE domain with its reason in words, and the certainty (high,
moderate, low, very low). The domains follow the GRADE handbook (Schünemann et al., eds.,
2013) and the GRADE series in J Clin Epidemiol (Guyatt et al. 2011;64:383-394 and 1277-1316):

- evidence from non-randomised studies starts at **low** (:data:`START`);
- each domain is judged by a rule whose thresholds are in config ``grade`` (functions
  :func:`risk_of_bias_domain` ... :func:`dose_response_domain`), each returning a
  :class:`Judgement` with its reason;
- "serious" rates down one level, "very serious" two, a "strongly suspected" publication
  bias one; "not assessable" never rates down by itself;
- a dose-response gradient rates up one level, only when no domain was rated down (GRADE 9,
  Guyatt et al. 2011;64:1311-1316);
- ``grade.overrides`` replaces a domain's judgement in one cell; its reason is printed,
  with what the rule gave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.analysis.small_study import funnel_tests
from sbrtmeta.data.cells import cell_studies
from sbrtmeta.data.errors import InputError
from sbrtmeta.data.risk_of_bias import NOT_ASSESSED
from sbrtmeta.stats.inference import critical_value

LEVELS = ("very low", "low", "moderate", "high")
START = "low"  # non-randomised evidence (single-arm series)
NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSABLE = "not serious", "serious", "very serious", "not assessable"
UNDETECTED, SUSPECTED = "undetected", "strongly suspected"
UPGRADE, NO_UPGRADE = "upgrade", "no upgrade"
RATE_DOWN = {NOT_SERIOUS: 0, SERIOUS: 1, VERY_SERIOUS: 2, NOT_ASSESSABLE: 0, UNDETECTED: 0, SUSPECTED: 1}
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "dose_response")
DOMAIN_JUDGEMENTS = {
    "risk_of_bias": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS),
    "inconsistency": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSABLE),
    "indirectness": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS),
    "imprecision": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSABLE),
    "publication_bias": (UNDETECTED, SUSPECTED, NOT_ASSESSABLE),
    "dose_response": (UPGRADE, NO_UPGRADE),
}
DOMAIN_NAMES = {
    "risk_of_bias": "risk of bias",
    "inconsistency": "inconsistency",
    "indirectness": "indirectness",
    "imprecision": "imprecision",
    "publication_bias": "publication bias",
    "dose_response": "dose-response gradient",
}
KEY = ["site", "histology", "endpoint", "timepoint_months"]
COLUMNS = (
    *KEY,
    "k",
    "n_total",
    "model",
    "estimate",
    "ci_low",
    "ci_high",
    *(c for d in DOMAINS for c in (d, f"{d}_reason")),
    "start",
    "rated_down",
    "rated_up",
    "certainty",
    "certainty_reason",
)


@dataclass(frozen=True)
class Judgement:
    """One domain's judgement (a word of :data:`DOMAIN_JUDGEMENTS`) and why, in words."""

    level: str
    reason: str


def _pts(x: float) -> str:
    """A proportion difference in percentage points."""
    return f"{100 * x:.1f}"


def _share_judgement(share: float, rules: dict, what: str) -> Judgement:
    """A domain judged by a share of the weight: serious from ``rules['serious']``, very serious from
    ``rules['very_serious']``; ``what`` says what the share is."""
    serious, very = rules["serious"], rules["very_serious"]
    level = VERY_SERIOUS if share >= very else SERIOUS if share >= serious else NOT_SERIOUS
    return Judgement(level, f"{what}; serious from {100 * serious:g}%, very serious from {100 * very:g}%")


def risk_of_bias_domain(weights, overall, rules: dict) -> Judgement:
    """Share of the cell's weight (``weights``, %) from studies whose ``overall`` risk of bias is
    high or not assessed: at least ``rules['serious']`` is serious, at least
    ``rules['very_serious']`` very serious."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    overall = np.asarray(overall, dtype=object)
    high, unassessed = float(w[overall == "high"].sum()), float(w[overall == NOT_ASSESSED].sum())
    share = high + unassessed
    return _share_judgement(
        share,
        rules,
        f"{100 * share:.0f}% of the weight from studies at high risk of bias ({100 * high:.0f}%) or not assessed "
        f"({100 * unassessed:.0f}%)",
    )


def inconsistency_domain(k: int, i2: float, pi_low: float, pi_high: float, rules: dict) -> Judgement:
    """I² (%) against ``rules['i2_serious']``/``['i2_very_serious']``, and whether the prediction
    interval spans clinically different rates (wider than ``rules['pi_width']``, a proportion):
    serious if either, very serious if I² reaches the higher threshold and the interval is wide.
    A single study: not assessable."""
    if k < 2:
        return Judgement(NOT_ASSESSABLE, "a single study: there is no between-study variation to judge")
    has_pi = math.isfinite(pi_low) and math.isfinite(pi_high)
    wide = has_pi and (pi_high - pi_low) >= rules["pi_width"]
    i2 = float(i2) if math.isfinite(i2) else 0.0
    if i2 >= rules["i2_very_serious"] and wide:
        level = VERY_SERIOUS
    elif i2 >= rules["i2_serious"] or wide:
        level = SERIOUS
    else:
        level = NOT_SERIOUS
    pi = (
        f"prediction interval {_pts(pi_low)}–{_pts(pi_high)}% spans {_pts(pi_high - pi_low)} points "
        f"({'at least' if wide else 'less than'} {_pts(rules['pi_width'])})"
        if has_pi
        else "no prediction interval (common-effect model)"
    )
    return Judgement(
        level,
        f"I² = {i2:.0f}% (serious from {rules['i2_serious']:g}%, very serious from {rules['i2_very_serious']:g}% "
        f"with a wide prediction interval); {pi}",
    )


def indirectness_domain(weights, mixed, k_mixed: int, rules: dict) -> Judgement:
    """Share of the cell's weight from studies whose patients mix primary tumours (``mixed``;
    ``k_mixed`` of them, pooled.csv's ``k_mixed_primaries``): at least ``rules['serious']`` is
    serious, at least ``rules['very_serious']`` very serious."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    share = float(w[np.asarray(mixed, dtype=bool)].sum())
    return _share_judgement(
        share,
        rules,
        f"{100 * share:.0f}% of the weight from {k_mixed} of {len(w)} "
        f"{'study' if len(w) == 1 else 'studies'} whose patients mix primary tumours",
    )


def optimal_information_size(p: float, margin: float, level: float) -> int:
    """Patients needed to estimate a proportion ``p`` within ±``margin`` at ``level`` confidence:
    ``n = z² p (1 - p) / margin²`` (the sample size of a single proportion; the optimal
    information size of GRADE 6, Guyatt et al. J Clin Epidemiol 2011;64:1283-1293), rounded up."""
    z = critical_value(level)
    return int(math.ceil(z**2 * p * (1 - p) / margin**2 - 1e-9))


def imprecision_domain(
    k: int, n_total: int, estimate: float, ci_low: float, ci_high: float, rules: dict, level: float
) -> Judgement:
    """CI width against ``rules['ci_width']`` (a proportion) and total N against the optimal
    information size at ±``rules['margin']`` (:func:`optimal_information_size`): serious if one
    fails, very serious if both. A single study: not assessable."""
    ois = optimal_information_size(estimate, rules["margin"], level)
    width = ci_high - ci_low
    wide, small = width > rules["ci_width"], n_total < ois
    what = (
        f"{100 * level:g}% CI {_pts(ci_low)}–{_pts(ci_high)}% is {_pts(width)} points wide "
        f"({'more than' if wide else 'at most'} {_pts(rules['ci_width'])}); N = {n_total} "
        f"{'<' if small else '≥'} optimal information size {ois} (±{_pts(rules['margin'])} points at {_pts(estimate)}%)"
    )
    if k < 2:
        return Judgement(
            NOT_ASSESSABLE,
            f"a single study: no pooled estimate whose precision could be judged (its own {what})",
        )
    level_word = VERY_SERIOUS if wide and small else SERIOUS if wide or small else NOT_SERIOUS
    return Judgement(level_word, what)


def regression_test_name(predictor: str) -> str:
    """The funnel-asymmetry test of ``regtest(predictor =)``: Egger's test for the standard error."""
    return "Egger's test" if predictor == "sei" else f"the regression test on {predictor} (regtest)"


def publication_bias_domain(k: int, egger_p: float, k0, rules: dict, test: str = "Egger's test") -> Judgement:
    """With at least ``rules['min_k']`` studies: the regression test's (``test``, Egger's by default)
    p below ``rules['egger_p']``, or trim and fill imputing at least ``rules['trimfill_share']`` × k
    studies, is strongly suspected; with fewer studies: not assessable (which never rates down)."""
    if k < rules["min_k"]:
        return Judgement(
            NOT_ASSESSABLE,
            f"k = {k} < {rules['min_k']}: too few studies for the small-study tests (does not rate down)",
        )
    k0 = 0 if k0 is None or (isinstance(k0, float) and math.isnan(k0)) else int(k0)
    egger = math.isfinite(egger_p) and egger_p < rules["egger_p"]
    filled = k0 >= rules["trimfill_share"] * k
    egger_text = f"{test} p = {egger_p:.3f}" if math.isfinite(egger_p) else f"{test} not estimable"
    return Judgement(
        SUSPECTED if egger or filled else UNDETECTED,
        f"{egger_text} ({'<' if egger else 'not below'} {rules['egger_p']:g}); trim and fill imputes {k0} "
        f"{'study' if k0 == 1 else 'studies'} ({'at least' if filled else 'fewer than'} "
        f"{100 * rules['trimfill_share']:g}% of k = {k})",
    )


def dose_response_domain(row, rules: dict, rated_down: int, what: str) -> Judgement:
    """A dose-response gradient rates up: the BED slope's p below ``rules['p']`` with a positive
    slope (more dose, higher rate), only when nothing was rated down (``rated_down`` = 0).
    ``row`` is the cell's per-site row of ``dose_response.csv`` (None when there is none)."""
    if row is None:
        return Judgement(NO_UPGRADE, f"no dose-response model for this cell (config dose_response: {what})")
    slope, p = float(row.get("slope", np.nan)), float(row.get("slope_p", np.nan))
    if not (math.isfinite(slope) and math.isfinite(p)):
        note = row.get("note", "")
        return Judgement(NO_UPGRADE, f"dose-response {note if isinstance(note, str) and note else 'not fitted'}")
    shown = f"BED slope {slope:.3f}, p = {p:.3f}"
    if p >= rules["p"]:
        return Judgement(NO_UPGRADE, f"no gradient: {shown} (not below {rules['p']:g})")
    if slope <= 0:
        return Judgement(NO_UPGRADE, f"{shown}: the rate falls with dose, not a gradient of benefit")
    if rated_down:
        return Judgement(
            NO_UPGRADE,
            f"gradient ({shown} < {rules['p']:g}), but the evidence was rated down: GRADE rates up only "
            "evidence not rated down",
        )
    return Judgement(UPGRADE, f"gradient of benefit: {shown} < {rules['p']:g}")


def certainty_of(judgements: dict) -> tuple[int, int, str, str]:
    """``(rated_down, rated_up, certainty, reason)`` from the domains' judgements."""
    down = sum(RATE_DOWN.get(judgements[d].level, 0) for d in DOMAINS[:-1])
    up = int(judgements["dose_response"].level == UPGRADE)
    start = LEVELS.index(START)
    certainty = LEVELS[min(max(start - down + up, 0), len(LEVELS) - 1)]
    steps = [
        f"−{RATE_DOWN[j.level]} {DOMAIN_NAMES[d]} ({j.level})"
        for d, j in judgements.items()
        if d != "dose_response" and RATE_DOWN.get(j.level, 0)
    ]
    if up:
        steps.append("+1 dose-response gradient")
    unjudged = [DOMAIN_NAMES[d] for d, j in judgements.items() if j.level == NOT_ASSESSABLE]
    reason = f"starts at {START} (non-randomised studies); " + ("; ".join(steps) if steps else "no change")
    reason += f" → {certainty}"
    if unjudged:
        reason += f"; not assessable: {', '.join(unjudged)}"
    return down, up, certainty, reason


def _override_matches(o: dict, cell) -> bool:
    return (
        o["site"] == cell.site
        and o["endpoint"] == cell.endpoint
        and math.isclose(float(o["timepoint_months"]), float(cell.timepoint_months))
        and ("histology" not in o or o["histology"] == getattr(cell, "histology", None))
    )


def check_overrides(overrides: list, pooled: pd.DataFrame) -> None:
    """InputError for an override whose judgement its domain does not take or that matches no cell."""
    for i, o in enumerate(overrides):
        where = dict(file="config/config.yaml", row=f"grade.overrides[{i}]")
        if o["judgement"] not in DOMAIN_JUDGEMENTS[o["domain"]]:
            raise InputError(
                f"is not a judgement of {o['domain']} (one of {list(DOMAIN_JUDGEMENTS[o['domain']])})",
                column="judgement",
                value=o["judgement"],
                **where,
            )
        if not any(_override_matches(o, c) for c in pooled.itertuples()):
            raise InputError(
                "matches no pooled cell (site, histology, endpoint, timepoint_months of pooled.csv)",
                column="site",
                value=f"{o['site']} {o.get('histology', '')} {o['endpoint']} {o['timepoint_months']:g} months".replace(
                    "  ", " "
                ),
                **where,
            )


def _dose_row(dose: pd.DataFrame | None, cell) -> dict | None:
    if dose is None or dose.empty:
        return None
    keep = (
        (dose["model"] == "per site")
        & (dose["site"] == cell.site)
        & (dose["endpoint"] == cell.endpoint)
        & np.isclose(dose["timepoint_months"].astype(float), float(cell.timepoint_months))
    )
    if "histology" in dose and hasattr(cell, "histology"):
        keep &= dose["histology"] == cell.histology
    found = dose[keep]
    return None if found.empty else found.iloc[0].to_dict()


def _num(cell, name: str) -> float:
    x = getattr(cell, name, np.nan)
    return float(x) if x is not None and not pd.isna(x) else float("nan")


def cell_judgements(cell, group: pd.DataFrame, rob: dict, grade: dict, level: float, predictor: str = "sei") -> dict:
    """The rated-down domains' :class:`Judgement` for one pooled ``cell`` (a row of pooled.csv) with
    its studies ``group`` (rows of pooled_studies.csv), before overrides; ``predictor`` is the
    funnel plots' regression test's (config ``sensitivity.funnel.predictor``)."""
    k = int(cell.k)
    w = group["weight_pct"].to_numpy(float)
    overall = [rob.get(str(s), NOT_ASSESSED) for s in group["study_id"]]
    mixed = group["mixed_primaries"].astype(str).str.lower().eq("true").to_numpy()
    j = {
        "risk_of_bias": risk_of_bias_domain(w, overall, grade["risk_of_bias"]),
        "inconsistency": inconsistency_domain(
            k, _num(cell, "i2"), _num(cell, "pi_low"), _num(cell, "pi_high"), grade["inconsistency"]
        ),
        "indirectness": indirectness_domain(w, mixed, int(cell.k_mixed_primaries), grade["indirectness"]),
        "imprecision": imprecision_domain(
            k,
            int(cell.n_total),
            float(cell.estimate),
            float(cell.ci_low),
            float(cell.ci_high),
            grade["imprecision"],
            level,
        ),
    }
    pb = grade["publication_bias"]
    if k >= pb["min_k"]:
        t = funnel_tests(
            group["yi"].to_numpy(float),
            group["vi"].to_numpy(float),
            str(cell.tau2_method),
            str(cell.ci_method),
            level,
            predictor=predictor,
            ni=group["n"].to_numpy(float),
        )
        j["publication_bias"] = publication_bias_domain(k, t.egger_p, t.k0, pb, regression_test_name(predictor))
    else:
        j["publication_bias"] = publication_bias_domain(k, float("nan"), None, pb)
    return j


def summary_of_findings(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    risk_of_bias: pd.DataFrame,
    dose: pd.DataFrame | None,
    grade: dict,
    level: float = 0.95,
    dose_what: str = "",
    predictor: str = "sei",
) -> pd.DataFrame:
    """``summary_of_findings.csv``: one row per cell of ``pooled`` (:data:`COLUMNS`).

    ``studies`` is pooled_studies.csv, ``risk_of_bias`` the table of
    :func:`sbrtmeta.data.risk_of_bias.risk_of_bias_table` (a study missing from it is not
    assessed), ``dose`` dose_response.csv (or None), ``grade`` the config section, ``predictor``
    the funnel plots' regression test's (config ``sensitivity.funnel.predictor``)."""
    overrides = grade.get("overrides", [])
    check_overrides(overrides, pooled)
    rob = (
        dict(zip(risk_of_bias["study_id"].astype(str), risk_of_bias["overall"].astype(str)))
        if len(risk_of_bias)
        else {}
    )
    rows = []
    for cell in pooled.itertuples(index=False):
        group = cell_studies(cell, studies)
        group = group[
            (group["endpoint"] == cell.endpoint)
            & np.isclose(group["timepoint_months"].astype(float), float(cell.timepoint_months))
        ]
        j = cell_judgements(cell, group, rob, grade, level, predictor)
        j = _overridden(j, overrides, cell, "risk_of_bias", "publication_bias")
        down = sum(RATE_DOWN.get(j[d].level, 0) for d in DOMAINS[:-1])
        j["dose_response"] = dose_response_domain(_dose_row(dose, cell), grade["dose_response"], down, dose_what)
        j = _overridden(j, overrides, cell, "dose_response", "dose_response")
        down, up, certainty, why = certainty_of(j)
        row = {c: getattr(cell, c, "") for c in (*KEY, "k", "n_total", "model", "estimate", "ci_low", "ci_high")}
        for d in DOMAINS:
            row[d], row[f"{d}_reason"] = j[d].level, j[d].reason
        row.update(start=START, rated_down=down, rated_up=up, certainty=certainty, certainty_reason=why)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _overridden(j: dict, overrides: list, cell, first: str, last: str) -> dict:
    """``j`` with the overrides of ``cell`` for the domains from ``first`` to ``last`` applied."""
    span = DOMAINS[DOMAINS.index(first) : DOMAINS.index(last) + 1]
    j = dict(j)
    for i, o in enumerate(overrides):
        if o["domain"] in span and _override_matches(o, cell):
            rule = j[o["domain"]]
            j[o["domain"]] = Judgement(
                o["judgement"],
                f"overridden in config (grade.overrides[{i}]): {o['reason']} "
                f"[the rule gave {rule.level}: {rule.reason}]",
            )
    return j
