"""Write funnel-asymmetric synthetic datasets for the trim-and-fill fixtures.

    python tests/metafor/make_asymmetric_inputs.py tests/fixtures/asymmetric_inputs.csv

Studies are drawn from a random-effects model on the logit scale (mean 1.0,
tau 0.3, n between 10 and 250) and then "published" selectively: a small study
(n < 120) whose observed proportion falls below the true mean is dropped with
probability 0.95. That removes the lower-left corner of the funnel, so
trim-and-fill should impute studies on the left. The second dataset mirrors the
first (events <-> non-events), which negates every logit and moves the gap to the
right side. The generator is seeded, so rerunning gives the same file. Output
columns are those of metafor_inputs.csv: dataset, study, xi, ni.
"""

import sys

import numpy as np
import pandas as pd

SEED = 6
K_CANDIDATES = 40


def main(out_csv: str) -> None:
    rng = np.random.default_rng(SEED)
    mu, tau = 1.0, 0.3
    n = rng.integers(10, 251, size=K_CANDIDATES)
    theta = rng.normal(mu, tau, size=K_CANDIDATES)
    x = rng.binomial(n, 1.0 / (1.0 + np.exp(-theta)))
    drop_draw = rng.uniform(size=K_CANDIDATES)
    observed_low = x / n < 1.0 / (1.0 + np.exp(-mu))
    published = ~((n < 120) & observed_low & (drop_draw < 0.95))
    rows = []
    for j, i in enumerate(np.flatnonzero(published)):
        rows.append(("synthetic:asymmetric_left", f"s{j}", int(x[i]), int(n[i])))
    for j, i in enumerate(np.flatnonzero(published)):
        rows.append(("synthetic:asymmetric_right", f"s{j}", int(n[i] - x[i]), int(n[i])))
    pd.DataFrame(rows, columns=["dataset", "study", "xi", "ni"]).to_csv(out_csv, index=False)


if __name__ == "__main__":
    main(sys.argv[1])
