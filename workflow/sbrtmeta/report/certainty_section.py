"""The summary-of-findings section of ``summary.md``: a pure function of
``summary_of_findings.csv`` (:func:`sbrtmeta.analysis.certainty.summary_of_findings`).

:func:`summary_of_findings_table` returns the table in GRADEpro's layout as a DataFrame of text
with its lettered footnotes, and :func:`summary_of_findings_markdown` the same as Markdown: the
HTML report and the docx can reuse either."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.analysis.grade_rules import CAPPED
from sbrtmeta.data.risk_of_bias import NOT_ASSESSED, OVERALL
from sbrtmeta.plots.labels import ci_text, endpoint_name, level_text, site_title
from sbrtmeta.report.formats import apa_p_values

# Certainty as GRADEpro prints it (Guyatt et al. J Clin Epidemiol 2011;64:383-394, the summary-of-findings table).
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
# Informative statements by certainty (Santesso et al. J Clin Epidemiol 2020;119:126-135), worded for a rate.
HEDGES = {"high": "is about", "moderate": "is probably about", "low": "may be about"}
SOF_HEADER = [
    "Outcome",
    "Metastases",
    "№ of participants (studies)",
    "Rate, % (CI)",
    "Certainty of the evidence (GRADE)",
    "Comments",
]
PROFILE_HEADER = [
    "Site",
    "Histology",
    "Outcome",
    "Risk of bias",
    "Inconsistency",
    "Indirectness",
    "Imprecision",
    "Publication bias",
    "Dose-response",
    "Certainty",
]
PROFILE_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "dose_response")
DOMAIN_TITLES = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
    "dose_response": "Dose-response gradient",
}
RATING = {"serious", "very serious", "strongly suspected", "upgrade"}


def _true(x) -> bool:
    return str(x).strip().lower() == "true"


def _histology(r) -> str:
    return r.histology if isinstance(r.histology, str) else ""


def _outcome(r) -> str:
    return f"{endpoint_name(r.endpoint)} at {float(r.timepoint_months):g} months"


def letters(n: int) -> list[str]:
    """Footnote letters a, b, ..., z, aa, ab, ... as GRADEpro numbers its footnotes."""
    out = []
    for i in range(n):
        word = ""
        i += 1
        while i:
            i, rest = divmod(i - 1, 26)
            word = chr(ord("a") + rest) + word
        out.append(word)
    return out


def statement(r) -> str:
    """The row's informative statement (Santesso 2020): the hedge of its certainty, or "very uncertain"."""
    lesions = f"{r.site}s" if r.site.endswith("recurrence") else f"{r.site} metastases"
    where = f"after SBRT of {lesions}" + (f" ({_histology(r)})" if _histology(r) else "")
    what = f"{endpoint_name(r.endpoint).lower()} at {float(r.timepoint_months):g} months {where}"
    if r.certainty == "very low":
        text = f"The evidence is very uncertain about {what}."
    else:
        text = f"{what[:1].upper()}{what[1:]} {HEDGES[r.certainty]} {pct_text(r.estimate)}."
    if _true(getattr(r, "provisional", False)):
        text += " Provisional: the risk of bias of most of this evidence was not assessed."
    return text


def pct_text(p: float) -> str:
    return f"{100 * float(p):.0f}%"


def _footnotes(r) -> list[str]:
    """The row's footnotes: each domain that rated down or up (its judgement and reason), and why it is
    provisional. p-values in APA style (the table's reasons print ``p = 0.062``)."""
    notes = [
        f"{DOMAIN_TITLES[d]}: {getattr(r, d)}: {apa_p_values(str(getattr(r, f'{d}_reason')))}"
        for d in PROFILE_DOMAINS
        if getattr(r, d) in RATING
    ]
    if _true(getattr(r, "provisional", False)) and r.risk_of_bias not in RATING:
        notes.append(f"Risk of bias: {r.risk_of_bias} (provisional): {apa_p_values(str(r.risk_of_bias_reason))}")
    if CAPPED in str(getattr(r, "certainty_reason", "")):
        notes.append(
            f"Certainty at most {r.certainty} while provisional (grade.risk_of_bias.provisional_ceiling): high "
            "certainty needs the risk of bias judged; a cap, not a rating down"
        )
    return notes


def sof_header(level: float | None) -> list[str]:
    """:data:`SOF_HEADER` with the CI's level (config's ``pooling.level``) in the rate's column."""
    rate = f"Rate, % ({level_text(level)} CI)" if level is not None else "Rate, % (CI)"
    return [rate if h == "Rate, % (CI)" else h for h in SOF_HEADER]


def summary_of_findings_table(sof: pd.DataFrame, level: float | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The summary-of-findings table in GRADEpro's layout (:data:`SOF_HEADER`: outcome and time point,
    № of participants (studies), the rate with its CI, certainty as ⊕⊕◯◯ with its word and footnote
    letters, an informative statement) and its lettered footnotes (``"a. Risk of bias: ..."``), one per
    rating down or up, lettered through the table (rows with the same reason share a letter). Plain
    text, for summary.md and for the HTML report and the docx to reuse."""
    rows, letter_of = [], {}  # one letter per distinct footnote: rows with the same reason share it
    for r in sof.itertuples(index=False):
        for text in _footnotes(r):
            letter_of.setdefault(text, letters(len(letter_of) + 1)[-1])
        marks = sorted((letter_of[text] for text in _footnotes(r)), key=lambda m: (len(m), m))
        certainty = f"{SYMBOLS[r.certainty]} {r.certainty.upper()}" + (" (provisional)" if _true(r.provisional) else "")
        rows.append(
            [
                _outcome(r),
                site_title(r.site, _histology(r) or None),
                f"{int(r.n_total)} ({int(r.k)} {'study' if int(r.k) == 1 else 'studies'})",
                ci_text(r.estimate, r.ci_low, r.ci_high),
                certainty + (f" {','.join(marks)}" if marks else ""),
                statement(r),
            ]
        )
    return pd.DataFrame(rows, columns=sof_header(level)), [f"{m}. {text}" for text, m in letter_of.items()]


def _markdown(frame: pd.DataFrame) -> list[str]:
    def cell(x) -> str:
        return str(x).replace("|", "/")

    return [
        "| " + " | ".join(frame.columns) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
        *("| " + " | ".join(cell(x) for x in row) + " |" for row in frame.itertuples(index=False)),
    ]


def summary_of_findings_markdown(sof: pd.DataFrame, level: float | None = None) -> list[str]:
    """:func:`summary_of_findings_table` as Markdown lines: the table, then its footnotes."""
    table, notes = summary_of_findings_table(sof, level)
    return [*_markdown(table), "", *(f"{n}" for n in notes)]


def _profile_row(r) -> list:
    return [
        r.site,
        _histology(r),
        _outcome(r),
        *(getattr(r, d) for d in PROFILE_DOMAINS),
        f"{r.certainty}" + (" (provisional)" if _true(r.provisional) else ""),
    ]


def risk_of_bias_lines(rob: pd.DataFrame | None) -> list[str]:
    """How many studies were assessed and their overall judgements (``risk_of_bias.csv``)."""
    if rob is None or rob.empty:
        return []
    assessed = rob["assessed"].astype(str).str.lower().eq("true")
    counts = rob["overall"].value_counts()
    overall = "; ".join(f"{level} {counts[level]}" for level in (*OVERALL, NOT_ASSESSED) if level in counts)
    text = (
        f"Risk of bias ({rob['tool'].iloc[0]}, results/tables/risk_of_bias.csv): {len(rob)} studies in the data, "
        f"{int(assessed.sum())} with a row in the risk-of-bias sheet; overall judgement: {overall}."
    )
    if (~assessed).any():
        text += " Not assessed (no row): " + ", ".join(rob.loc[~assessed, "label"].astype(str)) + "."
    return [text, ""]


def certainty_lines(
    sof: pd.DataFrame | None, rob: pd.DataFrame | None = None, level: float | None = None, *, profile: bool = True
) -> list[str]:
    """``## Certainty of the evidence`` with the studies' risk of bias, the summary-of-findings table in
    GRADEpro's layout with its footnotes, and (``profile``) the evidence profile (each domain's judgement; else
    :func:`evidence_profile_lines` gives it for an appendix)."""
    out = ["## Certainty of the evidence (GRADE)", "", *risk_of_bias_lines(rob)]
    if sof is None or sof.empty:
        return out + ["No pooled result, so no certainty was rated.", ""]
    out += [
        f"Summary of findings: one row per pooled result. The evidence starts at {sof['start'].iloc[0]} (methods.md "
        "says why); each footnote gives a domain that rated it down or up, with the rule's reason "
        "(results/tables/summary_of_findings.csv has every domain's reason). Participants are lesions for local "
        "control where a study prints them (else patients) and patients for survival (config "
        "cleanup.denominator). Provisional: the cell's risk of bias rests mostly on studies no one assessed, "
        "counted as neither low nor high.",
        "",
        *summary_of_findings_markdown(sof, level),
        "",
    ]
    if profile:
        out += ["Evidence profile: each domain's judgement.", "", *_profile_markdown(sof), ""]
    return out + [
        "The statistical methods, written from the config used, are in methods.md and the PRISMA 2020 "
        "checklist in prisma_checklist.md (this folder).",
        "",
    ]


def _profile_markdown(sof: pd.DataFrame) -> list[str]:
    profile = pd.DataFrame([_profile_row(r) for r in sof.itertuples(index=False)], columns=PROFILE_HEADER)
    return _markdown(profile)


def evidence_profile_lines(sof: pd.DataFrame | None) -> list[str]:
    """Appendix B: the GRADE evidence profile, each domain's judgement of every pooled result."""
    if sof is None or sof.empty:
        return []
    return ["### B. GRADE evidence profile", "", "Each domain's judgement.", "", *_profile_markdown(sof), ""]
