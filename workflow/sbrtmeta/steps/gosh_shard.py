"""The gosh_shard step: one shard of every cell's GOSH fits (:func:`sbrtmeta.analysis.gosh.gosh_shard`)."""

from __future__ import annotations

import logging

import pandas as pd

from sbrtmeta.analysis import gosh

_LOG = logging.getLogger(__name__)


def gosh_shard(
    studies: pd.DataFrame,
    pooling: dict,
    options: dict,
    seed: int,
    shard: int,
    shards: int,
    threads: int = 1,
    log: logging.Logger = _LOG,
) -> pd.DataFrame:
    """``part_<shard>.csv`` from ``pooled_studies.csv``; ``options`` is config's ``robustness.gosh``."""
    part = gosh.gosh_shard(studies, pooling, options, seed, shard, shards, threads)
    log.info("GOSH shard %d of %d: %d subsets fitted", shard + 1, shards, len(part))
    return part
