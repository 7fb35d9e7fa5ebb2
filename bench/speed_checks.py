"""Speed budgets that used to be asserted in the tests, measured here instead (``make bench``).

    python bench/speed_checks.py

A timed assertion in a test fails on a loaded machine for no fault of the code, so the tests
check only what these calls return; this script times the same calls and prints each against
its budget (exit status 1 if any is over):

  * the binomial-normal GLMM on the k = 200 dataset (tests/fixtures/glmm_inputs_k200.csv),
    mean of 5 fits after one warm-up, budget 0.3 s (rma.glmm takes ~0.3 s on these data);
  * the three-level model with 10^5 arms in 2 * 10^4 studies (O(k), no k x k matrix), budget 2 s;
  * a funnel plot of 3000 studies drawn to its canvas, budget 15 s;
  * the profile likelihood of α/β over 100 values for 10^3 arms (issue 25 item 7), three-level (arms in
    400 studies) and two-level (one arm per study), budget 2 s each, with metafor's rma.mv/rma ML fit of
    the same arms at α/β = 10 Gy timed in this run (bench/alpha_beta_metafor.R; metafor has no profile
    over a design parameter, so its profile is one fit per value: the ratio extrapolates one fit to 100;
    one rma.mv ML fit of these 10^3 arms takes about 2 minutes on a shared 2-core machine).

It also times every τ² estimator's batch path (``tau2_batch``, 10^4 analyses of k = 10): all are vectorised
over the batch but GENQM, whose root finding integrates each row's own weighted χ² distribution
(about 0.5 s a row: timed on 10 rows and scaled).

Last, the CPU seconds each Snakemake job spends importing before it works (bench/import_bench.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))
sys.path.insert(0, str(ROOT / "tests"))
from import_bench import main as import_cpu  # noqa: E402
from sbrtmeta.stats.dose_response import alpha_beta_grid, profile_alpha_beta  # noqa: E402
from sbrtmeta.stats.glmm import fit_glmm_logit  # noqa: E402
from sbrtmeta.stats.inference import TAU2_METHODS, canonical_tau2  # noqa: E402
from sbrtmeta.stats.multilevel import fit_multilevel  # noqa: E402
from sbrtmeta.stats.random_effects import tau2_batch  # noqa: E402


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


def alpha_beta_arms(several_arms: bool, k: int = 1000, seed: int = 25) -> pd.DataFrame:
    """10^3 arms with a printed total dose and fractions, true α/β 15 Gy (in 400 studies, or one arm each)."""
    rng = np.random.default_rng(seed)
    study = np.sort(rng.integers(0, 400, k)) if several_arms else np.arange(k)
    fractions = rng.choice([1, 3, 5, 8, 10], k)
    d = np.round(rng.uniform(6, 30, k) / np.sqrt(fractions), 1)
    n = rng.integers(30, 150, k)
    eta = -4 + 1.5 * np.log(d * fractions * (1 + d / 15)) + rng.normal(0, 0.3, k)[study] + rng.normal(0, 0.15, k)
    return pd.DataFrame(
        dict(
            study=study,
            arm=np.arange(k),
            total_gy=d * fractions,
            fractions=fractions,
            n=n,
            events=rng.binomial(n, 1 / (1 + np.exp(-eta))),
        )
    )


def alpha_beta_profile(several_arms: bool) -> float:
    a = alpha_beta_arms(several_arms)
    D, f = a["total_gy"].to_numpy(float), a["fractions"].to_numpy(float)
    t0 = time.perf_counter()
    profile_alpha_beta(
        a["events"], a["n"], lambda ab: D * (1 + D / f / ab), a["study"], a["arm"], grid=alpha_beta_grid(1, 100, 100)
    )
    return time.perf_counter() - t0


def metafor_alpha_beta(several_arms: bool, values=(10,)) -> float:
    """metafor's seconds per ML fit of the same arms (bench/alpha_beta_metafor.R), NaN without Rscript."""
    if not shutil.which("Rscript"):
        return float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "arms.csv"
        alpha_beta_arms(several_arms).to_csv(path, index=False)
        script = str(Path(__file__).with_name("alpha_beta_metafor.R"))
        proc = subprocess.run(["Rscript", script, str(path), *map(str, values)], capture_output=True, text=True)
    return float(proc.stdout.strip()) if proc.returncode == 0 else float("nan")


def tau2_batch_paths(m: int = 10_000, k: int = 10) -> None:
    """Seconds of ``tau2_batch`` on m analyses of k studies, every estimator (GENQ/GENQM: weights = n)."""
    rng = np.random.default_rng(7)
    y, v = rng.normal(0, 0.6, (m, k)), rng.uniform(0.05, 0.5, (m, k))
    w = rng.integers(20, 200, (m, k)).astype(float)
    print(f"\nτ² batch path, {m} analyses of k = {k} (seconds):\n")
    for method in dict.fromkeys(canonical_tau2(t) for t in TAU2_METHODS):
        rows = m if method != "GENQM" else m // 1000  # GENQM row by row (~0.5 s a row): timed on 0.1%, scaled
        t0 = time.perf_counter()
        tau2_batch(y[:rows], v[:rows], method, weights=w[:rows])
        took = (time.perf_counter() - t0) * (m / rows)
        how = "row by row (scaled from 0.1%)" if method == "GENQM" else "vectorised"
        print(f"  {method:<6} {took:8.3f}  {how}")


CHECKS = [
    ("GLMM k = 200 (one fit)", glmm_k200, 0.3),
    ("multilevel, 10^5 arms", multilevel_large_k, 2.0),
    ("funnel plot, 3000 studies", funnel_3000, 15.0),
    ("α/β profile, 10^3 arms, 3-level", lambda: alpha_beta_profile(True), 2.0),
    ("α/β profile, 10^3 arms, 2-level", lambda: alpha_beta_profile(False), 2.0),
]


def main() -> int:
    over = 0
    print("\nSpeed budgets (seconds):\n")
    for name, fn, budget in CHECKS:
        took = fn()
        ok = took < budget
        over += not ok
        print(f"  {name:<32} {took:8.3f}  budget {budget:5.1f}  {'ok' if ok else 'OVER BUDGET'}")
        if name.startswith("α/β profile"):
            per_fit = metafor_alpha_beta("3-level" in name)
            print(
                f"    metafor: {per_fit:.3f} s per ML fit, ~{100 * per_fit:.1f} s for 100 values: "
                f"ratio {100 * per_fit / took:.1f}x (this run)"
            )
    tau2_batch_paths()
    import_cpu([])  # bench/import_bench.py: each job's import CPU
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
