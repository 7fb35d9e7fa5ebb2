"""Speed budgets that used to be asserted in the tests, measured here instead (``make bench``).

    python bench/speed_checks.py

A timed assertion in a test fails on a loaded machine for no fault of the code, so the tests
check only what these calls return; this script times the same calls and prints each against
its budget (exit status 1 if any is over):

  * the binomial-normal GLMM on the k = 200 dataset (tests/fixtures/glmm_inputs_k200.csv),
    mean of 5 fits after one warm-up, budget 0.3 s (rma.glmm takes ~0.3 s on these data);
  * the three-level model with 10^5 arms in 2 * 10^4 studies (O(k), no k x k matrix), budget 2 s;
  * a funnel plot of 3000 studies drawn to its canvas, budget 15 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))
sys.path.insert(0, str(ROOT / "tests"))
from sbrtmeta.stats.glmm import fit_glmm_logit  # noqa: E402
from sbrtmeta.stats.multilevel import fit_multilevel  # noqa: E402


def glmm_k200() -> float:
    d = pd.read_csv(ROOT / "tests" / "fixtures" / "glmm_inputs_k200.csv")
    d = d[d.dataset == "synthetic:k200"]
    x, n = d.xi.to_numpy(), d.ni.to_numpy()
    fit_glmm_logit(x, n)
    t0 = time.perf_counter()
    for _ in range(5):
        fit_glmm_logit(x, n)
    return (time.perf_counter() - t0) / 5


def multilevel_large_k() -> float:
    rng = np.random.default_rng(2024)
    n_studies, k = 20_000, 100_000
    arms = rng.multinomial(k - n_studies, np.full(n_studies, 1 / n_studies)) + 1
    study = np.repeat(np.arange(n_studies), arms)
    arm = np.concatenate([np.arange(n) for n in arms])
    v = rng.uniform(0.02, 0.5, k)
    y = 1.0 + rng.normal(0, 0.5, n_studies)[study] + rng.normal(0, 0.3, k) + rng.normal(0, np.sqrt(v))
    X = np.column_stack([np.ones(k), rng.normal(size=k)])
    t0 = time.perf_counter()
    fit_multilevel(y, v, study, arm, X)
    return time.perf_counter() - t0


def funnel_3000() -> float:
    from test_plots import funnel, make_tables

    pooled, studies = make_tables({"lung": 3000}, seed=3)
    t0 = time.perf_counter()
    fig = funnel(pooled, studies, "LC", 24)
    fig.canvas.draw()
    return time.perf_counter() - t0


CHECKS = [
    ("GLMM k = 200 (one fit)", glmm_k200, 0.3),
    ("multilevel, 10^5 arms", multilevel_large_k, 2.0),
    ("funnel plot, 3000 studies", funnel_3000, 15.0),
]


def main() -> int:
    over = 0
    print("\nSpeed budgets (seconds):\n")
    for name, fn, budget in CHECKS:
        took = fn()
        ok = took < budget
        over += not ok
        print(f"  {name:<28} {took:8.3f}  budget {budget:5.1f}  {'ok' if ok else 'OVER BUDGET'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
