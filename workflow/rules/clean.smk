rule clean_extraction:
    """Validate every sheet, apply the corrections ledger to the printed ones, parse the
    printed cells and write one tidy table with the tidy sheets' rows after them."""
    input:
        sheets=printed_sheets(),
        corrections=corrections_ledger(),
        tidy_sheets=tidy_sheet_paths(),
        code=code_of("../scripts/clean_extraction.py"),
    output:
        outcomes="results/clean/outcomes.csv",
    log:
        "results/logs/clean_extraction.log",
    benchmark:
        "results/benchmarks/clean_extraction.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        cleanup=config["cleanup"],
        ledger=lambda wildcards, input: input.corrections[0] if input.corrections else None,
        tidy_sheets=config["data"]["tidy_sheets"],
    script:
        "../scripts/clean_extraction.py"
