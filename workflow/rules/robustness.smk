# Robustness at scale (issue 15): GOSH of every pooled cell with k >= 3 and the multiverse of
# defensible choices. Each analysis is split into robustness.shards independent jobs (rules
# gosh_shard and multiverse_shard, wildcard shard = 0, 1, ...) that a scheduler can spread,
# one gather job (rules gosh and multiverse) that writes the tables, and one drawing job (rules
# gosh_figures and multiverse_figures) that draws the figures from those tables only, so a
# figures.* change reruns the drawing and rewrites no table. The tables are the same bytes
# whatever the number of shards.

ROBUSTNESS = config["robustness"]
ROBUSTNESS_SHARDS = list(range(ROBUSTNESS["shards"]))
ROBUSTNESS_RESOURCES = dict(runtime=ROBUSTNESS["runtime_minutes"], mem_mb=ROBUSTNESS["mem_mb"])
# what the GOSH fits depend on (robustness.gosh.highlight only chooses the plots' panels)
GOSH_FITS = {key: ROBUSTNESS["gosh"][key] for key in ("exhaustive_max", "samples")}


rule gosh_shard:
    """One shard of the GOSH fits of every pooled cell with three or more studies."""
    input:
        studies="results/tables/pooled_studies.csv",
        code=code_of("../scripts/gosh_shard.py"),
    output:
        part="results/robustness/gosh/part_{shard}.csv",
    log:
        "results/logs/gosh_shard_{shard}.log",
    benchmark:
        "results/benchmarks/gosh_shard/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    conda:
        "../envs/sbrtmeta.yaml"
    threads: 1
    resources:
        **ROBUSTNESS_RESOURCES,
    params:
        pooling=config["pooling"],
        gosh=GOSH_FITS,
        seed=ROBUSTNESS["seed"],
        shards=ROBUSTNESS["shards"],
    script:
        "../scripts/gosh_shard.py"


rule gosh:
    """GOSH tables per cell and the per-study shifts (gathers the shards)."""
    input:
        parts=expand("results/robustness/gosh/part_{shard}.csv", shard=ROBUSTNESS_SHARDS),
        studies="results/tables/pooled_studies.csv",
        code=code_of("../scripts/gosh.py"),
    output:
        tables=directory("results/tables/gosh"),
        studies="results/tables/gosh_studies.csv",
    log:
        "results/logs/gosh.log",
    benchmark:
        "results/benchmarks/gosh.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    threads: 1
    resources:
        **ROBUSTNESS_RESOURCES,
    params:
        pooling=config["pooling"],
        gosh=GOSH_FITS,
    script:
        "../scripts/gosh.py"


rule gosh_figures:
    """A GOSH plot per cell, drawn from the GOSH tables."""
    input:
        tables=rules.gosh.output.tables,
        studies=rules.gosh.output.studies,
        code=code_of("../scripts/gosh_figures.py"),
    output:
        figures=report(
            directory("results/figures/gosh"),
            patterns=[f"gosh_{{cell}}.{report_format()}"],
            caption="../report/gosh.rst",
            category="GOSH plots",
            labels={"cell": "{cell}"},
        ),
    log:
        "results/logs/gosh_figures.log",
    benchmark:
        "results/benchmarks/gosh_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    threads: 1
    resources:
        **ROBUSTNESS_RESOURCES,
    params:
        highlight=ROBUSTNESS["gosh"]["highlight"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/gosh_figures.py"


rule multiverse_shard:
    """One shard of the multiverse: its specifications, every cell of each pooled."""
    input:
        outcomes="results/clean/outcomes.csv",
        risk_of_bias=inclusion_risk_of_bias(),
        code=code_of("../scripts/multiverse_shard.py"),
    output:
        part="results/robustness/multiverse/part_{shard}.csv",
    log:
        "results/logs/multiverse_shard_{shard}.log",
    benchmark:
        "results/benchmarks/multiverse_shard/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    priority: 2  # the longest chain (shards, gather, then the specification curves): start it first
    conda:
        "../envs/sbrtmeta.yaml"
    threads: 1
    resources:
        **ROBUSTNESS_RESOURCES,
    params:
        inclusion=config["inclusion"],
        pooling=config["pooling"],
        multiverse=ROBUSTNESS["multiverse"],
        seed=ROBUSTNESS["seed"],
        shards=ROBUSTNESS["shards"],
    script:
        "../scripts/multiverse_shard.py"


rule multiverse:
    """multiverse.csv and its summaries against the main analysis (gathers the shards)."""
    input:
        parts=expand("results/robustness/multiverse/part_{shard}.csv", shard=ROBUSTNESS_SHARDS),
        pooled="results/tables/pooled.csv",
        code=code_of("../scripts/multiverse.py"),
    output:
        table="results/tables/multiverse.csv",
        summary="results/tables/multiverse_summary.csv",
        choices="results/tables/multiverse_choices.csv",
    log:
        "results/logs/multiverse.log",
    benchmark:
        "results/benchmarks/multiverse.tsv"
    priority: 2  # the longest chain (shards, gather, then the specification curves): start it first
    conda:
        "../envs/sbrtmeta.yaml"
    threads: 1
    resources:
        **ROBUSTNESS_RESOURCES,
    params:
        margin=ROBUSTNESS["multiverse"]["equivalence_margin"],
    script:
        "../scripts/multiverse.py"


rule multiverse_figures:
    """A specification curve per pooled cell of two or more studies, drawn from the multiverse tables."""
    input:
        table=rules.multiverse.output.table,
        summary=rules.multiverse.output.summary,
        code=code_of("../scripts/multiverse_figures.py"),
    output:
        figures=report(
            directory("results/figures/specification_curve"),
            patterns=[f"specification_curve_{{cell}}.{report_format()}"],
            caption="../report/specification_curve.rst",
            category="Specification curves",
            labels={"cell": "{cell}"},
        ),
    log:
        "results/logs/multiverse_figures.log",
    benchmark:
        "results/benchmarks/multiverse_figures.tsv"
    priority: 2  # the longest chain (shards, gather, then the specification curves): start it first
    conda:
        "../envs/sbrtmeta.yaml"
    threads: 1
    resources:
        **ROBUSTNESS_RESOURCES,
    params:
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/multiverse_figures.py"
