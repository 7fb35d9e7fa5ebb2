"""Write the rows that tests/metafor/make_multilevel_fixtures.R fits with rma.mv.

Three-level data: one row per arm (or per arm and time point), arms nested in
studies. Columns: dataset, study, arm, xi, ni, bed10, site (bed10 and site are the
moderators; empty where a dataset has none).

Datasets
* project:LC -- the project's local-control rows at 12 or 24 months with printed
  events and n (results/clean/outcomes.csv). A study that reports histology
  subgroups as well as the whole cohort keeps only the subgroups, so that no
  patient counts twice (Oh 2009 prints both).
* project:LC_bed10 -- the same rows restricted to arms with a BED10, for the dose
  moderator.
* synthetic:three_level -- 30 studies with 1-4 arms, true study and arm variance.
* synthetic:arm_var_zero -- as above, but the true arm variance is 0.
* synthetic:identical_arms -- arms of a study have the same proportion, so the
  arm variance estimate sits on its boundary at 0.
* synthetic:moderator -- a continuous moderator (a BED10 per arm) with a slope.
* synthetic:repeated_arm -- some arms contribute two rows (12 and 24 months),
  so rows share an arm effect.

Synthetic counts come from a seeded generator, so rerunning gives the same file.

    python tests/metafor/make_multilevel_inputs.py results/clean/outcomes.csv tests/fixtures/multilevel_inputs.csv
"""

import sys

import numpy as np
import pandas as pd

COLUMNS = ["dataset", "study", "arm", "xi", "ni", "bed10", "site"]


def project_rows(outcomes_csv: str) -> pd.DataFrame:
    d = pd.read_csv(outcomes_csv)
    d = d[(d.endpoint == "LC") & d.timepoint_months.isin([12, 24]) & d.events.notna() & d.n.notna()]
    # the colorectal review's tables: one time point per study, liver and lung
    d = d[(d.review == "crc2014") & d.raw_file.eq("crc2014_extraction.csv")]
    # drop a whole-cohort row when the same study also gives its subgroups
    has_sub = d.groupby("study_id").grouping.transform(lambda g: (g != "all").any())
    d = d[~(has_sub & (d.grouping == "all"))]
    out = pd.DataFrame(
        {
            "study": d.study_id,
            "arm": d.arm,
            "xi": d.events.astype(int),
            "ni": d.n.astype(int),
            "bed10": d.bed10,
            "site": d.site,
        }
    )
    both = out.assign(dataset="project:LC")
    dose = out[out.bed10.notna()].assign(dataset="project:LC_bed10")
    return pd.concat([both, dose])[COLUMNS]


def simulate(
    rng, name, n_studies=30, mu=1.2, sigma2_study=0.4, sigma2_arm=0.2, slope=0.0, identical=False, repeated=False
):
    rows = []
    for s in range(n_studies):
        u = rng.normal(0.0, np.sqrt(sigma2_study))
        n_arms = int(rng.integers(1, 5))
        theta0 = None
        for a in range(n_arms):
            bed = float(np.round(rng.uniform(60, 180), 1)) if slope else np.nan
            theta = mu + u + rng.normal(0.0, np.sqrt(sigma2_arm)) + slope * ((bed - 100) if slope else 0)
            n = int(rng.integers(15, 150))
            if identical:
                # the same observed proportion in every arm: scale the first arm's counts
                if theta0 is None:
                    x0 = int(rng.binomial(n, 1 / (1 + np.exp(-theta))))
                    x0 = min(max(x0, 1), n - 1)
                    theta0 = (x0, n)
                x, n = theta0[0] * (a + 1), theta0[1] * (a + 1)
            else:
                x = int(rng.binomial(n, 1 / (1 + np.exp(-theta))))
            rows.append((name, f"s{s:02d}", f"a{a}", x, n, bed, np.nan))
            if repeated and a % 2 == 0:
                # a second time point of the same arm (same arm effect, new sampling error)
                n2 = max(n - int(rng.integers(0, 10)), 10)
                x2 = int(rng.binomial(n2, 1 / (1 + np.exp(-(theta - 0.3)))))
                rows.append((name, f"s{s:02d}", f"a{a}", x2, n2, bed, np.nan))
    return pd.DataFrame(rows, columns=COLUMNS)


def main(outcomes_csv: str, out_csv: str) -> None:
    rng = np.random.default_rng(20240611)
    parts = [
        project_rows(outcomes_csv),
        simulate(rng, "synthetic:three_level"),
        simulate(rng, "synthetic:arm_var_zero", sigma2_arm=0.0),
        simulate(rng, "synthetic:identical_arms", n_studies=20, sigma2_arm=0.0, identical=True),
        simulate(rng, "synthetic:moderator", slope=0.012),
        simulate(rng, "synthetic:repeated_arm", n_studies=20, repeated=True),
    ]
    pd.concat(parts, ignore_index=True).to_csv(out_csv, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:3])
