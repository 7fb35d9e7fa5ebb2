# Sensitivity analyses of the pooled cells (issue 12): the cumulative meta-analysis and the
# Baujat plots. One job writes both tables and both folders of figures (a Python job costs
# ~1 s of imports). Switched off in config, a table is written empty and its folder holds no
# figure.

SENSITIVITY = config["sensitivity"]


rule sensitivity:
    """Cumulative meta-analysis (studies added by year) and Baujat plots of every pooled cell."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        included="results/tables/included.csv",
        code=code_of("../scripts/sensitivity.py"),
    output:
        cumulative="results/tables/cumulative.csv",
        baujat="results/tables/baujat.csv",
        cumulative_figures=cell_figures("cumulative", "Cumulative meta-analysis"),
        baujat_figures=report(
            directory("results/figures/baujat"),
            patterns=[f"baujat_{{cell}}.{report_format()}"],
            caption="../report/baujat.rst",
            category="Baujat plots",
            labels={"cell": "{cell}"},
        ),
    log:
        "results/logs/sensitivity.log",
    benchmark:
        "results/benchmarks/sensitivity.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        sensitivity={k: SENSITIVITY[k] for k in ("cumulative", "baujat")},
        level=config["pooling"]["level"],
        endpoints=config["inclusion"]["endpoints"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/sensitivity.py"
