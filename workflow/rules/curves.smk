# Local control and survival as curves (issue 13): one job fits every cell and draws every
# figure into results/figures/curves/.


rule curves:
    """Curve model per site × histology × endpoint on every printed rate; tables and figures."""
    input:
        outcomes="results/clean/outcomes.csv",
        risk_of_bias=inclusion_risk_of_bias(),
        pooled="results/tables/pooled.csv",
        code=code_of("../scripts/curves.py"),
    output:
        curves="results/tables/survival_curves.csv",
        models="results/tables/curve_models.csv",
        studies="results/tables/curve_studies.csv",
        folder=report(
            directory("results/figures/curves"),
            patterns=[f"curve_{{site}}_{{endpoint}}.{report_format()}"],
            caption="../report/curves.rst",
            category="Survival curves",
            labels={"site": "{site}", "endpoint": "{endpoint}"},
        ),
    log:
        "results/logs/curves.log",
    benchmark:
        "results/benchmarks/curves.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        curves=config["curves"],
        inclusion=config["inclusion"],
        histology=config["pooling"]["histology"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/curves.py"
