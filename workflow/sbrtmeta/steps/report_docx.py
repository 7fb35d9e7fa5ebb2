"""The report_docx step: the result tables, methods.md and the figures in; ``results/report/report.docx``
out (:func:`sbrtmeta.report.word.write_docx`)."""

from __future__ import annotations

from sbrtmeta.report.certainty_section import summary_of_findings_table
from sbrtmeta.report.headline import headline_sentences, headline_table, participant_units, synthetic_note
from sbrtmeta.report.study_lists import included_studies, study_exclusions
from sbrtmeta.report.summary import figure_files, figure_list
from sbrtmeta.report.word import DocxTable, docx_figures, without_empty_funnels, write_docx

TITLE = "SBRT for oligometastases: results"


def report_docx(
    tables: dict, methods: str, figures: list[str], out: str, sites: list[str] | None = None, level: float = 0.95
) -> None:
    """``report.docx`` from ``tables`` (pooled, pooled_studies, included, excluded, sof), the text of methods.md
    and the figure paths (files or folders): the headline table and its sentences, the summary of findings,
    the methods, the flow diagram, the included and excluded studies, and the forest, funnel, dose-response
    and curve figures; ``level``: the pooling's confidence level (config's ``pooling.level``)."""
    pooled, sof = tables["pooled"], tables["sof"]
    units = participant_units(tables["pooled_studies"], tables["included"])
    sof_frame, sof_notes = summary_of_findings_table(sof, level)
    listed, no_funnel = without_empty_funnels(figure_list(figure_files(figures)), pooled)
    shown = docx_figures(listed, level)
    flow = [f for f in shown if "Flow diagram" in f.caption]
    intro = [
        "Written by the workflow from the tables in results/tables/ (the same numbers as summary.md); proportions in %."
    ]
    note = synthetic_note(tables["included"])
    intro = [note, *intro] if note else intro
    sections = [
        (
            "Answer",
            [
                DocxTable(
                    "Table 1. Pooled rates: one row per site × histology × endpoint × time point.",
                    headline_table(pooled, sof, units, sites, level),
                    [
                        "k: studies; participants as the cell's studies count them (lesions or patients); PI: "
                        "prediction interval; certainty ⊕⊕⊕⊕ high to ⊕◯◯◯ very low (Table 2). A rate from one "
                        "study (k = 1) is that study's, not pooled."
                    ],
                ),
                "\n".join(f"- {line}" for line in headline_sentences(pooled, sof, units, sites, level)),
            ],
        ),
        (
            "Summary of findings",
            [DocxTable("Table 2. Summary of findings (GRADE).", sof_frame, sof_notes)],
        ),
        ("Statistical methods", [methods.split("\n", 1)[1] if methods.startswith("# ") else methods]),
        (
            "Study selection",
            [
                *flow,
                DocxTable(
                    "Table 3. Included studies: the first author and year any of their rows print, the review and "
                    "the reference number it printed, and the sources of the extracted values.",
                    included_studies(tables["included"], tables["excluded"]),
                ),
                DocxTable(
                    "Table 4. Excluded rows per study, with the first criterion each failed.",
                    study_exclusions(tables["excluded"], tables["included"]),
                ),
            ],
        ),
        ("Figures", [f for f in shown if f not in flow] + no_funnel),
    ]
    write_docx(out, TITLE, intro, sections)
