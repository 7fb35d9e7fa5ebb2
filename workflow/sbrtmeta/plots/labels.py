"""The one home of the words and number formats that figures, the report and the rules print.

Endpoint names, site titles, the names of models, transforms, τ² estimators, CI methods,
selection criteria and dose rules, and the formats of percentages, CIs and p-values.
Every figure, :mod:`sbrtmeta.report.summary` and ``workflow/rules/plots.smk`` import
them from here, so a name is changed in one place. Pure text: no numbers are computed.
It imports nothing heavy (no pandas), so that the rules can import it when Snakemake
parses the workflow.
"""

from __future__ import annotations

import math
import re

ENDPOINT_LABELS = {"LC": "Local control", "OS": "Overall survival"}
TRANSFORM_LABELS = {
    "PLO": "Logit transform",
    "PR": "Untransformed proportions",
    "PAS": "Arcsine transform",
    "PFT": "Freeman-Tukey double arcsine transform",
}
# The model scale of each transform, as axis and footnote text.
SCALE_NAMES = {"PLO": "logit", "PR": "proportion", "PAS": "arcsine", "PFT": "Freeman-Tukey"}
TAU2_LABELS = {
    "REML": "REML τ²",
    "ML": "ML τ²",
    "DL": "DerSimonian-Laird τ²",
    "PM": "Paule-Mandel τ²",
    "EB": "empirical Bayes τ²",
    "HE": "Hedges τ²",
    "HS": "Hunter-Schmidt τ²",
    "SJ": "Sidik-Jonkman τ²",
    "FE": "common-effect model",
    "EE": "equal-effects model",
    "CE": "common-effect model",
    "CO": "Cochran (Hedges) τ²",
    "VC": "variance-component (Hedges) τ²",
    "MP": "Mandel-Paule τ²",
    "HSk": "Hunter-Schmidt τ² (k-corrected)",
    "DLIT": "iterated DerSimonian-Laird τ²",
    "SJIT": "iterated Sidik-Jonkman τ²",
    "PMM": "median-unbiased Paule-Mandel τ²",
    "GENQ": "generalized Q τ² (weights: patients per arm)",
    "GENQM": "median-unbiased generalized Q τ² (weights: patients per arm)",
    "GLMM": "binomial-normal GLMM (ML, 7-node adaptive quadrature)",
}
CI_NAMES = {"knha": "Knapp-Hartung", "adhoc": "Knapp-Hartung (ad hoc correction)", "z": "Wald (z)"}


def level_text(level: float) -> str:
    """``"90%"`` from the confidence level 0.9 (config's ``level``): every label that names a level
    takes it from here."""
    return f"{100 * float(level):g}%"


def level_prefix(level) -> str:
    """``"90% "`` (level 0.9) before "CI" when the level is known, else nothing: a label never names a
    level the analysis did not use."""
    try:
        known = level is not None and math.isfinite(float(level))
    except (TypeError, ValueError):
        known = False
    return f"{level_text(level)} " if known else ""


def ci_label(ci_method: str, level: float) -> str:
    """``"Knapp-Hartung 90% CI"`` at level 0.9."""
    return f"{CI_NAMES.get(ci_method, ci_method)} {level_text(level)} CI"


# sensitivity.study_ci: each study's interval (pooled_studies.csv's study_ci column) in words.
STUDY_CI_LABELS = {
    "clopper-pearson": "Clopper-Pearson (exact)",
    "wilson": "Wilson score",
    "wilson-cc": "Wilson score with continuity correction",
    "agresti-coull": "Agresti-Coull",
    "jeffreys": "Jeffreys",
    "wald": "Wald",
}


def continuity_text(studies) -> str:
    """The footnote on the continuity correction of the drawn ``studies`` (rows of
    pooled_studies.csv; its continuity_add/continuity_to columns, escalc's add/to), or ""
    when it touched none of them."""
    boundary = ((studies["events"] == 0) | (studies["events"] == studies["n"])).any()
    to = str(studies["continuity_to"].iloc[0]) if "continuity_to" in studies and len(studies) else "only0"
    add = float(studies["continuity_add"].iloc[0]) if "continuity_add" in studies and len(studies) else 0.5
    if to == "all" or (to == "if0all" and boundary):
        return (
            f"Every study is drawn with {add:g} added to events and non-events "
            f'(continuity correction, escalc\'s to = "{to}").'
        )
    if to == "only0" and boundary:
        return (
            f"Studies at 0 % or 100 % are drawn with {add:g} added to events and non-events "
            "(continuity correction, as metafor's escalc)."
        )
    return ""


def study_ci_text(study_ci: str, scale: str, level: float) -> str:
    """Which interval the study rows draw, for a figure's footnote."""
    if study_ci == "wald":
        return f"Study {level_text(level)} CIs: Wald, on the {scale} scale"
    return f"Study {level_text(level)} CIs: {STUDY_CI_LABELS.get(study_ci, study_ci)}, from events and n"


MODEL_LABELS = {
    "random effects": "Random-effects model",
    "common effect": "Common-effect model",
    "GLMM": "Random-effects GLMM",
}
# Why a row was excluded: the criteria of sbrtmeta.data.inclusion.CRITERIA in words.
CRITERION_LABELS = {
    "review": "review not selected",
    "excluded_study": "study excluded by name in config",
    "risk_of_bias": "risk of bias above max_risk_of_bias (or not assessed, with not_assessed: exclude)",
    "site": "site not selected",
    "endpoint": "endpoint not selected",
    "design": "study design not selected",
    "primary": "primary tumour not selected",
    "no_single_rate": "no single rate reported",
    "basis": "rate basis not pooled (e.g. crude)",
    "timepoint": "time point off the configured targets",
    "n_not_reported": "sample size not reported",
    "min_n": "sample size below min_n",
    "one_row_per_study": "another arm or source of the study kept",
    "overlapping_cohort": "overlapping cohort (other report kept)",
}
# The choices of the multiverse (robustness.multiverse), as its figures and the summary name them.
CHOICE_LABELS = {
    "min_n": "Minimum n",
    "tolerance_months": "Time-point tolerance (months)",
    "crude": "Crude proportions",
    "mixed_primaries": "Mixed primaries",
    "overlaps": "Overlapping cohorts",
    "histology_grouping": "Histology grouping",
    "transform": "Transform",
    "model": "Model",
    "tau2_method": "τ² estimator",
    "ci_method": "CI method",
}
# dose_response.dose_rule in words.
DOSE_RULE_LABELS = {
    "median_or_midpoint": "printed median, else midpoint of the BED range",
    "minimum": "lowest BED of the range",
    "maximum": "highest BED of the range",
    "exclude_ranges": "arms with a dose range left out",
}


# A study label on a figure is at most this many characters (a longer one ends in "…"; the tables
# keep the whole text): a 500-character author name made a forest plot 9,841 px wide.
LABEL_CHARS = 40


def shorten(text, width: int = LABEL_CHARS) -> str:
    """``text`` cut to ``width`` characters with an ellipsis when longer (figures only); a study
    label's ``year [ref]`` ending is kept whole when it leaves room for some of the name."""
    text = str(text)
    if len(text) <= width:
        return text
    tail = re.search(r"( \d{4})?( \[[^\]]*\])$", text)
    keep = tail.group(0) if tail and len(tail.group(0)) <= width // 2 else ""
    head = text[: len(text) - len(keep)]
    return head[: width - len(keep) - 1].rstrip() + "…" + keep


def endpoint_name(endpoint: str) -> str:
    """``"Local control"`` for ``"LC"``; an unknown endpoint as it is."""
    return ENDPOINT_LABELS.get(endpoint, endpoint)


def endpoint_axis_label(endpoint: str, timepoint_months: float, endpoint_label: str | None = None) -> str:
    """``"Local control at 24 months"``."""
    name = endpoint_label or endpoint_name(endpoint)
    return f"{name} at {float(timepoint_months):g} months"


def site_title(site: str, histology: str | None = None) -> str:
    """``"Lymph node"``, or ``"Liver, colorectal"`` with a histology."""
    title = site[:1].upper() + site[1:]
    return f"{title}, {histology}" if histology else title


def pct(p: float) -> str:
    """A proportion in % with one decimal: ``"86.7"``."""
    return f"{100 * float(p):.1f}"


def ci_text(est: float, lo: float, hi: float) -> str:
    """``"86.7 [69.4, 94.9]"`` from proportions."""
    return f"{pct(est)} [{pct(lo)}, {pct(hi)}]"


def p_value(p: float) -> str:
    """A p-value in APA style (Publication Manual, 7th ed., 6.36): three decimals without the leading zero,
    ``"< .001"`` below 0.001 and ``"> .999"`` above 0.999: ``".042"``."""
    if p < 0.001:
        return "< .001"
    if p > 0.999:
        return "> .999"
    return f"{p:.3f}".removeprefix("0")


def p_text(p: float) -> str:
    """``"p < .001"``, ``"p = .042"`` or ``"p > .999"`` (:func:`p_value`)."""
    value = p_value(p)
    return f"p {value}" if value[0] in "<>" else f"p = {value}"


def statistic_text(test: str, qm: float, df1, df2=None) -> str:
    """``"F(2, 12) = 0.08"`` for an F test, else ``"χ²(2) = 0.16"``."""
    if str(test) == "F":
        return f"F({int(df1)}, {int(df2)}) = {qm:.2f}"
    return f"χ²({int(df1)}) = {qm:.2f}"


def heterogeneity_text(cell) -> str:
    """``"Heterogeneity: τ² = 0.12, I² = 40%, Q = 6.71 (p = 0.152)"`` from a pooled row."""
    text = f"Heterogeneity: τ² = {cell.tau2:.2f}, I² = {cell.i2:.0f}%, Q = {cell.q:.2f}"
    return text + (f" ({p_text(cell.q_p)})" if _given(cell.q_p) else "")


def _given(x) -> bool:
    """Not None and not NaN (as ``pandas.notna`` for one value)."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def method_text(pooled, level: float) -> str:
    """``"Logit transform, REML τ², Knapp-Hartung 90% CI"`` (level 0.9) per distinct method of the pooled cells."""
    fits = pooled[pooled["k"] >= 2]
    methods = []
    for row in fits[["transform", "tau2_method", "ci_method"]].drop_duplicates().itertuples():
        parts = [
            TRANSFORM_LABELS.get(row.transform, f"{row.transform} transform"),
            TAU2_LABELS.get(row.tau2_method, f"{row.tau2_method} τ²"),
            ci_label(row.ci_method, level),
        ]
        methods.append(", ".join(parts))
    return "; ".join(methods)


def tau2_ci_text(tau2_method: str, ci_method: str, level: float) -> str:
    """``"REML τ², Knapp-Hartung 90% CI"`` at level 0.9."""
    return f"{TAU2_LABELS.get(tau2_method, tau2_method)}, {ci_label(ci_method, level)}"


def dose_model_text(model) -> str:
    """One line for the dose-response figure's footnote from a fit's description (a mapping:
    :func:`sbrtmeta.stats.dose_response.model_description` makes one), e.g.
    ``"Three-level model (arms within studies; REML): logit LC = b0 + b1·ln BED10 + site;
    k = 12 arms, 5 studies; Wald (z) 90% CIs"`` (level 0.9)."""
    kind = (
        "Three-level model (arms within studies"
        if model["multilevel"]
        else "Two-level meta-regression (no study has several arms"
    )
    dose = "b1·ln BED10" if model["scale"] == "log" else "b1·BED10"
    site = " + site" if model["site_moderator"] else ""
    test = "Wald (z)" if model["ci_method"] == "z" else f"t ({model['df']} df)"
    level = f"{level_text(model['level'])} CIs"
    if model["time_model"]:
        study = "study + " if model["study_effect"] else ""
        return (
            f"Dose × time model ({study}arm over time, {model['struct']}; V of each arm's rates; "
            f"{model['tau2_method']}): logit LC = b0 + {dose}{site} + f(t), at {model['timepoint']:g} months; "
            f"k = {model['k']} rates of {model['n_arms']} arms, {model['n_studies']} studies; {test} {level}"
        )
    return (
        f"{kind}; {model['tau2_method']}): logit LC = b0 + {dose}{site}; k = {model['k']} arms, "
        f"{model['n_studies']} studies; {test} {level}"
    )


SHARE_COLUMN = re.compile(r"^share_above_(\d+(?:\.\d+)?)$")  # pooled.csv's pooling.targets columns


def share_cutoffs(columns) -> list[float]:
    """The cutoffs in % of a table's ``share_above_<percent>`` columns (``pooling.targets``), sorted."""
    return sorted(float(m.group(1)) for m in map(SHARE_COLUMN.match, map(str, columns)) if m)


def share_text(row, cutoff_pct: float) -> str:
    """``"62% (41–80)"``: the share of true rates above ``cutoff_pct`` and its interval in whole percent
    (``share_above_<cutoff>``, ``_low``, ``_high`` of ``row``), or ``""`` where it is not given."""
    name = f"share_above_{cutoff_pct:g}"
    values = [getattr(row, name + end, float("nan")) for end in ("", "_low", "_high")]
    if not all(_given(v) for v in values):
        return ""
    est, low, high = (f"{100 * float(v):.0f}" for v in values)
    return f"{est}% ({low}–{high})"


def share_header(cutoff_pct: float, level: float) -> str:
    """The headline table's column of one target: ``"True rates > 80%: share (90% CI)"``."""
    return f"True rates > {cutoff_pct:g}%: share ({level_text(level)} CI)"


def share_sentence(row, cutoffs: list[float], level: float) -> str:
    """One sentence of a pooled cell's targets (``pooling.targets``), e.g. ``"Of the true rates of new series,
    62% (90% CI 44–78) are expected above 80% and 35% (20–52) above 90%."``; ``""`` with none given."""
    parts = [(c, share_text(row, c)) for c in cutoffs]
    parts = [(c, t) for c, t in parts if t]
    if not parts:
        return ""
    (c0, t0), rest = parts[0], parts[1:]
    first = t0.replace("(", f"({level_text(level)} CI ", 1) + f" are expected above {c0:g}%"
    tail = [f"{t} above {c:g}%" for c, t in rest]
    said = first if not tail else ", ".join([first, *tail[:-1]]) + f" and {tail[-1]}"
    return f"Of the true rates of new series (predictive distribution), {said}."
