"""Inputs of make_curve_fixtures.R: the shipped cells the curve model fits and a synthetic set.

    python tests/metafor/make_curve_inputs.py results/clean/outcomes.csv config/config.yaml \
        tests/fixtures/curve_inputs.csv tests/fixtures/dose_time_inputs.csv

Rows: dataset, study, grp (the cohort whose rates are correlated), t (months), x (events), n.
The shipped cells are those of :func:`sbrtmeta.analysis.curves.curve_rows` (every printed
time point; config's inclusion criteria). The synthetic set has 20 studies with 1-4 time
points each, rates from a nested binomial (the survivors at t_j are drawn from those at
t_i), seeded; its times are 12, 24, 36 only for the HCS fits (a variance per level).

The second file holds the dose x time model's inputs (dataset, study, arm, t, x, n, bed): the
shipped sites' LC arms of ``dose_response.time: model`` (every rate at its printed month,
:func:`sbrtmeta.analysis.dose_arms.select_dose_arms`) with at least 3 arms, and a synthetic set
of 14 studies with 1-3 dose arms each printing 1-3 nested rates.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import yaml
from sbrtmeta.analysis.curves import curve_rows
from sbrtmeta.data.cells import CURVE
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


def synthetic_dose_time(seed: int = 9, n_studies: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_studies):
        u = rng.normal(0.0, 0.4)
        for a in range(int(rng.integers(1, 4))):
            bed = float(rng.choice([60.0, 75.0, 100.0, 112.5, 150.0, 180.0]))
            ts = np.sort(rng.choice([6.0, 12.0, 18.0, 24.0, 36.0], int(rng.integers(1, 4)), replace=False))
            n = int(rng.integers(15, 80))
            # the arm's effect over time: CAR, variance 0.4, correlation 0.95^|t_i - t_j|
            w = rng.multivariate_normal(np.zeros(ts.size), 0.4 * 0.95 ** np.abs(ts[:, None] - ts[None, :]))
            alive, prev = n, 1.0
            for t, wt in zip(ts, w):
                eta = -4.0 + 1.4 * np.log(bed) - 0.5 * np.log(t / 24.0) + u + wt
                p = 1.0 / (1.0 + np.exp(-eta))
                cond = min(1.0, p / prev)
                prev = min(prev, p)
                # strictly fewer each time: two equal rates of one arm make V singular (no events between)
                alive = min(int(rng.binomial(alive, cond)), alive - 1)
                rows.append(dict(study=f"s{s:02d}", arm=f"a{a}", t=t, x=alive, n=n, bed=bed))
    return pd.DataFrame(rows)


def dose_time_inputs(outcomes, cfg) -> pd.DataFrame:
    from sbrtmeta.analysis.dose_arms import select_dose_arms

    dose = dict(cfg["dose_response"], time="model")
    arms, _ = select_dose_arms(outcomes, cfg["inclusion"], dose, cfg["pooling"]["histology"])
    parts = []
    for (site, hist), a in arms.groupby(["site", "histology"], sort=True):
        if len(a.drop_duplicates(["study_id", "arm"])) < 3:
            continue
        parts.append(
            pd.DataFrame(
                dict(
                    dataset=f"shipped:{site}|{hist}",
                    study=a["study_id"],
                    arm=a["arm"],
                    t=a["printed_timepoint_months"].astype(float),
                    x=a["events"].astype(int),
                    n=a["n"].astype(int),
                    bed=a["bed"].astype(float),
                )
            )
        )
    parts.append(synthetic_dose_time().assign(dataset="synthetic"))
    return pd.concat(parts, ignore_index=True)[["dataset", "study", "arm", "t", "x", "n", "bed"]]


def main(outcomes_path, config_path, out_path, dose_out_path):
    cfg = yaml.safe_load(open(config_path, encoding="utf-8"))
    outcomes = read_outcomes(outcomes_path)
    dose_time_inputs(outcomes, cfg).to_csv(dose_out_path, index=False)
    rows = curve_rows(outcomes, cfg["inclusion"], cfg["pooling"]["histology"])
    parts = []
    for key, cell in rows.groupby(CURVE, sort=True):
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
    main(*sys.argv[1:5])
