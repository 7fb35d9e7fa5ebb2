# Risk of bias and certainty (issue 14). One job checks the risk-of-bias sheet against the
# data's studies; one job rates the certainty of every pooled result (GRADE) and writes the
# methods text and the PRISMA checklist from the config used. Each table's figures are drawn
# by a job of their own that reads only the table (risk_of_bias_figures, certainty_figures),
# so a figures.* change reruns only them. Each rule's params hold only what it reads, so a
# GRADE threshold or override reruns only `certainty`, what reads its tables and the report.

ROB = config["data"].get("risk_of_bias")
ROB_SHEET = [ROB["path"]] if ROB else []  # the sheet of config data.risk_of_bias, if any

# The config sections methods.md describes: all but the figures' looks and how robustness jobs run.
METHODS_CONFIG = {k: v for k, v in config.items() if k != "figures"}
if "robustness" in METHODS_CONFIG:
    METHODS_CONFIG["robustness"] = {
        k: v for k, v in config["robustness"].items() if k not in ("shards", "mem_mb", "runtime_minutes")
    }


rule risk_of_bias:
    """The risk-of-bias sheet checked against the studies; every study's judgements."""
    input:
        outcomes="results/clean/outcomes.csv",
        sheet=ROB_SHEET,
        code=code_of("../scripts/risk_of_bias.py"),
    output:
        table="results/tables/risk_of_bias.csv",
    log:
        "results/logs/risk_of_bias.log",
    benchmark:
        "results/benchmarks/risk_of_bias.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        setting=ROB,
    script:
        "../scripts/risk_of_bias.py"


rule risk_of_bias_figures:
    """The traffic-light and summary plots of the risk-of-bias table."""
    input:
        table=rules.risk_of_bias.output.table,
        code=code_of("../scripts/risk_of_bias_figures.py"),
    output:
        folder=report(
            directory("results/figures/risk_of_bias"),
            patterns=[f"risk_of_bias_{{kind}}.{report_format()}"],
            caption="../report/risk_of_bias.rst",
            category="Risk of bias",
            labels={"figure": "{kind}"},
        ),
    log:
        "results/logs/risk_of_bias_figures.log",
    benchmark:
        "results/benchmarks/risk_of_bias_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        max_studies=config["figures"]["risk_of_bias"]["max_studies"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/risk_of_bias_figures.py"


rule certainty:
    """GRADE summary of findings of every pooled result; MINORS item 6 per pooled result; methods.md and the PRISMA checklist; the weighted risk of bias per pooled result."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        risk_of_bias=rules.risk_of_bias.output.table,
        dose=rules.dose_response.output.table,
        included="results/tables/included.csv",  # whether the data are synthetic (methods.md says so)
        code=code_of("../scripts/certainty.py"),
    output:
        table="results/tables/summary_of_findings.csv",
        follow_up="results/tables/follow_up_by_result.csv",  # MINORS item 6 per study of each pooled result
        methods="results/report/methods.md",  # in the HTML report as HTML (rule report_html)
        prisma="results/report/prisma_checklist.md",
        # per pooled result, the share of its weight from studies of each risk-of-bias concern (rule certainty_figures draws it)
        weighted="results/tables/risk_of_bias_weighted.csv",
    log:
        "results/logs/certainty.log",
    benchmark:
        "results/benchmarks/certainty.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        settings=METHODS_CONFIG,
        overrides_source=key_source("grade.overrides", CONFIG_FILES),  # the file its messages name
        config_files=CONFIG_FILES,  # methods.md names them
    script:
        "../scripts/certainty.py"


rule certainty_figures:
    """The weighted risk-of-bias summary per pooled result, drawn from its table."""
    input:
        weighted=rules.certainty.output.weighted,
        code=code_of("../scripts/certainty_figures.py"),
    output:
        folder=report(
            directory("results/figures/risk_of_bias_weighted"),
            patterns=[f"{{figure}}.{report_format()}"],  # (a pattern without a wildcard finds nothing)
            caption="../report/risk_of_bias_weighted.rst",
            category="Risk of bias",
            labels={"figure": "{figure}"},
        ),
    log:
        "results/logs/certainty_figures.log",
    benchmark:
        "results/benchmarks/certainty_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/certainty_figures.py"
