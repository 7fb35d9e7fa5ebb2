"""Baujat table: each study's contribution to heterogeneity and its influence on the pooled
estimate, per pooled cell of three or more studies (metafor's ``baujat(res)``, computed by
:func:`sbrtmeta.stats.influence.baujat` with the cell's τ² estimator and CI method; GLMM
cells with REML τ², as for the cumulative analysis). :mod:`sbrtmeta.plots.baujat` draws it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sbrtmeta.analysis.cumulative import MAX_STUDIES, cell_groups, refit_methods, too_many
from sbrtmeta.data.cells import CELL, row_place
from sbrtmeta.stats.influence import baujat

MIN_K = 3
INFINITE_NOTE = (
    "influence not finite: without this study the Knapp-Hartung standard error is 0 "
    "(the other studies are identical), as in metafor"
)
COLUMNS = [
    *CELL,
    "study_id",
    "label",
    "k",
    "transform",
    "tau2_method",
    "ci_method",
    "contribution",
    "influence",
    "largest_contribution",
    "note",
]


def baujat_table(
    pooled: pd.DataFrame, studies: pd.DataFrame, level: float = 0.95, min_k: int = MIN_K, max_studies: int = MAX_STUDIES
) -> pd.DataFrame:
    """One row per study of every pooled cell with ``min_k`` or more studies: its squared
    Pearson residual (``contribution``, the Baujat plot's x axis) and the squared standardized
    shift of the pooled estimate without it (``influence``, the y axis). ``largest_contribution``
    marks the study contributing most to the cell's heterogeneity. A cell of more than
    ``max_studies`` studies gets one row saying it was not computed."""
    out = []
    for cell, group in cell_groups(pooled, studies, min_k):
        method, ci, note = refit_methods(cell)
        skipped = too_many(cell, group, max_studies, method)
        if skipped:
            out.append(skipped)
            continue
        try:
            res = baujat(group["yi"].to_numpy(float), group["vi"].to_numpy(float), method, ci, level)
        except (ValueError, RuntimeError, FloatingPointError, np.linalg.LinAlgError) as exc:
            out.append(dict(**row_place(cell), k=len(group), tau2_method=method, note=f"not estimable: {exc}"))
            continue
        top = int(np.argmax(res.contribution))
        for i, s in enumerate(group.itertuples()):
            finite = bool(np.isfinite(res.influence[i]))
            why = "" if finite else INFINITE_NOTE
            out.append(
                dict(
                    **row_place(cell),
                    study_id=s.study_id,
                    label=s.label,
                    k=len(group),
                    transform=str(cell.transform),
                    tau2_method=method,
                    ci_method=ci,
                    contribution=res.contribution[i],
                    influence=res.influence[i] if finite else np.nan,
                    largest_contribution=i == top,
                    note="; ".join(filter(None, [note, why])),
                )
            )
    return pd.DataFrame(out, columns=COLUMNS)
