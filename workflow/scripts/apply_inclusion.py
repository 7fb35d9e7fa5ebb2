"""Snakemake script: tidy outcomes → included.csv and excluded.csv."""

from sbrtmeta.data.errors import InputError
from sbrtmeta.data.inclusion import apply_inclusion, read_outcomes
from sbrtmeta.report.step import run_step, write_table


def main(log):
    criteria = snakemake.params.inclusion  # noqa: F821
    tidy = read_outcomes(snakemake.input.outcomes)  # noqa: F821
    known = set(tidy["study_id"])
    for i, e in enumerate(criteria["exclude_studies"]):
        if e["study_id"] not in known:
            raise InputError(
                "names a study that is not in the data (study ids look like crc2014-50)",
                file="config/config.yaml",
                row=f"inclusion.exclude_studies[{i}]",
                column="study_id",
                value=e["study_id"],
            )
    for i, group in enumerate(criteria["overlaps"]):
        for sid in group["studies"]:
            if sid not in known:
                raise InputError(
                    "names a study that is not in the data (study ids look like sarcoma2023-20)",
                    file="config/config.yaml",
                    row=f"inclusion.overlaps[{i}]",
                    column="studies",
                    value=sid,
                )
    included, excluded = apply_inclusion(tidy, criteria)
    write_table(included, snakemake.output.included)  # noqa: F821
    write_table(excluded, snakemake.output.excluded)  # noqa: F821
    log.info("%d rows included, %d excluded", len(included), len(excluded))
    for crit, k in excluded["criterion"].value_counts().sort_index().items():
        log.info("  excluded by %s: %d", crit, k)


run_step("apply_inclusion", snakemake.log[0], main)  # noqa: F821
