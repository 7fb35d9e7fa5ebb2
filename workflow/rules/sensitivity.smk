# Sensitivity analyses of the pooled cells (issue 12): the cumulative meta-analysis and the
# Baujat plots. One job writes both tables, one draws both folders of figures from them (a
# Python job costs ~1 s of imports; a figures.* change reruns only the drawing). Switched off
# in config, a table is written empty and its folder holds no figure.

SENSITIVITY = config["sensitivity"]


rule sensitivity:
    """Cumulative meta-analysis (studies added by year) and Baujat tables of every pooled cell."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        included="results/tables/included.csv",
        code=code_of("../scripts/sensitivity.py"),
    output:
        cumulative="results/tables/cumulative.csv",
        baujat="results/tables/baujat.csv",
    log:
        "results/logs/sensitivity.log",
    benchmark:
        "results/benchmarks/sensitivity.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        sensitivity={k: SENSITIVITY[k] for k in ("cumulative", "baujat")},
        level=config["pooling"]["level"],
    script:
        "../scripts/sensitivity.py"


rule sensitivity_figures:
    """The cumulative forest plots and Baujat plots, drawn from the sensitivity tables."""
    input:
        cumulative=rules.sensitivity.output.cumulative,
        baujat=rules.sensitivity.output.baujat,
        code=code_of("../scripts/sensitivity_figures.py"),
    output:
        cumulative_figures=cell_figures("cumulative", "Cumulative meta-analysis"),
        baujat_figures=report(
            directory("results/figures/baujat"),
            patterns=[f"baujat_{{cell}}.{report_format()}"],
            caption="../report/baujat.rst",
            category="Baujat plots",
            labels={"cell": "{cell}"},
        ),
    log:
        "results/logs/sensitivity_figures.log",
    benchmark:
        "results/benchmarks/sensitivity_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        endpoints=config["inclusion"]["endpoints"],
        level=config["pooling"]["level"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/sensitivity_figures.py"
