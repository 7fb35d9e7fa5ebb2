"""Snakemake script: raw sheets + corrections ledger + tidy sheets → results/clean/outcomes.csv
(:func:`sbrtmeta.steps.clean_extraction.clean_extraction`)."""

from sbrtmeta.steps.clean_extraction import clean_extraction
from sbrtmeta.steps.runner import run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    tidy = clean_extraction(
        list(sm.input.sheets), sm.params.ledger, sm.params.cleanup, list(sm.params.tidy_sheets), log
    )
    write_table(tidy, sm.output.outcomes)


run_step("clean_extraction", snakemake.log[0], main)  # noqa: F821
