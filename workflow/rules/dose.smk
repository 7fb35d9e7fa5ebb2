# The figure (rule dose_response_figures) goes into a folder (results/figures/dose_response/dose_response_LC_24m.png):
# an output name built from config (the endpoint and time point, the formats) would leave the job without metadata
# for the new name, and Snakemake would not see a changed time point (it checks params only when every output has
# metadata). The statistics (rule dose_response) write only tables, so a figures.* change reruns only the drawing.
DOSE = config["dose_response"]
# the keys of the fits (the α/β profile's are rule alpha_beta_profile's)
DOSE_FIT = {k: v for k, v in DOSE.items() if k not in ("alpha_beta_mode", "alpha_beta_grid")}
# the keys the bubble plot's labels and file name use (sbrtmeta.steps.dose_response_figures)
DOSE_LABELS = ("endpoint", "timepoint_months", "tolerance_months", "time", "level", "alpha_beta", "dose_rule")


rule dose_response:
    """Multilevel meta-regression of LC on BED10 per site and across sites; TCP parameters; the curves the figure draws."""
    input:
        outcomes="results/clean/outcomes.csv",
        risk_of_bias=inclusion_risk_of_bias(),
        code=code_of("../scripts/dose_response.py"),
    output:
        table="results/tables/dose_response.csv",
        arms="results/tables/dose_response_arms.csv",
        left_out="results/tables/dose_response_left_out.csv",
        curves="results/tables/dose_response_curves.csv",
        models="results/tables/dose_response_models.csv",
    log:
        "results/logs/dose_response.log",
    benchmark:
        "results/benchmarks/dose_response.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        # (the α/β profile's keys are rule alpha_beta_profile's: switching it on does not refit this rule)
        dose=DOSE_FIT,
        inclusion=config["inclusion"],
        histology=config["pooling"]["histology"],
        curves=config["curves"] if DOSE["time"] == "model" else {},
    script:
        "../scripts/dose_response.py"


rule dose_response_figures:
    """The bubble plot of LC against BED10 with the fitted curves, drawn from the dose-response tables."""
    input:
        table=rules.dose_response.output.table,
        arms=rules.dose_response.output.arms,
        curves=rules.dose_response.output.curves,
        models=rules.dose_response.output.models,
        code=code_of("../scripts/dose_response_figures.py"),
    output:
        figures=cell_figures("dose_response", "Dose-response"),
    log:
        "results/logs/dose_response_figures.log",
    benchmark:
        "results/benchmarks/dose_response_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        dose={key: DOSE[key] for key in DOSE_LABELS},
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/dose_response_figures.py"


rule alpha_beta_profile:
    """α/β from the data (dose_response.alpha_beta_mode: profile): its profile likelihood per dose-response model."""
    input:
        arms=rules.dose_response.output.arms,
        code=code_of("../scripts/alpha_beta_profile.py"),
    output:
        table="results/tables/alpha_beta_profile.csv",
        points="results/tables/alpha_beta_profile_points.csv",
    log:
        "results/logs/alpha_beta_profile.log",
    benchmark:
        "results/benchmarks/alpha_beta_profile.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        dose=DOSE,
    script:
        "../scripts/alpha_beta_profile.py"


rule alpha_beta_profile_figures:
    """The α/β profiles drawn from their tables, a panel per dose-response model."""
    input:
        table=rules.alpha_beta_profile.output.table,
        points=rules.alpha_beta_profile.output.points,
        code=code_of("../scripts/alpha_beta_profile_figures.py"),
    output:
        figures=report(
            directory("results/figures/alpha_beta_profile"),
            patterns=[f"{{figure}}.{report_format()}"],  # (a pattern without a wildcard finds nothing)
            caption="../report/alpha_beta_profile.rst",
            category="Dose-response",
            labels={"figure": "{figure}"},
        ),
    log:
        "results/logs/alpha_beta_profile_figures.log",
    benchmark:
        "results/benchmarks/alpha_beta_profile_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        time=DOSE["time"],  # (time: model has no profile: the figure says so)
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/alpha_beta_profile_figures.py"
