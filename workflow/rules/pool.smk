checkpoint pool:
    """Random-effects pooling per site × endpoint × time point; say what could not be pooled."""
    input:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
        code=code_of("../scripts/pool.py"),
    output:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        not_pooled="results/tables/not_pooled.csv",
        subgroups="results/tables/subgroup_tests.csv",
    log:
        "results/logs/pool.log",
    benchmark:
        "results/benchmarks/pool.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        pooling=config["pooling"],
        sites=config["inclusion"]["sites"],
        endpoints=config["inclusion"]["endpoints"],
        # only the keys pooling uses, so other sensitivity options do not rerun it
        sensitivity={k: v for k, v in config.get("sensitivity", {}).items() if k in ("study_ci", "continuity")},
    script:
        "../scripts/pool.py"
