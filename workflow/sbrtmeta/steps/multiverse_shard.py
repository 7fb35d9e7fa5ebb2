"""The multiverse_shard step: one shard of the multiverse's specifications, every cell pooled
(:func:`sbrtmeta.analysis.multiverse.multiverse_shard`)."""

from __future__ import annotations

import logging

import pandas as pd

from sbrtmeta.analysis import multiverse

_LOG = logging.getLogger(__name__)


def multiverse_shard(
    outcomes: pd.DataFrame,
    inclusion: dict,
    pooling: dict,
    options: dict,
    seed: int,
    shard: int,
    shards: int,
    log: logging.Logger = _LOG,
    risk_of_bias: dict | None = None,
) -> pd.DataFrame:
    """``part_<shard>.csv`` from ``outcomes.csv``; ``options`` is config's ``robustness.multiverse``,
    ``risk_of_bias`` each study's overall judgement (for ``inclusion.max_risk_of_bias``)."""
    part = multiverse.multiverse_shard(outcomes, inclusion, pooling, options, seed, shard, shards, risk_of_bias)
    log.info(
        "multiverse shard %d of %d: %d specifications, %d rows", shard + 1, shards, part["spec"].nunique(), len(part)
    )
    return part
