rule apply_inclusion:
    """Apply the inclusion criteria from config; every excluded row names its criterion."""
    input:
        outcomes="results/clean/outcomes.csv",
        risk_of_bias=inclusion_risk_of_bias(),
        code=code_of("../scripts/apply_inclusion.py"),
    output:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
    log:
        "results/logs/apply_inclusion.log",
    benchmark:
        "results/benchmarks/apply_inclusion.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        inclusion=config["inclusion"],
    script:
        "../scripts/apply_inclusion.py"
