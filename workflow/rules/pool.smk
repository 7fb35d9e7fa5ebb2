checkpoint pool:
    """Random-effects pooling per site × endpoint × time point; say what could not be pooled."""
    input:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
        code=package("analysis/pooling", "stats/effect_sizes", "stats/random_effects", "stats/meta_regression", "stats/glmm"),
    output:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        not_pooled="results/tables/not_pooled.csv",
        subgroups="results/tables/subgroup_tests.csv",
    params:
        pooling=config["pooling"],
        sites=config["inclusion"]["sites"],
        endpoints=config["inclusion"]["endpoints"],
    log:
        "results/logs/pool.log",
    script:
        "../scripts/pool.py"
