"""The certainty_figures step: ``results/tables/risk_of_bias_weighted.csv`` drawn as the weighted risk-of-bias
summary per pooled result (:func:`sbrtmeta.plots.risk_of_bias.weighted_summary`); it reads only that table, so a
figure setting reruns only this step."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from sbrtmeta.analysis.grade_rules import RULES
from sbrtmeta.plots.labels import endpoint_name, site_title
from sbrtmeta.plots.risk_of_bias import weighted_summary


def certainty_figures(weighted: pd.DataFrame) -> Iterator[tuple[str, Figure]]:
    """``(stem, figure)`` of the weighted per-result risk-of-bias summary of ``weighted``
    (risk_of_bias_weighted.csv), with the note of its ``rule`` column (of config ``grade.risk_of_bias.rule``)."""
    rules = weighted["rule"].astype(str).unique()
    note = "; ".join(f"rule {r}, {RULES[r]}" for r in rules) if len(rules) else "no pooled result"
    labels = [
        f"{site_title(r.site, r.histology if isinstance(r.histology, str) and r.histology else None)}: "
        f"{endpoint_name(r.endpoint).lower()} at {float(r.timepoint_months):g} months (k = {r.k})"
        for r in weighted.itertuples(index=False)
    ]
    yield "risk_of_bias_weighted", weighted_summary(weighted, note, labels)
