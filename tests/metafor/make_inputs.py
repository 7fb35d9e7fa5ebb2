"""Write the input rows that tests/metafor/make_fixtures.R pools with metafor.

Datasets: the project's own pooling cells (from a workflow run's included.csv)
and synthetic cases chosen to stress the estimators: zero heterogeneity, extreme
heterogeneity, k = 2, studies at 0 % and 100 %, and a larger k. Synthetic counts
come from a seeded generator, so rerunning this script gives the same file.

    python tests/metafor/make_inputs.py results/tables/included.csv tests/fixtures/metafor_inputs.csv
"""

import sys

import numpy as np
import pandas as pd


def main(included_csv: str, out_csv: str) -> None:
    inc = pd.read_csv(included_csv)
    rows = []
    # cells as the workflow pools them by default: site x the review's histology
    for (site, hist, endpoint, t), cell in inc.groupby(
        ["site", "review_histology", "endpoint", "target_timepoint_months"]
    ):
        if len(cell) < 2:
            continue
        name = f"project:{site}:{hist}:{endpoint}:{t:g}"
        for r in cell.itertuples():
            rows.append((name, r.study_id, int(r.events), int(r.n)))
    rng = np.random.default_rng(20261123)
    # identical proportions: tau2 = 0 under any estimator
    for i in range(6):
        rows.append(("synthetic:zero_heterogeneity", f"s{i}", 8 * (i + 1), 10 * (i + 1)))
    # extreme heterogeneity
    for i, (x, n) in enumerate([(2, 40), (38, 40), (10, 50), (49, 50), (25, 30), (3, 60)]):
        rows.append(("synthetic:extreme_heterogeneity", f"s{i}", x, n))
    # k = 2
    rows += [("synthetic:k2", "s0", 17, 20), ("synthetic:k2", "s1", 30, 45)]
    # studies at 0 % and 100 % (continuity correction)
    for i, (x, n) in enumerate([(0, 12), (15, 15), (9, 14), (20, 20), (5, 30)]):
        rows.append(("synthetic:zero_and_full", f"s{i}", x, n))
    # larger k with moderate heterogeneity
    k = 60
    n = rng.integers(8, 200, size=k)
    p = 1 / (1 + np.exp(-(rng.normal(1.2, 0.6, size=k))))
    x = rng.binomial(n, p)
    rows += [("synthetic:large_k", f"s{i}", int(x[i]), int(n[i])) for i in range(k)]
    pd.DataFrame(rows, columns=["dataset", "study", "xi", "ni"]).to_csv(out_csv, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:3])
