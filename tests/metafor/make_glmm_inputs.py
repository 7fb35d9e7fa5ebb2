"""Write a larger synthetic dataset (k = 200) for the binomial-normal GLMM tests.

tests/metafor/make_glmm_fixtures.R fits it with metafor's ``rma.glmm`` together
with the datasets of tests/fixtures/metafor_inputs.csv; tests/test_glmm.py uses it
for the comparison with metafor and for timing. The counts come from a seeded
generator, so rerunning this script gives the same file:

    python tests/metafor/make_glmm_inputs.py tests/fixtures/glmm_inputs_k200.csv

True logits are drawn from N(-1.0, 0.8^2) and sample sizes from 5..150, so some
small studies have 0 events (the GLMM needs no continuity correction for them).
"""

import sys

import numpy as np
import pandas as pd

K = 200
SEED = 20240611


def main(out_csv: str) -> None:
    rng = np.random.default_rng(SEED)
    n = rng.integers(5, 151, size=K)
    p = 1.0 / (1.0 + np.exp(-rng.normal(-1.0, 0.8, size=K)))
    x = rng.binomial(n, p)
    pd.DataFrame(
        {"dataset": "synthetic:k200", "study": [f"s{i}" for i in range(K)], "xi": x.astype(int), "ni": n.astype(int)}
    ).to_csv(out_csv, index=False)


if __name__ == "__main__":
    main(sys.argv[1])
