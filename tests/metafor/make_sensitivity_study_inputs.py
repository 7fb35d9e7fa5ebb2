"""Write the rows that tests/metafor/make_sensitivity_study_fixtures.R analyses with metafor
(study intervals, escalc's add/to, regtest predictors, cumul and baujat).

Datasets: the project's pooling cells with two or more studies (from a workflow run's
included.csv, with each study's year and label), and synthetic cases: a cell with a 0 % and a
100 % study, a cell of k = 3, and a cell of a few studies with many arms each (arms of one
study share its year, so the tie-break decides their order). Synthetic counts come from a
seeded generator, so rerunning this script gives the same file.

    python tests/metafor/make_sensitivity_study_inputs.py results/tables/included.csv \
        tests/fixtures/sensitivity_study_inputs.csv
"""

import sys

import numpy as np
import pandas as pd


def main(included_csv: str, out_csv: str) -> None:
    inc = pd.read_csv(included_csv)
    rows = []
    for (site, hist, endpoint, t), cell in inc.groupby(
        ["site", "review_histology", "endpoint", "target_timepoint_months"]
    ):
        if len(cell) < 2:
            continue
        name = f"project:{site}:{hist}:{endpoint}:{t:g}"
        for r in cell.itertuples():
            label = f"{r.study_id} {r.arm}"
            rows.append((name, r.study_id, label, int(r.events), int(r.n), None if pd.isna(r.year) else int(r.year)))
    rng = np.random.default_rng(20261130)
    zero = [(0, 12, 2010), (15, 15, 2012), (9, 14, 2012), (20, 26, 2015), (5, 30, 2018), (11, 19, 2018)]
    rows += [("synthetic:zero_study", f"s{i}", f"s{i}", x, n, y) for i, (x, n, y) in enumerate(zero)]
    rows += [
        ("synthetic:k3", f"s{i}", f"s{i}", x, n, y)
        for i, (x, n, y) in enumerate([(17, 20, 2001), (30, 45, 2005), (8, 30, 2005)])
    ]
    i = 0
    for s, year in enumerate([2008, 2011, 2011, 2016]):
        for arm in range(int(rng.integers(3, 7))):
            n = int(rng.integers(10, 80))
            x = int(rng.binomial(n, 1 / (1 + np.exp(-rng.normal(0.8, 0.7)))))
            rows.append(("synthetic:many_arms", f"study{s}", f"study{s} arm{arm}", x, n, year))
            i += 1
    out = pd.DataFrame(rows, columns=["dataset", "study", "label", "xi", "ni", "year"])
    out["year"] = out["year"].astype("Int64")
    out.to_csv(out_csv, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:])
