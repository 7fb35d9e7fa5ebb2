"""Snakemake script: raw sheets + corrections ledger + tidy sheets → results/clean/outcomes.csv."""

from sbrtmeta.data.extraction import clean_extraction
from sbrtmeta.report.step import run_step, write_table


def main(log):
    p = snakemake.params.cleanup  # noqa: F821
    sheets, tidy_sheets = list(snakemake.input.sheets), list(snakemake.params.tidy_sheets)  # noqa: F821
    tidy = clean_extraction(
        sheets,
        snakemake.params.ledger,  # noqa: F821
        denominator=dict(p["denominator"]),
        alpha_beta=float(p["alpha_beta"]),
        review_histology=dict(p["review_histology"]),
        tidy_sheets=tidy_sheets,
    )
    write_table(tidy, snakemake.output.outcomes)  # noqa: F821
    printed = tidy[tidy["raw_file"].isin({s.rsplit("/", 1)[-1] for s in sheets})]
    corrected = (printed.drop_duplicates("raw_row")["corrected_columns"] != "").sum()
    log.info(
        "%d tidy rows from %d printed sheet(s) and %d tidy sheet(s); %d raw rows repaired by the corrections ledger",
        len(tidy),
        len(sheets),
        len(tidy_sheets),
        corrected,
    )


run_step("clean_extraction", snakemake.log[0], main)  # noqa: F821
