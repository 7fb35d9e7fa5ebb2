"""Write the input rows that tests/metafor/make_metareg_fixtures.R fits with metafor.

Two datasets for the meta-regression engine:

* the project's own data: local control (LC) at 24 months, liver and lung, taken
  row for row from a workflow run's included.csv with the two moderators, site
  (categorical) and bed10 (continuous). Nothing is computed here: effect sizes
  are made by metafor's escalc in the R script (and by sbrtmeta in the tests);
* a synthetic dataset, k = 40, with a 3-level categorical moderator and a
  continuous one, drawn from a seeded generator, so rerunning this script gives
  the same file. The group labels are written in an order that is not sorted,
  so the reference level has to come from sorting, as R's factor() does.

    python tests/metafor/make_metareg_inputs.py results/tables/included.csv \
        tests/fixtures/metareg_project_inputs.csv tests/fixtures/metareg_synthetic_inputs.csv
"""

import sys

import numpy as np
import pandas as pd

COLUMNS = ["study", "arm", "site", "bed10", "events", "n"]


def project_rows(included_csv: str) -> pd.DataFrame:
    inc = pd.read_csv(included_csv)
    cell = inc[(inc["endpoint"] == "LC") & (inc["target_timepoint_months"] == 24) & inc["site"].isin(["liver", "lung"])]
    cell = cell.rename(columns={"study_id": "study"})[COLUMNS]
    # rma() would drop rows with a missing moderator; drop them here so that both
    # sides see the same rows (the current table has none)
    return cell.dropna(subset=["site", "bed10", "events", "n"]).astype({"events": int, "n": int})


def synthetic_rows(k: int = 40, seed: int = 20261124) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    groups = np.array(["lung", "adrenal", "bone"])  # not in sorted order on purpose
    group = groups[rng.integers(0, 3, size=k)]
    group[:3] = groups  # every level present
    dose = np.round(rng.uniform(50.0, 180.0, size=k), 1)
    effect = {"adrenal": 0.0, "bone": -0.6, "lung": 0.5}
    logit = 0.8 + np.array([effect[g] for g in group]) + 0.008 * (dose - 100.0) + rng.normal(0.0, 0.45, size=k)
    n = rng.integers(12, 160, size=k)
    events = rng.binomial(n, 1.0 / (1.0 + np.exp(-logit)))
    return pd.DataFrame(
        {"study": [f"s{i:02d}" for i in range(k)], "group": group, "dose": dose, "events": events, "n": n}
    )


def main(included_csv: str, project_csv: str, synthetic_csv: str) -> None:
    project_rows(included_csv).to_csv(project_csv, index=False)
    synthetic_rows().to_csv(synthetic_csv, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
