"""``results/report/methods.md``: the statistical methods in prose, written from the config
the run used (PRISMA 2020 items 11-15), and the software with its versions.

:func:`methods_markdown` is a pure function of the config (a dict) and the versions, so a
changed option changes the text. A config section that does not exist is not described.
"""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

from sbrtmeta.analysis.grade_rules import (
    CEILING_WHY,
    DEFAULT_CEILING,
    DEFAULT_SINGLE_STUDY,
    DEFAULT_START,
    IMPRECISION_RULE,
    RULES,
    SINGLE_STUDY,
    STARTS,
)
from sbrtmeta.data.minors import FOLLOW_UP_RULE, follow_up_counts, rule_text
from sbrtmeta.data.risk_of_bias import NOT_ASSESSED, NOT_REPORTED, OVERALL, TOOLS
from sbrtmeta.plots.labels import (
    DOSE_RULE_LABELS,
    SCALE_NAMES,
    STUDY_CI_LABELS,
    TAU2_LABELS,
    TRANSFORM_LABELS,
    ci_label,
    level_text,
)

SOFTWARE = ("numpy", "scipy", "statsmodels", "pandas", "matplotlib", "pandera", "snakemake", "sbrtmeta")


def software_versions() -> dict:
    """``{name: version}`` of Python and the packages of :data:`SOFTWARE` installed."""
    versions = {"Python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _list(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else "none"


def _months(ts) -> str:
    return _list(f"{float(t):g}" for t in ts) + " months"


def _inclusion(inc: dict) -> list[str]:
    tp = inc["timepoints"]
    text = (
        f"Rows were included from the reviews {_list(inc['reviews'])}, for the sites {_list(inc['sites'])}, "
        f"the endpoints {_list(inc['endpoints'])}, the designs {_list(inc['designs'])} and the primary tumours "
        f"{_list(inc['primaries'])}; {_list(inc['basis'])} rates at {_months(tp['targets'])}"
        + (f" (± {tp['tolerance_months']:g} months)" if tp["tolerance_months"] else "")
        + f", from study rows with n of at least {inc['min_n']} (patients or lesions, cleanup.denominator)."
    )
    crude = inc.get("crude", {})
    if crude.get("pool"):
        text += " Crude proportions were pooled" + (
            " at the study's median follow-up." if crude.get("timepoint") == "median_follow_up" else "."
        )
    if inc.get("overlaps"):
        text += (
            f" Of {len(inc['overlaps'])} groups of overlapping reports of one cohort, one report per cell was kept "
            "(the later, then the larger)."
        )
    if inc.get("exclude_studies"):
        text += (
            " Studies left out by name: "
            + "; ".join(f"{e['study_id']} ({e['reason']})" for e in inc["exclude_studies"])
            + "."
        )
    if inc.get("max_risk_of_bias"):
        rob = inc["max_risk_of_bias"]
        kept = rob.get("not_assessed", "keep") == "keep"
        text += (
            f" Studies whose overall risk of bias was above {rob['level']!r} were left out; studies with no overall "
            f"judgement (not assessed) were {'kept' if kept else 'left out'}."
        )
    text += (
        " When several arms of one study qualified for a cell, one was kept (the configured order of primaries, "
        "then the larger n)."
    )
    return ["## Eligibility and data", "", text, ""]


CONTINUITY_TO = {
    "only0": "studies at 0% or 100%",
    "all": "all studies",
    "if0all": "all studies when any is at 0% or 100%",
}


def _continuity(pool: dict, sensitivity: dict) -> str:
    if pool["transform"] not in ("PLO", "PR"):
        return ""
    cc = sensitivity.get("continuity", {"add": 0.5, "to": "only0"})
    if cc["to"] == "none":
        return " No continuity correction was applied (a study at 0% or 100% stops the run)."
    return (
        f" {CONTINUITY_TO.get(cc['to'], cc['to'])[:1].upper()}{CONTINUITY_TO.get(cc['to'], cc['to'])[1:]} had "
        f"{cc['add']:g} added to events and non-events (continuity correction, as metafor's escalc)."
    )


KAPLAN_MEIER = (
    "Actuarial rates (Kaplan-Meier or life-table estimates at a time point) were turned into events = rate × n "
    "(rounded half up), n the patients or lesions the study treated, and pooled as binomial proportions. This "
    "ignores censoring: patients lost to follow-up before the time point count as if followed to it, so each rate "
    "has the variance of n complete observations and its CI, above all at late time points, is too narrow (the "
    "precision is overstated). No censoring-aware sensitivity analysis is applied: the extracted sources give no "
    "numbers at risk or standard errors of the rates."
)


def _synthesis(pool: dict, sensitivity: dict) -> list[str]:
    scale = SCALE_NAMES.get(pool["transform"], pool["transform"])
    transform = f"{scale} scale ({TRANSFORM_LABELS.get(pool['transform'], pool['transform']).lower()})"
    cc = _continuity(pool, sensitivity)
    ci = ci_label(pool["ci_method"], pool["level"])
    tau2 = TAU2_LABELS.get(pool["tau2_method"], pool["tau2_method"])
    if pool["model"] == "glmm":
        model = (
            "a binomial-normal random-intercept logistic model (generalised linear mixed model, maximum likelihood "
            "with adaptive Gauss-Hermite quadrature; metafor's rma.glmm) with a Wald "
            f"{level_text(pool['level'])} CI and prediction interval"
        )
    elif pool["tau2_method"] == "FE":
        model = f"a common-effect (inverse-variance) model with a {ci}"
    else:
        model = (
            "an inverse-variance random-effects model with the "
            f"{tau2} estimator, a {ci} and a prediction interval (metafor's rma and predict)"
        )
    choices = _interval_choices(pool)
    study_ci = sensitivity.get("study_ci")
    single = STUDY_CI_LABELS.get(study_ci, study_ci) if study_ci else "own"
    cells = (
        "site × review histology (studies mixing primaries stay in their review's cell and are counted)"
        if pool["histology"] == "review"
        else "site × histology of the row (mixed-primary studies in cells of their own)"
    )
    return [
        "## Effect measure and synthesis",
        "",
        f"The effect measure is the proportion of patients (or lesions) with the endpoint at the time point, "
        f"analysed on the {transform} and back-transformed for reporting.{cc} Each {cells} × endpoint × "
        f"time point was pooled with {model}. {choices}A cell with one study reports that study with its {single} CI, "
        "as every table and figure shows it. "
        "Heterogeneity is given as τ² (with its Q-profile CI), I², H² and Cochran's Q.",
        "",
        KAPLAN_MEIER,
        "",
        "Differences between sites were tested by a mixed-effects meta-regression with site as a categorical "
        "moderator (metafor's rma with mods = ~ factor(site)). Small-study effects were examined in "
        f"{_small_study_methods(sensitivity)} "
        "Leave-one-out analyses refit each cell of three or more studies without each study in turn.",
        "",
    ]


PI_DF_TEXT = {
    "metafor": "the critical value of the CI (metafor's predict)",
    "k-1": "a t distribution on k − 1 degrees of freedom with the model-based standard error (the R package "
    "meta's default since version 8.0; Veroniki et al., Res Synth Methods 2019)",
    "k-2": "a t distribution on k − 2 degrees of freedom with the model-based standard error (Riley et al., "
    "BMJ 2011;342:d549; none for fewer than three studies)",
}
BACK_TEXT = {
    "median": "back-transformed estimates (the median rate of the random-effects distribution)",
    "mean": "mean rates over the random-effects distribution (metafor's transf.ilogit.int / transf.iarcsin.int), "
    "with prediction intervals back-transformed as quantiles",
}


def _interval_choices(pool: dict) -> str:
    """The sentence naming the CI correction, the prediction interval's df and the back-transform."""
    adhoc = (
        "The Knapp-Hartung scale factor was kept at 1 or more (ad hoc correction; Jackson et al., Stat Med "
        "2017;36:3923-3934), so no interval is narrower than the Wald one. "
        if pool["ci_method"] == "adhoc"
        else ""
    )
    glmm = pool["model"] == "glmm"
    if (pool["tau2_method"] == "FE" and not glmm) or (glmm and pool["pi_df"] == "metafor"):
        pi = ""  # no prediction interval (common effect), or the GLMM's Wald one said above
    else:
        pi = f"The prediction interval uses {PI_DF_TEXT[pool['pi_df']]}. "
    return f"{adhoc}{pi}Pooled rates are {BACK_TEXT[pool['back_transform']]}. " + _targets(pool.get("targets"))


def _targets(targets: dict | None) -> str:
    """The sentence on ``pooling.targets`` (the share of true rates above each cutoff), or nothing."""
    said = [
        f"{e} {', '.join(f'{100 * float(c):g}%' for c in sorted(cuts))}" for e, cuts in (targets or {}).items() if cuts
    ]
    if not said:
        return ""
    return (
        "For each pooled cell the share of true rates above a target ("
        + "; ".join(said)
        + ') was estimated from the predictive distribution, as metafor\'s predict(prob = ">c"), with an interval '
        "at the confidence limits of the mean (τ² at its estimate). "
    )


def _funnel_kind(sensitivity: dict) -> str:
    """Contours need the standard-error axis; the other axes (Hunter et al. 2014) have none."""
    if sensitivity.get("funnel", {}).get("axis", "standard_error") == "standard_error":
        return "contour-enhanced funnel plots"
    return "funnel plots"


def _small_study_methods(sensitivity: dict) -> str:
    """The funnel plots, trim and fill and the regression test, with the fewest studies of each
    (sensitivity.funnel.min_studies, when the config gives it)."""
    least = sensitivity.get("funnel", {}).get("min_studies")
    if not least:
        return f"{_funnel_kind(sensitivity)}, with {_regression_test(sensitivity)} and trim and fill (L0 estimator)."
    return (
        f"{_funnel_kind(sensitivity)} of the cells of at least {least['plot']} studies, with trim and fill (L0 "
        f"estimator) and, in cells of at least {least['test']} studies (Sterne et al., BMJ 2011;343:d4002), "
        f"{_regression_test(sensitivity)}."
    )


def _regression_test(sensitivity: dict) -> str:
    predictor = sensitivity.get("funnel", {}).get("predictor", "sei")
    if predictor == "sei":
        return "Egger's regression test (regtest)"
    return f"the regression test for funnel asymmetry with predictor {predictor} (regtest(predictor = {predictor!r}))"


def _sensitivity(sens: dict) -> list[str]:
    text = []
    if "study_ci" in sens:
        text.append(
            "Each study's CI, at the pooling's level, in every table and figure that shows one study "
            "(pooled_studies.csv and the forest plots, a single study's row of pooled.csv and the summary, the first "
            "row of a cumulative analysis) is "
            f"{STUDY_CI_LABELS.get(sens['study_ci'], sens['study_ci'])}."
        )
    if "funnel" in sens and "axis" in sens["funnel"]:
        text.append(f"Funnel plots have {sens['funnel']['axis'].replace('_', ' ')} on the vertical axis.")
    cumulative = sens.get("cumulative", {})
    if cumulative.get("enabled"):
        text.append(
            "A cumulative meta-analysis (metafor's cumul) adds the studies of each cell by year "
            f"(within a year by {cumulative.get('tie_break', 'n')})."
        )
    if sens.get("baujat", {}).get("enabled"):
        text.append("Baujat plots show each study's contribution to heterogeneity and its influence on the estimate.")
    text += _sensitivity_tests(sens)
    return ["## Sensitivity analyses", "", " ".join(text), ""] if text else []


def _sensitivity_tests(sens: dict) -> list[str]:
    """Sentences for the permutation, CR2, likelihood-ratio and location-scale tests that are switched on."""
    text = []
    perm = sens.get("permutations", {})
    if perm.get("enabled"):
        text.append(
            "The test for subgroup differences between sites and each site's dose-response slope were repeated as "
            f"permutation tests (metafor's permutest): exact over every distinct permutation when there are at most "
            f"{perm['exact_max']:,}, otherwise {perm['iterations']:,} random permutations (seed {perm['seed']})."
        )
    if sens.get("robust", {}).get("enabled"):
        text.append(
            "The dose-response fits were also tested with CR2 cluster-robust standard errors by study and "
            "Satterthwaite degrees of freedom (metafor's robust with clubSandwich = TRUE)."
        )
    if sens.get("likelihood_ratio", {}).get("enabled"):
        text.append(
            "Likelihood-ratio tests of nested ML fits (metafor's anova) compared the dose-response with and without "
            "ln BED10, and the site model with and without site."
        )
    ls = sens.get("location_scale", {})
    if ls.get("enabled"):
        text.append(
            "Heterogeneity by site was estimated with a location-scale model, one τ² per site with at least "
            f"{ls['min_studies']} studies (metafor's rma with mods = ~ site, scale = ~ site; {ls['tau2_method']}), "
            "with Wald and likelihood-ratio tests that τ² is equal across sites."
        )
    return text


def _curves(cur: dict) -> list[str]:
    f = {"log": "log(t)", "linear": "t"}.get(cur["time_function"], f"ns(t, df = {cur.get('spline_df')})")
    return [
        "## Curves over time",
        "",
        "Every rate a study prints, at whatever month, entered one model per site × histology × endpoint: "
        f"metafor's rma.mv(yi, V, mods = ~ {f}, random = ~ t | study, struct = {cur['struct']!r}), V the rates' "
        f"covariance under the binomial approximation ({cur['tau2_method']}, {cur['ci_method']} tests, level "
        f"{cur['level']:g}). Curves are tabulated from {cur['from']:g} to {cur['to']:g} months every {cur['step']:g}; "
        f"a cell with fewer than {cur['min_studies']} studies or all rates at one time point falls back to the "
        "per-time-point pooling"
        + (
            ", and so does a cell in which no study prints two or more time points (no within-study information "
            "on time). "
            if cur["between_studies"] != "allow"
            else "; a cell in which no study prints two time points is fitted across studies (curves.between_studies: "
            "allow), a slope that compares different studies at different months. "
        )
        + (
            "A curve cannot rise: the slope is constrained to be at most 0, and a fit at that bound is the model "
            "without the time term (a flat curve), which the tables say."
            if cur["time_function"] != "spline"
            else "A curve cannot rise: a spline fit that rises is refused, and its cell falls back."
        ),
        "",
    ]


def _robustness(rob: dict) -> list[str]:
    text = []
    gosh = rob.get("gosh", {})
    if gosh.get("enabled"):
        text.append(
            "GOSH analyses refit every pooled cell of three or more studies to all 2^k − 1 subsets of its studies "
            f"(up to {gosh['exhaustive_max']} subsets; beyond that {gosh['samples']} random subsets, seed "
            f"{rob['seed']})."
        )
    multi = rob.get("multiverse", {})
    if multi.get("enabled"):
        choices = "; ".join(
            f"{k.replace('_', ' ')} {_list(v)}"
            for part in ("inclusion", "pooling")
            for k, v in multi.get(part, {}).items()
        )
        size = "the full factorial" if not multi.get("max_specs") else f"a seeded sample of {multi['max_specs']}"
        text.append(
            f"A multiverse analysis repeated the pooling over {size} of the specifications crossing {choices}; "
            f"estimates within ±{100 * multi['equivalence_margin']:g} percentage points of the main analysis count "
            "as clinically equivalent."
        )
    return ["## Robustness", "", " ".join(text), ""] if text else []


def _dose(dose: dict) -> list[str]:
    scale = "ln BED10" if dose["scale"] == "log" else "BED10"
    return [
        "## Dose-response",
        "",
        f"The logit of {dose['endpoint']} at {dose['timepoint_months']:g} months"
        + (f" (± {dose['tolerance_months']:g} months)" if dose["tolerance_months"] else "")
        + f" was regressed on {scale} (α/β = {dose['alpha_beta']:g} Gy; one dose per arm: "
        f"{DOSE_RULE_LABELS.get(dose['dose_rule'], dose['dose_rule'])}), arms of one study sharing a study random "
        f"effect (metafor's rma.mv with random = ~ 1 | study/arm; {dose['tau2_method']}, {dose['ci_method']} tests), "
        f"per site with at least {dose['min_arms']} arms and across sites with site as a moderator."
        + (
            " Rates at other time points were converted under a constant hazard."
            if dose.get("convert_timepoint")
            else ""
        )
        + f" BED50, γ50 and the BED10 giving {100 * dose['target_lc']:g}% control have delta-method and "
        f"parametric-bootstrap CIs ({dose['bootstrap']['replicates']} replicates, seed {dose['bootstrap']['seed']})."
        + _alpha_beta_profile(dose),
        "",
    ]


def _alpha_beta_profile(dose: dict) -> str:
    """The sentence on α/β from the data (``alpha_beta_mode: profile``), or nothing."""
    if dose.get("alpha_beta_mode", "fixed") != "profile":
        return ""
    grid = dose["alpha_beta_grid"]
    return (
        f" α/β was also estimated from the data: its profile likelihood over {grid['points']} values log-spaced from "
        f"{grid['low']:g} to {grid['high']:g} Gy, every arm's BED recomputed at each value and the model refitted by "
        "maximum likelihood (REML likelihoods of different designs are not comparable), the maximum refined by "
        f"Brent's method and a likelihood-ratio {100 * dose['level']:g}% interval (χ²₁ cutoff); where that interval "
        "is open at an end of the grid α/β is reported as not identifiable from these data. Slope, BED50 and "
        f"BED{100 * dose['target_lc']:g} at the estimate come from the model above refitted at that α/β. The "
        "estimates of Klement et al. (Radiother Oncol 2017;123:218; lung metastases 13–23 Gy, liver metastases "
        "16–28 Gy, colorectal primaries 43 ± 4.7 Gy) are shown for reference."
    )


def _assessed_items(table: pd.DataFrame, tool) -> str:
    """What the sheet judged: per item, how many studies have a score (not "not assessed"; "not reported"
    counted apart), and how many an overall judgement."""
    n = len(table)
    parts = []
    for number, (column, wording) in enumerate(tool.items, start=1):
        values = table[column].astype(str)
        scored = int(values.isin(tool.values).sum())
        unreported = int((values == NOT_REPORTED).sum())
        if scored or unreported:
            parts.append(
                f"item {number} ({wording.lower()}) for {scored} of {n} studies"
                + (f", not reported for {unreported}" if unreported else "")
            )
    unjudged = [str(i) for i, (c, _) in enumerate(tool.items, start=1) if set(table[c].astype(str)) <= {NOT_ASSESSED}]
    overall = int(table["overall"].astype(str).isin(OVERALL).sum())
    text = "The sheet scores " + ("; ".join(parts) if parts else "no item for any study") + ". "
    if unjudged:
        text += (
            f"Item{'s' if len(unjudged) > 1 else ''} {', '.join(unjudged)} {'were' if len(unjudged) > 1 else 'was'} "
        )
        text += "not assessed for any study. "
    text += f"{overall} of {n} studies have an overall judgement" + (
        " (low, some concerns, high); the rest are not assessed." if overall < n else "."
    )
    return text


def _follow_up_text(follow_up: pd.DataFrame | None) -> str:
    """MINORS item 6 per pooled result: the rule and how the run's study results score."""
    if follow_up is None:
        return "Item 6 (follow-up appropriate to the aim) is the sheet's judgement, as its source column states. "
    n = follow_up_counts(follow_up)
    return (
        "Item 6 (follow-up appropriate to the aim) is the sheet's judgement per study, as its source column states, "
        f"and the run judges it again for each pooled result, against that result's time point: {FOLLOW_UP_RULE}. "
        f"Of {len(follow_up)} study results (results/tables/follow_up_by_result.csv), {n['2']} score 2, {n['1']} "
        f"score 1 and {n[NOT_REPORTED]} are not reported; these are reported, not used by the GRADE rule. "
    )


def _risk_of_bias(data: dict, table: pd.DataFrame | None = None, follow_up: pd.DataFrame | None = None) -> list[str]:
    """What was assessed, by whom (the sheet's optional ``assessors``; never invented) and how: from the
    risk-of-bias table of the run (``risk_of_bias.csv``) when given, and MINORS item 6 per pooled result
    (``follow_up``)."""
    rob = data.get("risk_of_bias")
    if not rob:
        return [
            "## Risk of bias in studies",
            "",
            "No risk-of-bias sheet was given: every study is reported as not assessed.",
            "",
        ]
    tool = TOOLS[rob["tool"]]
    text = (
        f"Risk of bias was recorded per study with {tool.title} ({len(tool.items)} items) in {rob['path']}, each "
        "judgement with its source; a study without a row is reported as not assessed, which is never read as high "
        "risk. "
    )
    if table is not None and len(table):
        text += _assessed_items(table, tool) + " "
    if rob["tool"] == "MINORS":
        text += "The MINORS total (out of 16) is given only for a study with all 8 items scored. "
        text += _follow_up_text(follow_up)
        derive = rob.get("overall_from_total")
        if derive:
            text += (
                f"Where the sheet gives no overall judgement, it is derived from the total by the stated rule "
                f"({rule_text(derive)}; Slim et al. 2003 give no cut-offs); a sheet judgement that contradicts the "
                f"rule is {'refused' if derive.get('contradiction', 'refuse') == 'refuse' else 'kept with a warning'}. "
            )
    assessors = rob.get("assessors") or []
    text += (
        f"Assessed by {_list(assessors)}. "
        if assessors
        else "The sheet names no assessors (config data.risk_of_bias.assessors), so none are given here. "
    )
    text += (
        "Judgements are shown in a traffic-light plot, a summary plot weighted by each study's weight in the "
        "syntheses, and beside every forest plot."
    )
    return ["## Risk of bias in studies", "", text, ""]


def _ceiling_text(ceiling: str) -> str:
    """What a provisional cell's certainty can reach (config ``grade.risk_of_bias.provisional_ceiling``)."""
    if ceiling == "high":
        return "provisional (no cap on its certainty: grade.risk_of_bias.provisional_ceiling is high);"
    return f"provisional and reaches at most {ceiling} certainty: {CEILING_WHY};"


def _certainty(grade: dict) -> list[str]:
    r, i, d, m, p = (
        grade[k] for k in ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
    )
    start = grade.get("start", DEFAULT_START)
    dose = grade["dose_response"]
    lines = [
        "## Certainty of the evidence",
        "",
        f"Certainty was rated per pooled result with GRADE. The evidence starts at {start} ({STARTS[start]}). "
        + (
            "The question here is one of prognosis (what fraction of lesions is controlled, or of patients alive, "
            "at a time point after SBRT), not a comparison of treatments. "
            if start == "high"
            else ""
        )
        + "A serious concern rates it down one level, a very serious one two levels, and rating down stops at "
        "very low:",
        "",
        f"- risk of bias: each study's concern by {RULES[r.get('rule', 'overall')]}; serious when at least "
        f"{100 * r['serious']:g}% of the cell's weight comes from studies of serious concern or worse, very serious "
        f"when at least {100 * r['very_serious']:g}% comes from studies of very serious concern. A study no one "
        "assessed is counted as neither (never as high risk); a cell with no assessed study is not assessed, and a "
        f"cell with at least {100 * r.get('provisional', 0.5):g}% of its weight from studies not assessed is marked "
        + _ceiling_text(r.get("provisional_ceiling", DEFAULT_CEILING)),
        f"- inconsistency: I² from {i['i2_serious']:g}% or a prediction interval at least {100 * i['pi_width']:g} "
        f"percentage points wide (clinically different rates) is serious; I² from {i['i2_very_serious']:g}% with such "
        "an interval very serious; a single study is not assessable;",
        f"- indirectness: the share of the weight from studies whose patients mix primary tumours, serious from "
        f"{100 * d['serious']:g}%, very serious from {100 * d['very_serious']:g}%;",
        f"- imprecision: {IMPRECISION_RULE}, with ci_width {100 * m['ci_width']:g} and ci_width_very_serious "
        f"{100 * m.get('ci_width_very_serious', 0.4):g} percentage points and the optimal information size "
        f"z² p(1 − p) / margin² at margin ± {100 * m['margin']:g} points (widths compared as printed, to 0.1 point); "
        f"{SINGLE_STUDY[m.get('single_study', DEFAULT_SINGLE_STUDY)]};",
        f"- publication bias: with at least {p['min_k']} studies, the funnel plots' regression test "
        f"p < {p['regtest_p']:g} or trim and fill "
        f"imputing at least {100 * p['trimfill_share']:g}% of k makes it strongly suspected (one level); with fewer, "
        "not assessable, which never rates down;",
        (
            f"- a dose-response gradient (BED slope p < {dose['p']:g}, in the direction of benefit) rates up one level "
            f"when nothing was rated down, because: {dose['reason']}."
            if dose.get("upgrade")
            else "- no rating up for a dose-response gradient: a between-study gradient of the rate on BED10 does not "
            "raise confidence in a pooled rate (grade.dose_response.upgrade is off)."
        ),
        "",
    ]
    overrides = grade.get("overrides", [])
    if overrides:
        lines += [
            f"{len(overrides)} judgement{'s were' if len(overrides) > 1 else ' was'} overruled by the authors, "
            "each with its reason in the summary-of-findings table.",
            "",
        ]
    return lines


TOLERANCES = (
    "The estimates are tested against R's metafor (fixtures made by tests/metafor/): the inverse-variance "
    "models, meta-regressions, multilevel, dose-response and curve models at 1e-6 relative or tighter; the "
    "binomial-normal GLMM at 1e-5 relative against a tightly converged lme4 glmer fit, and at 1e-4 (estimate, "
    "τ²) and 1e-3 (standard error, p-values) relative against rma.glmm itself (tests/test_glmm.py)."
)


# Optional config sections, each described by its function when the config has it.
FURTHER_SECTIONS = {"sensitivity": _sensitivity, "curves": _curves, "robustness": _robustness}


def _further(config: dict) -> list[str]:
    lines = []
    for key, describe in FURTHER_SECTIONS.items():
        if config.get(key):
            lines += describe(config[key])
    return lines


def methods_markdown(
    config: dict,
    versions: dict | None = None,
    risk_of_bias: pd.DataFrame | None = None,
    config_files: list[str] | None = None,
    note: str | None = None,
    follow_up: pd.DataFrame | None = None,
) -> str:
    """The methods section as Markdown, from ``config`` (the run's config), ``versions``
    (default: :func:`software_versions`) and the run's risk-of-bias table (what was assessed);
    ``config_files``: the config files the run read, lowest precedence first; ``note``: a paragraph
    before the methods (the synthetic-data warning); ``follow_up``: MINORS item 6 per pooled result
    (:func:`sbrtmeta.data.minors.follow_up_by_result`), counted in the risk-of-bias paragraph."""
    versions = versions or software_versions()
    files = _list(config_files) if config_files else "config/config.yaml and any --configfile"
    later = ", the later taking precedence" if config_files and len(config_files) > 1 else ""
    out = [
        "# Statistical methods",
        "",
        *([note, ""] if note else []),
        f"Written by the workflow from the configuration this run used ({files}{later}).",
        "",
    ]
    out += _inclusion(config["inclusion"])
    out += _synthesis(config["pooling"], config.get("sensitivity") or {})
    if config.get("dose_response"):
        out += _dose(config["dose_response"])
    out += _further(config)
    out += _risk_of_bias(config["data"], risk_of_bias, follow_up)
    if config.get("grade"):
        out += _certainty(config["grade"])
    out += [
        "## Software",
        "",
        "The analyses ran in a Snakemake workflow with "
        + _list(f"{name} {v}" for name, v in versions.items())
        + ". "
        + TOLERANCES,
        "",
    ]
    return "\n".join(out).rstrip("\n") + "\n"
