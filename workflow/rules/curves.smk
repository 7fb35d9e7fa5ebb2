# Local control and survival as curves (issue 13): one job fits every cell and writes the
# tables; curve_figures draws a figure per site × endpoint from them into results/figures/curves/
# (a figures.* change reruns only the drawing).


rule curves:
    """Curve model per site × histology × endpoint on every printed rate; the tables."""
    input:
        outcomes="results/clean/outcomes.csv",
        risk_of_bias=inclusion_risk_of_bias(),
        pooled="results/tables/pooled.csv",
        code=code_of("../scripts/curves.py"),
    output:
        curves="results/tables/survival_curves.csv",
        models="results/tables/curve_models.csv",
        studies="results/tables/curve_studies.csv",
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
    script:
        "../scripts/curves.py"


rule curve_figures:
    """A figure per site × endpoint with a fitted curve, drawn from the curve tables."""
    input:
        curves=rules.curves.output.curves,
        models=rules.curves.output.models,
        studies=rules.curves.output.studies,
        code=code_of("../scripts/curve_figures.py"),
    output:
        folder=report(
            directory("results/figures/curves"),
            patterns=[f"curve_{{site}}_{{endpoint}}.{report_format()}"],
            caption="../report/curves.rst",
            category="Survival curves",
            labels={"site": "{site}", "endpoint": "{endpoint}"},
        ),
    log:
        "results/logs/curve_figures.log",
    benchmark:
        "results/benchmarks/curve_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/curve_figures.py"
