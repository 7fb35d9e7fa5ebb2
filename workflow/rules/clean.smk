rule clean_extraction:
    """Apply the corrections ledger, parse the printed cells and write the tidy table."""
    input:
        sheets=config["data"]["sheets"],
        corrections=config["data"]["corrections"],
        code=package("extraction", "printed_cells", "dose_strings", "raw_schema", "vocabulary"),
    output:
        outcomes="results/clean/outcomes.csv",
    params:
        cleanup=config["cleanup"],
    log:
        "results/logs/clean_extraction.log",
    script:
        "../scripts/clean_extraction.py"
