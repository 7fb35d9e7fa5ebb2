"""Snakemake script: raw sheets + corrections ledger → results/clean/outcomes.csv."""

from sbrtmeta.extraction import clean_extraction
from sbrtmeta.workflow_step import run_step, write_table


def main(log):
    p = snakemake.params.cleanup  # noqa: F821
    tidy = clean_extraction(list(snakemake.input.sheets), snakemake.input.corrections,  # noqa: F821
                            denominator=dict(p["denominator"]), alpha_beta=float(p["alpha_beta"]),
                            review_histology=dict(p["review_histology"]))
    write_table(tidy, snakemake.output.outcomes)  # noqa: F821
    corrected = (tidy.drop_duplicates("raw_row")["corrected_columns"] != "").sum()
    log.info("%d tidy rows from %d sheet(s); %d raw rows repaired by the corrections ledger",
             len(tidy), len(snakemake.input.sheets), corrected)  # noqa: F821


run_step("clean_extraction", snakemake.log[0], main)  # noqa: F821
