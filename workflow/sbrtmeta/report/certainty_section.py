"""The summary-of-findings section of ``summary.md``: a pure function of
``summary_of_findings.csv`` (:func:`sbrtmeta.analysis.certainty.summary_of_findings`)."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.data.risk_of_bias import NOT_ASSESSED, OVERALL
from sbrtmeta.plots.labels import ci_text, endpoint_name

HEADER = [
    "Site",
    "Histology",
    "Outcome",
    "k",
    "N",
    "Rate, % [95% CI]",
    "Risk of bias",
    "Inconsistency",
    "Indirectness",
    "Imprecision",
    "Publication bias",
    "Dose-response",
    "Certainty",
]


def _row(r) -> list:
    return [
        r.site,
        r.histology if isinstance(r.histology, str) else "",
        f"{endpoint_name(r.endpoint)} at {float(r.timepoint_months):g} months",
        int(r.k),
        int(r.n_total),
        ci_text(r.estimate, r.ci_low, r.ci_high),
        r.risk_of_bias,
        r.inconsistency,
        r.indirectness,
        r.imprecision,
        r.publication_bias,
        r.dose_response,
        f"**{r.certainty}**",
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


def certainty_lines(sof: pd.DataFrame | None, rob: pd.DataFrame | None = None) -> list[str]:
    """``## Certainty of the evidence`` with the studies' risk of bias, the summary-of-findings
    table and each cell's reason."""
    out = ["## Certainty of the evidence (GRADE)", "", *risk_of_bias_lines(rob)]
    if sof is None or sof.empty:
        return out + ["No pooled result, so no certainty was rated.", ""]

    def cell(r):
        return "| " + " | ".join(str(c).replace("|", "/") for c in _row(r)) + " |"

    out += [
        "Summary of findings: one row per pooled result. Evidence from non-randomised studies starts at low; "
        "each domain's rule and reason are in results/tables/summary_of_findings.csv.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
        *(cell(r) for r in sof.itertuples(index=False)),
        "",
        "Why each certainty:",
        "",
    ]
    for r in sof.itertuples(index=False):
        what = f"{r.site}{f' ({r.histology})' if isinstance(r.histology, str) and r.histology else ''}, "
        what += f"{endpoint_name(r.endpoint).lower()} at {float(r.timepoint_months):g} months"
        out.append(f"- {what}: {r.certainty_reason}.")
        if int(r.k) < 2:
            out.append(f"  Single study: inconsistency: {r.inconsistency_reason}; imprecision: {r.imprecision_reason}.")
        overridden = [
            f"{d.replace('_', ' ')}: {getattr(r, f'{d}_reason')}"
            for d in (
                "risk_of_bias",
                "inconsistency",
                "indirectness",
                "imprecision",
                "publication_bias",
                "dose_response",
            )
            if str(getattr(r, f"{d}_reason")).startswith("overridden")
        ]
        out += [f"  {o}" for o in overridden]
    return out + [
        "",
        "The statistical methods, written from the config used, are in methods.md and the PRISMA 2020 "
        "checklist in prisma_checklist.md (this folder).",
        "",
    ]
