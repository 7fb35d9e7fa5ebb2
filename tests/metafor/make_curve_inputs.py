"""Inputs of make_curve_fixtures.R: the shipped cells the curve model fits and a synthetic set.

    python tests/metafor/make_curve_inputs.py results/clean/outcomes.csv config/config.yaml \
        tests/fixtures/curve_inputs.csv

Rows: dataset, study, grp (the cohort whose rates are correlated), t (months), x (events), n.
The shipped cells are those of :func:`sbrtmeta.analysis.curves.curve_rows` (every printed
time point; config's inclusion criteria). The synthetic set has 20 studies with 1-4 time
points each, rates from a nested binomial (the survivors at t_j are drawn from those at
t_i), seeded; its times are 12, 24, 36 only for the HCS fits (a variance per level).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import yaml
from sbrtmeta.analysis.curves import CELL, curve_rows
from sbrtmeta.data.inclusion import read_outcomes


def synthetic(seed: int, times: list, n_studies: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_studies):
        m = int(rng.integers(1, min(4, len(times)) + 1))
        ts = np.sort(rng.choice(times, m, replace=False))
        n = int(rng.integers(20, 150))
        u = rng.normal(0.0, 0.5)
        alive, prev = n, 1.0
        for t in ts:
            p = 1.0 / (1.0 + np.exp(-(3.0 - 0.6 * np.log(t) + u + rng.normal(0.0, 0.3))))
            cond = min(1.0, p / prev)
            prev = min(prev, p)
            alive = int(rng.binomial(alive, cond))
            rows.append(dict(study=f"s{s:02d}", grp=f"s{s:02d}", t=float(t), x=alive, n=n))
    return pd.DataFrame(rows)


def main(outcomes_path, config_path, out_path):
    cfg = yaml.safe_load(open(config_path, encoding="utf-8"))
    rows = curve_rows(read_outcomes(outcomes_path), cfg["inclusion"], cfg["pooling"]["histology"])
    parts = []
    for key, cell in rows.groupby(CELL, sort=True):
        if cell["study_id"].nunique() < 3 or cell["timepoint_months"].nunique() < 2:
            continue
        name = "shipped:" + "|".join(key)
        parts.append(
            pd.DataFrame(
                dict(
                    dataset=name,
                    study=cell["study_id"],
                    grp=cell["study_id"] + "/" + cell["arm"],
                    t=cell["timepoint_months"].astype(float),
                    x=cell["events"].astype(int),
                    n=cell["n"].astype(int),
                )
            )
        )
    parts.append(synthetic(20261130, [6, 12, 18, 24, 36, 48, 60]).assign(dataset="synthetic"))
    parts.append(synthetic(7, [12, 24, 36]).assign(dataset="synthetic3"))
    out = pd.concat(parts, ignore_index=True)[["dataset", "study", "grp", "t", "x", "n"]]
    out.to_csv(out_path, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
