"""Write the rows that tests/metafor/make_dose_response_fixtures.R fits (dose-response).

One row per arm: dataset, study, arm, site, timepoint_months, events, n, bed10.

Datasets
* project -- the project's local-control (LC) rows at 12 or 24 months with a
  printed events, n and BED10, liver and lung (results/clean/outcomes.csv),
  taken as they are: nothing is computed here. One row per arm: an arm with both
  time points keeps its 24-month row (the same patients must not enter twice).
  A study that reports histology subgroups as well as the whole cohort keeps only
  the subgroups, so that no patient counts twice (as
  tests/metafor/make_multilevel_inputs.py does).
* workflow -- the arms the workflow's dose_response rule fits with the shipped
  config (results/tables/dose_response_arms.csv: colorectal liver and lung, LC at
  24 months, BED10 by the default range rule), so that tests can check the
  pipeline's dose_response.csv against metafor on the same rows.
* synthetic -- 25 studies at two sites, about half of them with 2 or 3 dose arms
  at different BED10s, and a real dose-response on the logit-log scale
  (logit LC = b0 + site effect + b1 ln BED10 + study effect + arm effect,
  binomial counts). It exercises the three-level (study/arm) model. Its counts
  come from a seeded generator, so rerunning gives the same file.

    python tests/metafor/make_dose_response_inputs.py results/clean/outcomes.csv \
        tests/fixtures/dose_response_inputs.csv results/tables/dose_response_arms.csv
"""

import sys

import numpy as np
import pandas as pd

COLUMNS = ["dataset", "study", "arm", "site", "timepoint_months", "events", "n", "bed10"]
SITES = ("liver", "lung")


def project_rows(outcomes_csv: str) -> pd.DataFrame:
    d = pd.read_csv(outcomes_csv)
    d = d[
        (d.endpoint == "LC")
        & d.timepoint_months.isin([12, 24])
        & d.site.isin(SITES)
        & d.events.notna()
        & d.n.notna()
        & d.bed10.notna()
    ]
    # drop a whole-cohort row when the same study also gives its subgroups
    has_sub = d.groupby("study_id").grouping.transform(lambda g: (g != "all").any())
    d = d[~(has_sub & (d.grouping == "all"))]
    # one row per arm: the 24-month row where an arm has both
    d = d.sort_values("timepoint_months", ascending=False, kind="stable")
    d = d[~d.duplicated(["study_id", "arm"])].sort_index()
    return pd.DataFrame(
        {
            "dataset": "project",
            "study": d.study_id,
            "arm": d.arm,
            "site": d.site,
            "timepoint_months": d.timepoint_months,
            "events": d.events.astype(int),
            "n": d.n.astype(int),
            "bed10": d.bed10,
        }
    )[COLUMNS]


def workflow_rows(arms_csv: str) -> pd.DataFrame:
    d = pd.read_csv(arms_csv)
    d = d[(d.histology == "colorectal") & d.site.isin(SITES)]
    return pd.DataFrame(
        {
            "dataset": "workflow",
            "study": d.study_id,
            "arm": d.arm,
            "site": d.site,
            "timepoint_months": d.timepoint_months,
            "events": d.events.astype(int),
            "n": d.n.astype(int),
            "bed10": d.bed10,
        }
    )[COLUMNS]


def synthetic_rows(n_studies: int = 25, seed: int = 20240917) -> pd.DataFrame:
    """Logit LC = -9.8 + 0.6 [lung] + 2.5 ln BED10 + u + w (BED50 = 50 Gy in the liver,
    gamma50 = 0.625), sigma2_study = 0.2, sigma2_arm = 0.1."""
    rng = np.random.default_rng(seed)
    b0, b_lung, b1 = -9.8, 0.6, 2.5
    rows = []
    for s in range(n_studies):
        site = SITES[s % 2]
        u = rng.normal(0.0, np.sqrt(0.2))
        n_arms = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
        beds = np.sort(rng.choice(np.round(np.geomspace(45, 200, 16), 1), size=n_arms, replace=False))
        for a, bed in enumerate(beds):
            theta = b0 + b_lung * (site == "lung") + b1 * np.log(bed) + u + rng.normal(0.0, np.sqrt(0.1))
            n = int(rng.integers(20, 121))
            events = int(rng.binomial(n, 1.0 / (1.0 + np.exp(-theta))))
            rows.append(("synthetic", f"syn{s:02d}", f"dose{a + 1}", site, 24.0, events, n, float(bed)))
    return pd.DataFrame(rows, columns=COLUMNS)


def main(outcomes_csv: str, out_csv: str, arms_csv: str) -> None:
    pd.concat([project_rows(outcomes_csv), workflow_rows(arms_csv), synthetic_rows()], ignore_index=True).to_csv(
        out_csv, index=False
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
