# The figure goes into a folder (results/figures/dose_response/dose_response_LC_24m.png): an
# output name built from config (the endpoint and time point, the formats) would leave the job
# without metadata for the new name, and `snakemake results/tables/dose_response.csv` would not
# see a changed time point (Snakemake checks params only when every output has metadata).
DOSE = config["dose_response"]


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
        figures=cell_figures("dose_response", "Dose-response"),
    log:
        "results/logs/dose_response.log",
    benchmark:
        "results/benchmarks/dose_response.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        # (the α/β profile's keys are rule alpha_beta_profile's: switching it on does not refit this rule)
        dose={k: v for k, v in DOSE.items() if k not in ("alpha_beta_mode", "alpha_beta_grid")},
        inclusion=config["inclusion"],
        histology=config["pooling"]["histology"],
        curves=config["curves"] if DOSE["time"] == "model" else {},
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/dose_response.py"


rule alpha_beta_profile:
    """α/β from the data (dose_response.alpha_beta_mode: profile): its profile likelihood per dose-response model."""
    input:
        arms=rules.dose_response.output.arms,
        code=code_of("../scripts/alpha_beta_profile.py"),
    output:
        table="results/tables/alpha_beta_profile.csv",
        points="results/tables/alpha_beta_profile_points.csv",
        figures=report(
            directory("results/figures/alpha_beta_profile"),
            patterns=[f"{{figure}}.{report_format()}"],  # (a pattern without a wildcard finds nothing)
            caption="../report/alpha_beta_profile.rst",
            category="Dose-response",
            labels={"figure": "{figure}"},
        ),
    log:
        "results/logs/alpha_beta_profile.log",
    benchmark:
        "results/benchmarks/alpha_beta_profile.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        dose=DOSE,
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/alpha_beta_profile.py"
