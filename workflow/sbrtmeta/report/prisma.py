"""``results/report/prisma_checklist.md``: each PRISMA 2020 item (Page et al., BMJ
2021;372:n71) mapped to the workflow's file and section that answers it; the items no
workflow can answer (title, search, registration ...) are "to be completed by the authors".
"""

from __future__ import annotations

from sbrtmeta.data.risk_of_bias import TOOLS

AUTHORS = "to be completed by the authors"
COVERED = "covered by the workflow"
PARTLY = "partly"
# What the workflow leaves to the authors in items it answers only in part.
MISSING = {
    "9": (
        "who the readers were; the independent second reading and its reconciliation (data/double_extraction/) "
        "cover the 2014 colorectal review only, the primary studies' abstracts (primary_studies.csv) were read once"
    ),
    "16a": "the search and screening counts above the extracted reports (records identified, screened, assessed)",
    "23b": "the discussion of the limitations beyond the GRADE reasons",
}

# (section, item, topic, where: None = the authors' part)
ITEMS = (
    ("Title", "1", "Title", None),
    ("Abstract", "2", "Abstract", None),
    ("Introduction", "3", "Rationale", None),
    ("Introduction", "4", "Objectives", None),
    (
        "Methods",
        "5",
        "Eligibility criteria",
        "results/report/methods.md, Eligibility and data; config/config.yaml, inclusion",
    ),
    ("Methods", "6", "Information sources", None),
    ("Methods", "7", "Search strategy", None),
    ("Methods", "8", "Selection process", None),
    (
        "Methods",
        "9",
        "Data collection process",
        "data/raw/README.md (extraction as printed, corrections ledger); data/double_extraction/",
    ),
    ("Methods", "10a", "Data items: outcomes", "config/README.md (tidy sheet columns); results/clean/outcomes.csv"),
    (
        "Methods",
        "10b",
        "Data items: other variables",
        "config/README.md (tidy sheet columns); results/clean/outcomes.csv",
    ),
    (
        "Methods",
        "11",
        "Study risk of bias assessment",
        "results/report/methods.md, Risk of bias in studies; {rob_sheet}",
    ),
    ("Methods", "12", "Effect measures", "results/report/methods.md, Effect measure and synthesis"),
    (
        "Methods",
        "13a",
        "Synthesis methods: eligibility for each synthesis",
        "results/report/methods.md, Eligibility and data; results/tables/excluded.csv",
    ),
    (
        "Methods",
        "13b",
        "Synthesis methods: data preparation",
        "results/report/methods.md, Effect measure and synthesis (transform, continuity correction)",
    ),
    ("Methods", "13c", "Synthesis methods: tabulation and display", "results/report/summary.md, Figures"),
    (
        "Methods",
        "13d",
        "Synthesis methods: model and software",
        "results/report/methods.md, Effect measure and synthesis; Software",
    ),
    (
        "Methods",
        "13e",
        "Synthesis methods: heterogeneity",
        "results/report/methods.md, Effect measure and synthesis (subgroups by site); Dose-response",
    ),
    (
        "Methods",
        "13f",
        "Synthesis methods: sensitivity analyses",
        "results/report/methods.md (leave-one-out; further sections)",
    ),
    (
        "Methods",
        "14",
        "Reporting bias assessment",
        "results/report/methods.md, Effect measure and synthesis (funnel plots, the regression test for funnel "
        "asymmetry on the configured predictor, trim and fill)",
    ),
    ("Methods", "15", "Certainty assessment", "results/report/methods.md, Certainty of the evidence"),
    (
        "Results",
        "16a",
        "Study selection: flow",
        "results/figures/flow_diagram/ (extracted → included; the search counts are the authors')",
    ),
    (
        "Results",
        "16b",
        "Study selection: excluded studies",
        "results/tables/excluded.csv (one criterion per row); summary.md, Study selection",
    ),
    ("Results", "17", "Study characteristics", "results/tables/included.csv"),
    (
        "Results",
        "18",
        "Risk of bias in studies",
        "results/tables/risk_of_bias.csv; results/figures/risk_of_bias/ (traffic light, summary); forest plots",
    ),
    ("Results", "19", "Results of individual studies", "results/tables/pooled_studies.csv; results/figures/forest/"),
    (
        "Results",
        "20a",
        "Results of syntheses: characteristics and risk of bias",
        "results/report/summary.md, Sites; Certainty of the evidence",
    ),
    (
        "Results",
        "20b",
        "Results of syntheses: statistical results",
        "results/tables/pooled.csv; summary.md, Pooled estimates",
    ),
    (
        "Results",
        "20c",
        "Results of syntheses: heterogeneity",
        "results/tables/subgroup_tests.csv, dose_response.csv; summary.md",
    ),
    (
        "Results",
        "20d",
        "Results of syntheses: sensitivity analyses",
        "results/tables/leave_one_out_*.csv; results/figures/leave_one_out/",
    ),
    ("Results", "21", "Reporting biases", "results/figures/funnel/"),
    (
        "Results",
        "22",
        "Certainty of evidence",
        "results/tables/summary_of_findings.csv; summary.md, Certainty of the evidence",
    ),
    ("Discussion", "23a", "Interpretation", None),
    (
        "Discussion",
        "23b",
        "Limitations of the evidence",
        "results/tables/summary_of_findings.csv (reasons per domain); the rest " + AUTHORS,
    ),
    ("Discussion", "23c", "Limitations of the review processes", None),
    ("Discussion", "23d", "Implications", None),
    ("Other information", "24a", "Registration", None),
    ("Other information", "24b", "Protocol", None),
    ("Other information", "24c", "Amendments to the protocol", None),
    ("Other information", "25", "Support", None),
    ("Other information", "26", "Competing interests", None),
    (
        "Other information",
        "27",
        "Availability of data, code and other materials",
        "this repository: data/raw/, config/, workflow/ (run `snakemake`)",
    ),
)


def _risk_of_bias_gap(config: dict, table) -> str | None:
    """What item 11 lacks: no sheet, or items and overall judgements not assessed (None: nothing)."""
    if not config["data"].get("risk_of_bias"):
        return "no risk-of-bias sheet (data.risk_of_bias): every study is not assessed"
    if table is None or not len(table):
        return None
    items = [c for c in TOOLS[str(table["tool"].iloc[0])].columns if c in table]
    unassessed = sum(int((table[c].astype(str) == "not assessed").sum()) for c in items)
    no_overall = int((table["overall"].astype(str) == "not assessed").sum())
    if not unassessed and not no_overall:
        return None
    return (
        f"{unassessed} of {len(table) * len(items)} item judgements and {no_overall} of {len(table)} overall "
        "judgements are not assessed in the sheet"
    )


def _status(item: str, where, gap: str | None) -> str:
    if where is None:
        return AUTHORS
    missing = gap if item == "11" else MISSING.get(item)
    return f"{PARTLY}: missing {missing}" if missing else COVERED


def prisma_markdown(config: dict, risk_of_bias=None) -> str:
    """The checklist as Markdown: one row per PRISMA 2020 item with where the workflow answers it and its
    status: covered, partly (with what is missing: :data:`MISSING`, and for item 11 what the run's
    risk-of-bias table ``risk_of_bias`` lacks) or to be completed by the authors."""
    rob = config["data"].get("risk_of_bias")
    rob_sheet = rob["path"] if rob else "no risk-of-bias sheet in config (data.risk_of_bias): studies not assessed"
    gap = _risk_of_bias_gap(config, risk_of_bias)
    rows, statuses = [], []
    for section, item, topic, where in ITEMS:
        status = _status(item, where, gap)
        statuses.append(status)
        shown = where.format(rob_sheet=rob_sheet) if where is not None else "–"
        rows.append(f"| {section} | {item} | {topic} | {shown} | {status} |")
    n_covered = statuses.count(COVERED)
    n_partly = sum(s.startswith(PARTLY) for s in statuses)
    return (
        "\n".join(
            [
                "# PRISMA 2020 checklist",
                "",
                f"Where the workflow answers each item of the PRISMA 2020 checklist (Page et al., BMJ 2021;372:n71): "
                f"{n_covered} of {len(ITEMS)} items are covered by a file, {n_partly} partly (the status says what is "
                f"missing); the other {len(ITEMS) - n_covered - n_partly} are {AUTHORS} (search, selection, "
                "registration, discussion ...).",
                "",
                "| Section | Item | Topic | Where (file, section) | Status |",
                "|---|---|---|---|---|",
                *rows,
            ]
        )
        + "\n"
    )
