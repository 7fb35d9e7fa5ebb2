# The summary report: results/report/summary.md gathers the tables and figures, with a
# paragraph per site written from the numbers. The dose-response table joins it when
# a rule `dose_response` exists in the workflow. report_docx puts the same tables, methods.md
# and the main figures into results/report/report.docx, for co-authors and journals.


rule report_summary:
    """The results in one Markdown file, from the tables; figures linked."""
    input:
        pooled="results/tables/pooled.csv",
        pooled_studies="results/tables/pooled_studies.csv",
        subgroups="results/tables/subgroup_tests.csv",
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
        not_pooled="results/tables/not_pooled.csv",
        dose=rules.dose_response.output.table,
        sof=rules.certainty.output.table,
        rob=rules.risk_of_bias.output.table,
        curves=rules.curves.output.curves,
        curve_models=rules.curves.output.models,
        curve_studies=rules.curves.output.studies,
        curve_figures=rules.curve_figures.output.folder,
        sensitivity_tests=rules.sensitivity_tests.output.tests,
        heterogeneity_by_site=rules.sensitivity_tests.output.heterogeneity,
        figures=all_figures,
        dose_figures=rules.dose_response_figures.output.figures,
        rob_figures=rules.risk_of_bias_figures.output.folder,
        weighted_rob_figures=rules.certainty_figures.output.folder,
        gosh=rules.gosh.output.studies if ROBUSTNESS["gosh"]["enabled"] else [],
        multiverse=rules.multiverse.output.summary if ROBUSTNESS["multiverse"]["enabled"] else [],
        alpha_beta=rules.alpha_beta_profile.output.table if DOSE["alpha_beta_mode"] == "profile" else [],
        alpha_beta_figures=(
            rules.alpha_beta_profile_figures.output.figures if DOSE["alpha_beta_mode"] == "profile" else []
        ),
        robustness_figures=robustness_figures,
        cumulative=rules.sensitivity.output.cumulative,
        baujat=rules.sensitivity.output.baujat,
        sensitivity_figures=[
            rules.sensitivity_figures.output.cumulative_figures,
            rules.sensitivity_figures.output.baujat_figures,
        ],
        code=code_of("../scripts/report_summary.py"),
    output:
        "results/report/summary.md",
    log:
        "results/logs/report_summary.log",
    benchmark:
        "results/benchmarks/report_summary.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        sites=config["inclusion"]["sites"],
        targets=config["inclusion"]["timepoints"]["targets"],
        level=config["pooling"]["level"],
    script:
        "../scripts/report_summary.py"


rule report_docx:
    """The report as a Word document: headline table, summary of findings, methods, figures, studies."""
    input:
        pooled="results/tables/pooled.csv",
        pooled_studies="results/tables/pooled_studies.csv",
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
        sof=rules.certainty.output.table,
        methods=rules.certainty.output.methods,
        figures=[
            rules.flow_diagram.output,
            rules.forest_plots.output.folder,
            rules.funnel_plots.output.folder,
            rules.dose_response_figures.output.figures,
            rules.curve_figures.output.folder,
        ],
        code=code_of("../scripts/report_docx.py"),
    output:
        report("results/report/report.docx", caption="../report/docx.rst", category="Summary"),
    log:
        "results/logs/report_docx.log",
    benchmark:
        "results/benchmarks/report_docx.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        sites=config["inclusion"]["sites"],
        level=config["pooling"]["level"],
    script:
        "../scripts/report_docx.py"


# The main tables the HTML report shows (their titles: sbrtmeta.steps.report_html.TABLES), one page each.
HTML_TABLES = [
    "pooled",
    "summary_of_findings",
    "pooled_studies",
    "not_pooled",
    "subgroup_tests",
    "dose_response",
    "included",
    "excluded",
]


rule report_html:
    """The HTML report's pages: summary.md, methods.md, the PRISMA checklist and the main tables as HTML; the landing page's answer."""
    input:
        summary=rules.report_summary.output[0],
        methods=rules.certainty.output.methods,
        prisma=rules.certainty.output.prisma,
        tables=[f"results/tables/{name}.csv" for name in HTML_TABLES],
        code=code_of("../scripts/report_html.py"),
    output:
        summary=report("results/report/html/summary.html", caption="../report/summary.rst", category="Summary"),
        methods=report("results/report/html/methods.html", caption="../report/methods.rst", category="Methods"),
        prisma_checklist=report(
            "results/report/html/prisma_checklist.html", caption="../report/prisma.rst", category="Methods"
        ),
        answer="results/report/html/answer.html",  # the landing page's (workflow/report/workflow.rst)
        tables=[
            report(
                f"results/report/html/tables/{name}.html",
                caption="../report/tables.rst",
                category="Tables",
                labels={"table": f"{name}.csv"},
            )
            for name in HTML_TABLES
        ],
    log:
        "results/logs/report_html.log",
    benchmark:
        "results/benchmarks/report_html.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    script:
        "../scripts/report_html.py"
