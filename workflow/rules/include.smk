rule apply_inclusion:
    """Apply the inclusion criteria from config; every excluded row names its criterion."""
    input:
        outcomes="results/clean/outcomes.csv",
        # read only for inclusion.max_risk_of_bias
        risk_of_bias=(["results/tables/risk_of_bias.csv"] if config["inclusion"].get("max_risk_of_bias") else []),
        code=code_of("../scripts/apply_inclusion.py"),
    output:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
    log:
        "results/logs/apply_inclusion.log",
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        inclusion=config["inclusion"],
    script:
        "../scripts/apply_inclusion.py"
