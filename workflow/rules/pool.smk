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
        # the sections PoolingOptions.from_config reads; of sensitivity only the keys pooling uses,
        # so other sensitivity options do not rerun it
        config={
            "pooling": config["pooling"],
            "sensitivity": {k: config["sensitivity"][k] for k in ("study_ci", "continuity")},
        },
        sites=config["inclusion"]["sites"],
        endpoints=config["inclusion"]["endpoints"],
    script:
        "../scripts/pool.py"
