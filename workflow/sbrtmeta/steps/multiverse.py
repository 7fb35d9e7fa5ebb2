"""The multiverse gather step: the shards' specifications joined into ``multiverse.csv`` and
summarised against the main analysis (:mod:`sbrtmeta.analysis.multiverse_summary`). The specification
curves are drawn from these tables by the multiverse_figures step
(:mod:`sbrtmeta.steps.multiverse_figures`)."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.analysis.multiverse_summary import MultiverseTables, gather_multiverse


def multiverse(parts: list[pd.DataFrame], pooled: pd.DataFrame, margin: float) -> MultiverseTables:
    """``multiverse.csv``, ``multiverse_summary.csv`` and ``multiverse_choices.csv`` from the
    shards' parts (in shard order) and ``pooled.csv``; ``margin``: the equivalence margin."""
    return gather_multiverse(parts, pooled, margin)
