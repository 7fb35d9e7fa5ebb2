rule apply_inclusion:
    """Apply the inclusion criteria from config; every excluded row names its criterion."""
    input:
        outcomes="results/clean/outcomes.csv",
        code=package("data/inclusion"),
    output:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
    params:
        inclusion=config["inclusion"],
    log:
        "results/logs/apply_inclusion.log",
    script:
        "../scripts/apply_inclusion.py"
