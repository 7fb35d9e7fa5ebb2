"""Write the rows that tests/metafor/make_sensitivity_tests_fixtures.R fits (issue 12, items 6-9).

One row per study (or arm): dataset, role, study, arm, site, events, n, bed10, yi, vi.
``role`` says what R fits to the dataset:

* ``sites``: the site model ``rma(yi, vi, mods = ~ factor(site))``: its permutation test,
  the likelihood-ratio test of site (ML), the location-scale model
  ``rma(yi, vi, mods = ~ site, scale = ~ site)`` and, when a study gives several rows,
  CR2 cluster-robust tests;
* ``dose``: the dose-response model on ln BED10 (``rma.mv(random = ~ 1 | study/arm)``
  when a study has several arms, else ``rma``; with site intercepts when there are two
  sites): CR2 tests, the likelihood-ratio test of ln BED10 (ML) and, for one site, the
  permutation test of the two-level slope model ``rma(yi, vi, mods = ~ log(bed10))``.

Datasets
* shipped:<histology>_<endpoint>_<t>: the shipped cells with two or more sites
  (results/tables/pooled_studies.csv, yi and vi as pooled);
* shipped:dose_<site> and shipped:dose_across: the shipped dose-response arms
  (results/tables/dose_response_arms.csv) of each fitted site, and both together;
* synthetic:zero_study: 3 sites of 3, 3 and 4 studies, one with 0 events; its doses
  take 4 values, so the dose permutations are counted as a multiset;
* synthetic:k3: 3 studies (sites of 1 and 2) and 3 doses;
* synthetic:many_arms: 8 studies of 3 arms each in 2 sites: CR2 by study.

yi, vi: logit proportions with 1/2 added to the counts of a 0 or 100 % study (escalc's
default), or the pooled ones for the shipped cells. Synthetic counts come from a
seeded generator.

    python tests/metafor/make_sensitivity_tests_inputs.py results/tables/pooled_studies.csv \
        results/tables/dose_response_arms.csv tests/fixtures/sensitivity_tests_inputs.csv
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "workflow"))
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes  # noqa: E402

COLUMNS = ["dataset", "role", "study", "arm", "site", "events", "n", "bed10", "yi", "vi"]


def shipped_sites(pooled: pd.DataFrame) -> list:
    out = []
    for (h, e, t), cell in pooled.groupby(["histology", "endpoint", "timepoint_months"], sort=True):
        if cell["site"].nunique() < 2 or len(cell) <= cell["site"].nunique():
            continue
        out.append(
            cell.assign(dataset=f"shipped:{h}_{e}_{t:g}", role="sites", study=cell["study_id"], bed10=np.nan)[COLUMNS]
        )
    return out


def shipped_dose(arms: pd.DataFrame) -> list:
    arms = arms[arms["weight"].notna()]  # arms of fitted sites
    yi, vi = proportion_effect_sizes(arms["events"].to_numpy(float), arms["n"].to_numpy(float), "PLO")
    arms = arms.assign(yi=yi, vi=vi, study=arms["study_id"], role="dose")
    out = [g.assign(dataset=f"shipped:dose_{site}")[COLUMNS] for site, g in arms.groupby("site", sort=True)]
    if arms["site"].nunique() > 1:
        out.append(arms.assign(dataset="shipped:dose_across")[COLUMNS])
    return out


def synthetic(rng) -> list:
    def frame(name, role, study, arm, site, n, p, bed):
        events = rng.binomial(n, p)
        return pd.DataFrame(
            dict(dataset=name, role=role, study=study, arm=arm, site=site, events=events, n=n, bed10=bed)
        )

    out = []
    # zero_study: sites of 3, 3, 4 studies, heterogeneous within each site
    site = np.repeat(["liver", "lung", "spine"], [3, 3, 4])
    n = rng.integers(15, 80, site.size)
    p = 1 / (
        1
        + np.exp(
            -(
                np.array([0.5, 1.5, 1.0])[np.searchsorted(["liver", "lung", "spine"], site)]
                + rng.normal(0, 0.9, site.size)
            )
        )
    )
    bed = np.array([60.0, 80.0, 100.0, 150.0])[rng.integers(0, 4, site.size)]
    z = frame("synthetic:zero_study", "sites", [f"s{i}" for i in range(site.size)], "all", site, n, p, bed)
    z.loc[1, "events"] = 0
    out.append(z)
    out.append(z.assign(dataset="synthetic:zero_study_dose", role="dose", site="liver"))
    k3 = frame(
        "synthetic:k3",
        "sites",
        ["a", "b", "c"],
        "all",
        ["liver", "lung", "lung"],
        np.array([30, 45, 60]),
        np.array([0.6, 0.8, 0.7]),
        np.array([70.0, 100.0, 130.0]),
    )
    out.append(k3)
    out.append(k3.assign(dataset="synthetic:k3_dose", role="dose", site="lung"))
    # many_arms: 8 studies x 3 arms, 2 sites; dose raises control; study and arm effects
    studies = np.repeat([f"m{i}" for i in range(8)], 3)
    arm = np.tile(["a1", "a2", "a3"], 8)
    site = np.repeat(np.array(["liver", "lung"])[np.arange(8) % 2], 3)
    bed = rng.choice([50.0, 75.0, 100.0, 120.0, 150.0, 180.0], studies.size)
    u = np.repeat(rng.normal(0, 0.6, 8), 3)
    eta = -4.0 + 1.1 * np.log(bed) + u + rng.normal(0, 0.3, studies.size)
    m = frame(
        "synthetic:many_arms",
        "sites",
        studies,
        arm,
        site,
        rng.integers(20, 70, studies.size),
        1 / (1 + np.exp(-eta)),
        bed,
    )
    out.append(m)
    out.append(m.assign(dataset="synthetic:many_arms_dose", role="dose"))
    for i, d in enumerate(out):
        yi, vi = proportion_effect_sizes(d["events"].to_numpy(float), d["n"].to_numpy(float), "PLO")
        out[i] = d.assign(yi=yi, vi=vi)[COLUMNS]
    return out


def main(pooled_csv, arms_csv, out_csv):
    pooled = pd.read_csv(pooled_csv)
    arms = pd.read_csv(arms_csv)
    frames = shipped_sites(pooled) + shipped_dose(arms) + synthetic(np.random.default_rng(20261130))
    pd.concat(frames, ignore_index=True).to_csv(out_csv, index=False, float_format="%.17g")


if __name__ == "__main__":
    main(*sys.argv[1:4])
