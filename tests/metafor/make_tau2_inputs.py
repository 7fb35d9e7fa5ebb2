"""Write synthetic proportion datasets with k = 2, 3, 10 and 100 for the tau2 estimator fixtures.

    python tests/metafor/make_tau2_inputs.py tests/fixtures/tau2_synthetic_inputs.csv

Each dataset draws k arms from a random-effects model on the logit scale (mean 1.2, tau 0.5,
n between 15 and 200, seeded, so rerunning gives the same file); a second dataset at k = 10
has tau 0, so the estimators that truncate at zero are exercised too. Columns are those of
metafor_inputs.csv: dataset, study, xi, ni.
"""

import sys

import numpy as np
import pandas as pd

SEED = 25
DESIGNS = (("k2", 2, 0.5), ("k3", 3, 0.5), ("k10", 10, 0.5), ("k10_homogeneous", 10, 0.0), ("k100", 100, 0.5))


def main(out_csv: str) -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for name, k, tau in DESIGNS:
        n = rng.integers(15, 201, size=k)
        theta = rng.normal(1.2, tau, size=k)
        x = rng.binomial(n, 1.0 / (1.0 + np.exp(-theta)))
        x = np.clip(x, 1, n - 1)  # no 0 or n: every transform's variance stays finite without a correction
        rows += [(f"tau2:{name}", f"s{j}", int(x[j]), int(n[j])) for j in range(k)]
    pd.DataFrame(rows, columns=["dataset", "study", "xi", "ni"]).to_csv(out_csv, index=False)


if __name__ == "__main__":
    main(sys.argv[1])
