"""Speed of the pooling engine against metafor (Rscript) and statsmodels, in one run.

    python bench/run_benchmarks.py            # or: make bench

Cases, on seeded synthetic data:
  * one random-effects fit (REML τ², Knapp-Hartung CI) with k = 10^3, 10^4, 10^6 studies;
  * 10^4 independent meta-analyses of 20 studies each (a sensitivity grid);
  * a binomial-normal GLMM with k = 200 (metafor's rma.glmm);
  * cumulative meta-analysis and Baujat coordinates of k = 16 studies (metafor's cumul and
    baujat, REML τ², Knapp-Hartung), mean of repeated calls.
statsmodels' ``combine_effects`` has no REML; it runs with Paule-Mandel ("iterated"),
with the engine also timed on PM for a like-for-like ratio. metafor's rma costs O(k²)
memory, so it runs only where that fits; its 10^4-analysis loop is timed on a subset
and scaled, as printed. Peak memory of the engine is traced to show it grows with k.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from sbrtmeta.stats.cumulative import cumulative  # noqa: E402
from sbrtmeta.stats.influence import baujat  # noqa: E402
from sbrtmeta.stats.random_effects import fit_random_effects, fit_random_effects_batch  # noqa: E402

HERE = Path(__file__).resolve().parent
METAFOR_MAX_K = 2000  # rma builds k x k matrices: 10^4 needs GBs and minutes, 10^5 fails


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def synthetic(rng, k, tau=0.5):
    v = rng.uniform(0.01, 0.5, k)
    return rng.normal(1.0, tau, k) + rng.normal(0.0, np.sqrt(v)), v


def statsmodels_fit(y, v):
    from statsmodels.stats.meta_analysis import combine_effects

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return combine_effects(y, v, method_re="iterated", use_t=True)


def curve_cell(rng, n_studies, times=(12.0, 24.0, 36.0)):
    """A synthetic curve cell: each study prints 3 nested rates (survivors at t_j drawn from those at t_i)."""
    n = rng.integers(30, 200, n_studies)
    u = rng.normal(0.0, 0.5, n_studies)
    alive, prev, rows = n.copy(), np.ones(n_studies), []
    for t in times:
        p = 1.0 / (1.0 + np.exp(-(3.0 - 0.6 * np.log(t) + u + rng.normal(0.0, 0.2, n_studies))))
        cond = np.minimum(1.0, p / prev)
        prev = np.minimum(prev, p)
        alive = rng.binomial(alive, cond)
        rows.append(pd.DataFrame({"study": np.arange(n_studies), "t": t, "x": alive, "n": n}))
    return pd.concat(rows, ignore_index=True).sort_values(["study", "t"], kind="mergesort").reset_index(drop=True)


def curve_bench(rng, work, add, metafor_studies=100):
    """The curve model (issue 13), rma.mv(yi, V, mods = ~ log(t), random = ~ t | study, struct = "CAR"):
    10^4 studies x 3 time points, and a size metafor handles (its rma.mv timed in metafor_bench.R)."""
    from sbrtmeta.stats.curves import fit_curve

    for n_studies in (metafor_studies, 10**4):
        d = curve_cell(rng, n_studies)
        if n_studies <= metafor_studies:
            d.to_csv(work / f"curve_s{n_studies}.csv", index=False)
        fit = lambda d=d: fit_curve(d["x"], d["n"], d["t"], d["study"], struct="CAR")  # noqa: E731
        add(f"curve_s{n_studies}x3", "engine CAR REML", best_of(fit, repeat=1), "V built and fitted")
    # linear in the number of studies: seconds per study at both sizes are in the table's notes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--metafor-loop", type=int, default=1000, help="analyses metafor times in the batch case")
    ap.add_argument("--statsmodels-loop", type=int, default=10000, help="analyses statsmodels times")
    ap.add_argument("--only", choices=["sensitivity", "curves"], help="run only these cases (and metafor's)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(20261123)
    work = Path(tempfile.mkdtemp(prefix="sbrtmeta-bench-"))
    rows = []

    def add(case, peer, seconds, note=""):
        rows.append(dict(case=case, peer=peer, seconds=seconds, note=note))

    try:
        if args.only in (None, "sensitivity"):
            sensitivity_cases(rng, work, add)
        if args.only in (None, "curves"):
            curve_bench(rng, work, add)
        if args.only is not None:
            run_metafor(work, add, args)
            return report(rows)
        for k in (10**3, 10**4, 10**6):
            y, v = synthetic(rng, k)
            if k <= METAFOR_MAX_K:
                pd.DataFrame({"yi": y, "vi": v}).to_csv(work / f"single_k{k}.csv", index=False)
            add(f"single_k{k}", "engine REML+KH", best_of(lambda y=y, v=v: fit_random_effects(y, v, "REML", "knha")))
            add(f"single_k{k}", "engine PM+KH", best_of(lambda y=y, v=v: fit_random_effects(y, v, "PM", "knha")))
            add(f"single_k{k}", "statsmodels PM", best_of(lambda y=y, v=v: statsmodels_fit(y, v), repeat=1))
            tracemalloc.start()
            fit_random_effects(y, v, "REML", "knha")
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            add(f"single_k{k}", "engine peak MB", peak / 1e6, f"{peak / k:.0f} bytes per study")
            if k > METAFOR_MAX_K:
                add(
                    f"single_k{k}",
                    "metafor REML+KH",
                    float("nan"),
                    f"not run: rma needs k x k matrices ({8 * k * k / 1e9:.0f} GB each)",
                )

        m, k = 10**4, 20
        Y = rng.normal(1.0, 0.5, (m, k))
        V = rng.uniform(0.01, 0.5, (m, k))
        Y = Y + rng.normal(0.0, np.sqrt(V))
        pd.DataFrame({"id": np.repeat(np.arange(m), k), "yi": Y.ravel(), "vi": V.ravel()}).to_csv(
            work / "batch.csv", index=False
        )
        add("batch", "engine REML+KH", best_of(lambda: fit_random_effects_batch(Y, V, "REML", "knha")))
        add("batch", "engine PM+KH", best_of(lambda: fit_random_effects_batch(Y, V, "PM", "knha")))
        n_sm = min(args.statsmodels_loop, m)
        t = best_of(lambda: [statsmodels_fit(Y[i], V[i]) for i in range(n_sm)], repeat=1)
        add("batch", "statsmodels PM", t * m / n_sm, f"timed {n_sm}, scaled to {m}" if n_sm < m else "")

        glmm_fit = None
        try:
            from sbrtmeta.stats.glmm import fit_glmm_logit as glmm_fit
        except ImportError:
            add("glmm", "engine", float("nan"), "sbrtmeta.glmm not available")
        n = rng.integers(10, 120, 200)
        x = rng.binomial(n, 1 / (1 + np.exp(-rng.normal(1.0, 0.7, 200))))
        pd.DataFrame({"xi": x, "ni": n}).to_csv(work / "glmm.csv", index=False)
        if glmm_fit is not None:
            add("glmm", "engine", best_of(lambda: glmm_fit(x, n), repeat=5))

        run_metafor(work, add, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(rows)


def report(rows):
    table = pd.DataFrame(rows)
    print_report(table)
    return table


def run_metafor(work, add, args):
    """Time metafor on the inputs written to ``work`` (bench/metafor_bench.R), in this run."""
    if not shutil.which("Rscript"):
        add("all", "metafor", float("nan"), "Rscript not found (apt-get install r-cran-metafor r-cran-lme4)")
        return
    out = work / "metafor.csv"
    proc = subprocess.run(
        ["Rscript", str(HERE / "metafor_bench.R"), str(work), str(out), str(args.metafor_loop)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        add("all", "metafor", float("nan"), "Rscript failed: " + proc.stderr.strip()[-200:])
        return
    for r in pd.read_csv(out).itertuples():
        peer = "metafor rma.glmm" if r.case == "glmm" else "metafor REML+KH"
        peer = "metafor rma.mv CAR" if r.case.startswith("curve") else peer
        add(r.case, peer, r.seconds, "" if pd.isna(r.note) else r.note)


SENSITIVITY_K = 16
SENSITIVITY_REPEAT = 50


def sensitivity_cases(rng, work, add):
    """cumul and baujat on k = 16 studies: the engine's mean time per call (metafor's is
    timed by bench/metafor_bench.R on the same file, sensitivity_k16.csv)."""
    y, v = synthetic(rng, SENSITIVITY_K)
    pd.DataFrame({"yi": y, "vi": v}).to_csv(work / f"sensitivity_k{SENSITIVITY_K}.csv", index=False)
    reps = SENSITIVITY_REPEAT
    for case, fn in (("cumul", cumulative), ("baujat", baujat)):
        t = best_of(lambda fn=fn: [fn(y, v, tau2_method="REML", ci_method="knha") for _ in range(reps)])
        add(f"{case}_k{SENSITIVITY_K}", "engine REML+KH", t / reps, f"mean of {reps} calls, best of 3")


def print_report(table: pd.DataFrame) -> None:
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 70)
    print("\nTimes in seconds (best of repeats; 'peak MB' is memory):\n")
    for r in table.itertuples():
        value = "   n/a" if not np.isfinite(r.seconds) else f"{r.seconds:10.4g}"
        print(f"  {r.case:16s} {r.peer:18s} {value:>10s}  {r.note}")
    print("\nRatios (peer time / engine time; > 1 means the engine is faster):")
    for case, g in table.groupby("case", sort=False):
        times = dict(zip(g.peer, g.seconds))
        for engine, peers in (
            ("engine REML+KH", ("metafor REML+KH",)),
            ("engine PM+KH", ("statsmodels PM",)),
            ("engine", ("metafor rma.glmm",)),
            ("engine CAR REML", ("metafor rma.mv CAR",)),
        ):
            for peer in peers:
                if engine in times and peer in times and np.isfinite(times.get(peer, np.nan)):
                    print(f"  {case:14s} {peer:18s} / {engine:15s} = {times[peer] / times[engine]:8.1f}x")


if __name__ == "__main__":
    main()
