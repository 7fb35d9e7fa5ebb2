"""Snakemake script: pooled_studies.csv → one shard of every cell's GOSH fits
(:func:`sbrtmeta.steps.gosh_shard.gosh_shard`)."""

from sbrtmeta.steps.gosh_shard import gosh_shard
from sbrtmeta.steps.runner import read_result, run_step, write_table


def main(log):
    sm = snakemake  # noqa: F821
    shard, shards = int(sm.wildcards.shard), sm.params.shards
    part = gosh_shard(
        read_result(sm.input.studies), sm.params.pooling, sm.params.gosh, sm.params.seed, shard, shards, sm.threads, log
    )
    write_table(part, sm.output.part)


run_step("gosh_shard", snakemake.log[0], main)  # noqa: F821
