"""GRADE certainty of every pooled result: the summary-of-findings table.

One row per pooled (or single-study) cell of ``pooled.csv``: the pooled rate with its CI, k
and N, the judgement of each GRADE domain with its reason in words, and the certainty (high,
moderate, low, very low). The domains follow the GRADE handbook (Schünemann et al., eds.,
2013) and the GRADE series in J Clin Epidemiol (Guyatt et al. 2011;64:383-394 and 1277-1316):

- the evidence starts at config ``grade.start`` (:data:`STARTS`): **high** for a question of
  prognosis (what fraction of lesions is controlled at a time point), as GRADE rates
  observational evidence on prognosis (Iorio et al., BMJ 2015;350:h870), or **low** for
  non-randomised evidence on an intervention's effect;
- each domain is judged by a rule whose thresholds are in config ``grade`` (functions
  :func:`risk_of_bias_domain` ... :func:`dose_response_domain`), each returning a
  :class:`Judgement` with its reason;
- "serious" rates down one level, "very serious" two, a "strongly suspected" publication
  bias one; "not assessable" and "not assessed" never rate down by themselves, and rating
  down stops at very low (the floor);
- risk of bias is judged per study by the rule ``grade.risk_of_bias.rule`` (:data:`RULES`); a
  study nobody judged stays **not assessed**, is never counted as high risk, and a cell whose
  weight rests mostly on such studies is marked **provisional**;
- a dose-response gradient rates up one level only when ``grade.dose_response.upgrade`` is on
  (with the user's reason) and no domain was rated down (GRADE 9, Guyatt et al.
  2011;64:1311-1316);
- ``grade.overrides`` replaces a domain's judgement in one cell; its reason is printed,
  with what the rule gave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sbrtmeta.analysis.grade_rules import (  # noqa: F401 (the words, re-exported)
    CAPPED,
    CEILING_WHY,
    DEFAULT_CEILING,
    DEFAULT_SINGLE_STUDY,
    DEFAULT_START,
    DESIGN_CONCERN,
    DESIGN_ITEM,
    DOMAIN_JUDGEMENTS,
    DOMAIN_NAMES,
    DOMAINS,
    DOSE_OFF,
    IMPRECISION_RULE,
    LEVELS,
    NO_UPGRADE,
    NOT_ASSESSABLE,
    NOT_SERIOUS,
    OVERALL_CONCERN,
    RATE_DOWN,
    RULES,
    SERIOUS,
    SINGLE_STUDY,
    SINGLE_STUDY_REASON,
    STARTS,
    SUSPECTED,
    UNDETECTED,
    UPGRADE,
    VERY_SERIOUS,
)
from sbrtmeta.analysis.small_study import funnel_tests
from sbrtmeta.data.cells import CELL, cell_studies
from sbrtmeta.data.errors import InputError
from sbrtmeta.data.risk_of_bias import NOT_ASSESSED
from sbrtmeta.stats.inference import critical_value

COLUMNS = (
    *CELL,
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
    "provisional",
    "certainty_reason",
)


@dataclass(frozen=True)
class Judgement:
    """One domain's judgement (a word of :data:`DOMAIN_JUDGEMENTS`) and why, in words;
    ``provisional``: it rests mostly on studies no one assessed (risk of bias)."""

    level: str
    reason: str
    provisional: bool = False


def _pts(x: float) -> str:
    """A proportion difference in percentage points."""
    return f"{100 * x:.1f}"


def _pts_value(x: float) -> float:
    """A proportion in percentage points as printed (one decimal): thresholds compare what is printed, so
    "20.0 points wide" is never "more than 20.0"."""
    return round(100 * float(x), 1)


def _share_judgement(share: float, rules: dict, what: str) -> Judgement:
    """A domain judged by a share of the weight: serious from ``rules['serious']``, very serious from
    ``rules['very_serious']``; ``what`` says what the share is."""
    serious, very = rules["serious"], rules["very_serious"]
    level = VERY_SERIOUS if share >= very else SERIOUS if share >= serious else NOT_SERIOUS
    return Judgement(level, f"{what}; serious from {100 * serious:g}%, very serious from {100 * very:g}%")


def study_concerns(table: pd.DataFrame, rule: str) -> dict:
    """``{study_id: concern}`` from a risk-of-bias table (``risk_of_bias.csv``) by ``rule`` (a key of
    :data:`RULES`): :data:`NOT_SERIOUS`, :data:`SERIOUS`, :data:`VERY_SERIOUS` or :data:`NOT_ASSESSED`
    (a study the sheet does not judge on what the rule reads). Nothing is judged the sheet does not hold."""
    if table is None or table.empty:
        return {}
    if rule == "design":
        if DESIGN_ITEM not in table:
            raise InputError(
                f"the design rule reads MINORS item 3 ({DESIGN_ITEM}), which this tool's sheet lacks: use rule overall",
                file="config",
                column="grade.risk_of_bias.rule",
                value=rule,
            )
        values, concern = table[DESIGN_ITEM].astype(str), DESIGN_CONCERN
    else:
        values, concern = table["overall"].astype(str), OVERALL_CONCERN
    return {str(s): concern.get(v, NOT_ASSESSED) for s, v in zip(table["study_id"], values)}


def risk_of_bias_domain(weights, concerns, rules: dict) -> Judgement:
    """The cell's risk of bias from its studies' ``concerns`` (:func:`study_concerns`) and ``weights``
    (%): the share of the weight from studies of serious or very serious concern at least
    ``rules['serious']`` is serious; the share from studies of very serious concern at least
    ``rules['very_serious']`` very serious. A study not assessed counts as neither (its weight is in no
    share): when no study is assessed the domain is not assessed, and when the not-assessed share is at
    least ``rules['provisional']`` the judgement is provisional."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    concerns = np.asarray(concerns, dtype=object)
    very = float(w[concerns == VERY_SERIOUS].sum())
    serious = float(w[concerns == SERIOUS].sum()) + very
    unassessed = float(w[concerns == NOT_ASSESSED].sum())
    provisional = unassessed >= rules.get("provisional", 0.5)
    shares = (
        f"{100 * serious:.0f}% of the weight from studies of serious concern ({100 * very:.0f}% very serious), "
        f"{100 * unassessed:.0f}% from studies not assessed (counted as neither)"
    )
    if unassessed >= 1 - 1e-12:
        return Judgement(NOT_ASSESSED, f"no study of the cell was assessed on what the rule reads ({shares})", True)
    s, v = rules["serious"], rules["very_serious"]
    level = VERY_SERIOUS if very >= v else SERIOUS if serious >= s else NOT_SERIOUS
    reason = f"{shares}; serious from {100 * s:g}% at serious concern or worse"
    reason += f", very serious from {100 * v:g}% at very serious"
    if provisional:
        reason += f"; provisional: at least {100 * rules.get('provisional', 0.5):g}% of the weight not assessed"
    return Judgement(level, reason, provisional)


def inconsistency_domain(k: int, i2: float, pi_low: float, pi_high: float, rules: dict) -> Judgement:
    """I² (%) against ``rules['i2_serious']``/``['i2_very_serious']``, and whether the prediction
    interval spans clinically different rates (at least ``rules['pi_width']`` wide, a proportion,
    compared as printed to 0.1 point): serious if either, very serious if I² reaches the higher
    threshold and the interval is wide. A single study: not assessable."""
    if k < 2:
        return Judgement(NOT_ASSESSABLE, "a single study: there is no between-study variation to judge")
    has_pi = math.isfinite(pi_low) and math.isfinite(pi_high)
    wide = has_pi and _pts_value(pi_high - pi_low) >= _pts_value(rules["pi_width"])
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
    n_total: int, estimate: float, ci_low: float, ci_high: float, rules: dict, level: float, k: int = 2
) -> Judgement:
    """The cell's CI (a single study's own interval, or the pooled one) and N by :data:`IMPRECISION_RULE`:
    serious when the CI is wider than ``rules['ci_width']`` or N is below the optimal information size at
    ±``rules['margin']`` (:func:`optimal_information_size`); very serious when the CI is wider than
    ``rules['ci_width_very_serious']``. Widths compare as printed, to 0.1 percentage point. A single study
    (``k`` = 1) is at least serious when ``rules['single_study']`` is serious (the default,
    :data:`SINGLE_STUDY`: GRADE 6 and the KCE process book)."""
    ois = optimal_information_size(estimate, rules["margin"], level)
    width = _pts_value(ci_high - ci_low)
    very = width > _pts_value(rules["ci_width_very_serious"])
    wide, small = width > _pts_value(rules["ci_width"]), n_total < ois
    limit = rules["ci_width_very_serious"] if very else rules["ci_width"]
    between = f", at most {_pts(rules['ci_width_very_serious'])}" if wide and not very else ""
    reason = (
        f"{100 * level:g}% CI {_pts(ci_low)}–{_pts(ci_high)}% is {width:.1f} points wide "
        f"({'more than' if very or wide else 'at most'} {_pts(limit)}"
        f"{between}); N = {n_total} "
        f"{'<' if small else '≥'} optimal information size {ois} (±{_pts(rules['margin'])} points at {_pts(estimate)}%)"
    )
    judged = VERY_SERIOUS if very else SERIOUS if wide or small else NOT_SERIOUS
    if k == 1 and rules.get("single_study", DEFAULT_SINGLE_STUDY) == "serious":
        reason += f"; {SINGLE_STUDY_REASON}"
        judged = judged if judged != NOT_SERIOUS else SERIOUS
    return Judgement(judged, reason)


def regression_test_name(predictor: str) -> str:
    """The funnel-asymmetry test of ``regtest(predictor =)``: Egger's test for the standard error."""
    return "Egger's test" if predictor == "sei" else f"the regression test on {predictor} (regtest)"


def publication_bias_domain(k: int, p: float, k0, rules: dict, test: str = "Egger's test") -> Judgement:
    """With at least ``rules['min_k']`` studies: the regression test's (``test``, Egger's by default)
    p below ``rules['regtest_p']``, or trim and fill imputing at least ``rules['trimfill_share']`` × k
    studies, is strongly suspected; with fewer studies: not assessable (which never rates down)."""
    if k < rules["min_k"]:
        return Judgement(
            NOT_ASSESSABLE,
            f"k = {k} < {rules['min_k']}: too few studies for the small-study tests (does not rate down)",
        )
    k0 = 0 if k0 is None or (isinstance(k0, float) and math.isnan(k0)) else int(k0)
    low_p = math.isfinite(p) and p < rules["regtest_p"]
    filled = k0 >= rules["trimfill_share"] * k
    p_text = f"{test} p = {p:.3f}" if math.isfinite(p) else f"{test} not estimable"
    return Judgement(
        SUSPECTED if low_p or filled else UNDETECTED,
        f"{p_text} ({'<' if low_p else 'not below'} {rules['regtest_p']:g}); trim and fill imputes {k0} "
        f"{'study' if k0 == 1 else 'studies'} ({'at least' if filled else 'fewer than'} "
        f"{100 * rules['trimfill_share']:g}% of k = {k})",
    )


def dose_response_domain(row, rules: dict, rated_down: int, what: str) -> Judgement:
    """With ``rules['upgrade']`` on (default off: :data:`DOSE_OFF`), a dose-response gradient rates up:
    the BED slope's p below ``rules['p']`` with a positive slope (more dose, higher rate), only when
    nothing was rated down (``rated_down`` = 0); the user's ``rules['reason']`` is printed with it.
    ``row`` is the cell's per-site row of ``dose_response.csv`` (None when there is none)."""
    if not rules.get("upgrade", False):
        return Judgement(NO_UPGRADE, DOSE_OFF)
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
    return Judgement(UPGRADE, f"gradient of benefit: {shown} < {rules['p']:g}; rated up because: {rules['reason']}")


def certainty_of(
    judgements: dict, start: str = DEFAULT_START, ceiling: str = DEFAULT_CEILING
) -> tuple[int, int, str, str]:
    """``(rated_down, rated_up, certainty, reason)`` from the domains' judgements, starting at ``start``
    (:data:`STARTS`). The levels actually applied: rating down stops at very low, rating up at high. A
    provisional cell (risk of bias mostly not assessed) reaches at most ``ceiling`` (config
    ``grade.risk_of_bias.provisional_ceiling``, :data:`CEILING_WHY`); the cap is not a rating down."""
    wanted_down = sum(RATE_DOWN.get(judgements[d].level, 0) for d in DOMAINS[:-1])
    wanted_up = int(judgements["dose_response"].level == UPGRADE)
    first = LEVELS.index(start)
    up = min(wanted_up, len(LEVELS) - 1 - first)
    down = min(wanted_down, first + up)
    certainty = LEVELS[first - down + up]
    provisional = any(j.provisional for j in judgements.values())
    capped = provisional and LEVELS.index(certainty) > LEVELS.index(ceiling)
    steps = [
        f"−{RATE_DOWN[j.level]} {DOMAIN_NAMES[d]} ({j.level})"
        for d, j in judgements.items()
        if d != "dose_response" and RATE_DOWN.get(j.level, 0)
    ]
    if wanted_up:
        steps.append("+1 dose-response gradient" + ("" if up else " (already at high)"))
    reason = f"starts at {start} ({STARTS[start]}); " + ("; ".join(steps) if steps else "no change")
    if wanted_down > down:
        reason += f" ({wanted_down} levels in all: stops at very low)"
    reason += f" → {certainty}"
    if capped:
        reason += f"; at most {ceiling} {CAPPED} {CEILING_WHY} → {ceiling}"
        certainty = ceiling
    unjudged = [DOMAIN_NAMES[d] for d, j in judgements.items() if j.level in (NOT_ASSESSABLE, NOT_ASSESSED)]
    if unjudged:
        reason += f"; not assessable or not assessed: {', '.join(unjudged)}"
    if provisional:
        reason += "; provisional: its risk of bias rests mostly on studies not assessed"
    return down, up, certainty, reason


def _override_matches(o: dict, cell) -> bool:
    return (
        o["site"] == cell.site
        and o["endpoint"] == cell.endpoint
        and math.isclose(float(o["timepoint_months"]), float(cell.timepoint_months))
        and ("histology" not in o or o["histology"] == getattr(cell, "histology", None))
    )


def check_overrides(overrides: list, pooled: pd.DataFrame, source: str = "config/config.yaml") -> None:
    """InputError for an override whose judgement its domain does not take or that matches no cell
    (``source``: the config file the overrides came from)."""
    for i, o in enumerate(overrides):
        where = dict(file=source, row=f"grade.overrides[{i}]")
        if o["judgement"] not in DOMAIN_JUDGEMENTS[o["domain"]]:
            raise InputError(
                f"is not a judgement of {o['domain']} (one of {list(DOMAIN_JUDGEMENTS[o['domain']])})",
                column="judgement",
                value=o["judgement"],
                **where,
            )
        matched = [c for c in pooled.itertuples() if _override_matches(o, c)]
        if len({getattr(c, "histology", None) for c in matched}) > 1:
            raise InputError(
                "names no histology and the run pools this cell for several ("
                + ", ".join(sorted(str(c.histology) for c in matched))
                + "): add histology (refused rather than applied to each)",
                column="histology",
                value=f"{o['site']} {o['endpoint']} {o['timepoint_months']:g} months",
                **where,
            )
        if not matched:
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


def cell_judgements(
    cell, group: pd.DataFrame, concerns: dict, grade: dict, level: float, predictor: str = "sei"
) -> dict:
    """The rated-down domains' :class:`Judgement` for one pooled ``cell`` (a row of pooled.csv) with
    its studies ``group`` (rows of pooled_studies.csv) and the studies' risk-of-bias ``concerns``
    (:func:`study_concerns`), before overrides; ``predictor`` is the funnel plots' regression test's
    (config ``sensitivity.funnel.predictor``)."""
    k = int(cell.k)
    w = group["weight_pct"].to_numpy(float)
    concern = [concerns.get(str(s), NOT_ASSESSED) for s in group["study_id"]]
    mixed = group["mixed_primaries"].astype(str).str.lower().eq("true").to_numpy()
    j = {
        "risk_of_bias": risk_of_bias_domain(w, concern, grade["risk_of_bias"]),
        "inconsistency": inconsistency_domain(
            k, _num(cell, "i2"), _num(cell, "pi_low"), _num(cell, "pi_high"), grade["inconsistency"]
        ),
        "indirectness": indirectness_domain(w, mixed, int(cell.k_mixed_primaries), grade["indirectness"]),
        "imprecision": imprecision_domain(
            int(cell.n_total),
            float(cell.estimate),
            float(cell.ci_low),
            float(cell.ci_high),
            grade["imprecision"],
            level,
            k,
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


def _cell_group(cell, studies: pd.DataFrame) -> pd.DataFrame:
    """The rows of pooled_studies.csv pooled in ``cell`` (a row of pooled.csv)."""
    group = cell_studies(cell, studies)
    return group[
        (group["endpoint"] == cell.endpoint)
        & np.isclose(group["timepoint_months"].astype(float), float(cell.timepoint_months))
    ]


CONCERN_ORDER = (NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSED)


def concern_weights(pooled: pd.DataFrame, studies: pd.DataFrame, concerns: dict) -> pd.DataFrame:
    """Per pooled cell, the share of its weight (%, pooled_studies.csv's ``weight_pct``) at each risk-of-bias
    concern (:func:`study_concerns`): the weighted summary of robvis' ``rob_summary(weighted = TRUE)``, per
    synthesis. Columns: the cell's key, k, and one column per concern of :data:`CONCERN_ORDER`."""
    rows = []
    for cell in pooled.itertuples(index=False):
        group = _cell_group(cell, studies)
        w = group["weight_pct"].to_numpy(float)
        level = np.array([concerns.get(str(sid), NOT_ASSESSED) for sid in group["study_id"]], dtype=object)
        share = {c: float(100 * w[level == c].sum() / w.sum()) if w.sum() else 0.0 for c in CONCERN_ORDER}
        rows.append({**{c: getattr(cell, c, "") for c in CELL}, "k": int(cell.k), **share})
    return pd.DataFrame(rows, columns=[*CELL, "k", *CONCERN_ORDER])


def summary_of_findings(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    risk_of_bias: pd.DataFrame,
    dose: pd.DataFrame | None,
    grade: dict,
    level: float = 0.95,
    dose_what: str = "",
    predictor: str = "sei",
    overrides_source: str = "config/config.yaml",
) -> pd.DataFrame:
    """``summary_of_findings.csv``: one row per cell of ``pooled`` (:data:`COLUMNS`).

    ``studies`` is pooled_studies.csv, ``risk_of_bias`` the table of
    :func:`sbrtmeta.data.risk_of_bias.risk_of_bias_table` (a study missing from it is not
    assessed), ``dose`` dose_response.csv (or None), ``grade`` the config section, ``predictor``
    the funnel plots' regression test's (config ``sensitivity.funnel.predictor``)."""
    overrides = grade.get("overrides", [])
    check_overrides(overrides, pooled, overrides_source)
    start = grade.get("start", DEFAULT_START)
    concerns = study_concerns(risk_of_bias, grade["risk_of_bias"].get("rule", "overall"))
    rows = []
    for cell in pooled.itertuples(index=False):
        group = _cell_group(cell, studies)
        j = cell_judgements(cell, group, concerns, grade, level, predictor)
        j = _overridden(j, overrides, cell, "risk_of_bias", "publication_bias")
        down = sum(RATE_DOWN.get(j[d].level, 0) for d in DOMAINS[:-1])
        j["dose_response"] = dose_response_domain(_dose_row(dose, cell), grade["dose_response"], down, dose_what)
        j = _overridden(j, overrides, cell, "dose_response", "dose_response")
        down, up, certainty, why = certainty_of(
            j, start, grade["risk_of_bias"].get("provisional_ceiling", DEFAULT_CEILING)
        )
        row = {c: getattr(cell, c, "") for c in (*CELL, "k", "n_total", "model", "estimate", "ci_low", "ci_high")}
        for d in DOMAINS:
            row[d], row[f"{d}_reason"] = j[d].level, j[d].reason
        row.update(
            start=start,
            rated_down=down,
            rated_up=up,
            certainty=certainty,
            provisional=any(x.provisional for x in j.values()),
            certainty_reason=why,
        )
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
