"""Speed of the permutation tests (sbrtmeta.stats.permutation) against metafor's permutest, in one run.

    python bench/permutest_bench.py            # part of: make bench

Seeded synthetic data, k = 16 studies in 3 sites (1, 5 and 10 studies, as the shipped overall
survival cell at 24 months) with a BED10 each; 1,000 random permutations (the distinct ones
number 48,048 for the sites and 16! for the doses) of
  * the test for subgroup differences, rma(yi, vi, mods = ~ factor(site), method = "REML", test = "knha");
  * the dose slope, rma(yi, vi, mods = ~ log(bed10), method = "REML", test = "z").
metafor runs with its default settings, as a user would; both permute at random, so the
p-values agree in distribution only (printed side by side).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from sbrtmeta.stats.meta_regression import design_matrix  # noqa: E402
from sbrtmeta.stats.permutation import permutation_test  # noqa: E402

HERE = Path(__file__).resolve().parent


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def data(rng, k=16):
    site = np.repeat(["adrenal", "liver", "lung"], [1, 5, 10])
    v = rng.uniform(0.05, 0.5, k)
    y = np.where(site == "lung", 0.6, 0.2) + rng.normal(0, 0.8, k) + rng.normal(0, np.sqrt(v))
    return pd.DataFrame({"yi": y, "vi": v, "site": site, "bed10": rng.uniform(60, 180, k)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=1000)
    args = ap.parse_args(argv)
    d = data(np.random.default_rng(20261130))
    X_site, _ = design_matrix(d[["site"]])
    X_dose = np.column_stack([np.ones(len(d)), np.log(d.bed10)])
    kw = dict(exact_max=1, iterations=args.iterations, seed=1)
    t_site, r_site = best_of(lambda: permutation_test(d.yi, d.vi, X_site, "REML", "knha", **kw))
    t_dose, r_dose = best_of(lambda: permutation_test(d.yi, d.vi, X_dose, "REML", "z", btt=(1,), **kw))
    rows = [("sites", t_site, r_site.QMp), ("dose", t_dose, float(r_dose.pval[1]))]
    metafor = {}
    if shutil.which("Rscript"):
        work = Path(tempfile.mkdtemp(prefix="sbrtmeta-permutest-"))
        try:
            d.to_csv(work / "in.csv", index=False)
            proc = subprocess.run(
                [
                    "Rscript",
                    str(HERE / "permutest_bench.R"),
                    str(work / "in.csv"),
                    str(work / "out.csv"),
                    str(args.iterations),
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode == 0:
                metafor = {r.case: (r.seconds, r.p) for r in pd.read_csv(work / "out.csv").itertuples()}
            else:
                print("Rscript failed:", proc.stderr.strip()[-300:])
        finally:
            shutil.rmtree(work, ignore_errors=True)
    else:
        print("Rscript not found: metafor not timed (apt-get install r-cran-metafor)")
    print(f"\npermutest, k = {len(d)}, {args.iterations} random permutations (seconds; engine best of 5):\n")
    for case, t, p in rows:
        mt, mp = metafor.get(case, (float("nan"), float("nan")))
        ratio = f"{mt / t:8.0f}x" if np.isfinite(mt) else "     n/a"
        print(
            f"  {case:6s} engine {t:8.4f} s (p {p:.3f})   metafor {mt:8.3f} s (p {mp:.3f})   metafor / engine = {ratio}"
        )


if __name__ == "__main__":
    main()
