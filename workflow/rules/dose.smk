DOSE = config["dose_response"]
DOSE_STEM = f"{DOSE['endpoint']}_{DOSE['timepoint_months']:g}m"


rule dose_response:
    """Multilevel meta-regression of LC on BED10 per site and across sites; TCP parameters; bubble plot."""
    input:
        outcomes="results/clean/outcomes.csv",
        risk_of_bias=inclusion_risk_of_bias(),
        code=code_of("../scripts/dose_response.py"),
    output:
        table="results/tables/dose_response.csv",
        arms="results/tables/dose_response_arms.csv",
        left_out="results/tables/dose_response_left_out.csv",
        figures=reported(
            [f"results/figures/dose_response_{DOSE_STEM}.{ext}" for ext in config["figures"]["formats"]],
            "../report/dose_response.rst",
            "Dose-response",
        ),
    log:
        "results/logs/dose_response.log",
    benchmark:
        "results/benchmarks/dose_response.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        dose=DOSE,
        inclusion=config["inclusion"],
        histology=config["pooling"]["histology"],
        curves=config["curves"] if DOSE["time"] == "model" else {},
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/dose_response.py"
