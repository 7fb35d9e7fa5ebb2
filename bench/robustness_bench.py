"""Speed of GOSH and the multiverse (issue 15), against metafor's gosh() in the same run.

    python bench/robustness_bench.py            # or: make bench

* GOSH at k = 16 (65,535 subsets, REML): the engine fits all of them; metafor's gosh() is
  timed on k = --metafor-k studies (2^k - 1 fits; k = 16 takes ~4 minutes) and its time per
  fit scaled to 65,535 fits, as printed.
* GOSH at k = 20 (1,048,575 subsets, REML), one thread and two threads.
* The multiverse: --specs specifications (a seeded sample of a factorial over every τ²
  estimator, three min n, three tolerances, ...) over the shipped cells, run as 1, 2 and 4
  shards, each a process of its own run in turn (as Snakemake jobs); the summed time and the
  peak RSS of the largest shard, which does not grow with the number of shards (a shard holds
  only its own specifications).
Data: seeded synthetic effect sizes for GOSH; the shipped sheets for the multiverse.
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
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))
from sbrtmeta.analysis.multiverse import specifications  # noqa: E402
from sbrtmeta.stats.gosh import all_subsets, gosh_fits  # noqa: E402
from sbrtmeta.steps.clean_extraction import clean_extraction  # noqa: E402

HERE = Path(__file__).resolve().parent
BENCH_MULTIVERSE = {
    "max_specs": 10000,
    "equivalence_margin": 0.05,
    "inclusion": {
        "min_n": [1, 10, 20],
        "tolerance_months": [0, 3, 6],
        "crude": ["none", "median_follow_up"],
        "mixed_primaries": ["include", "exclude"],
        "overlaps": ["later_report", "every_report"],
    },
    "pooling": {
        "histology": ["review", "row"],
        "transform": ["PLO", "PAS", "PFT", "PR"],
        "model": ["random-effects", "glmm"],
        "tau2_method": ["REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE"],
        "ci_method": ["knha", "z"],
    },
}


def synthetic(k, seed=20261130):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.5, k)
    return rng.normal(1.0, 0.5, k) + rng.normal(0.0, np.sqrt(v)), v


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def gosh_cases(add, metafor_k: int) -> None:
    for k, threads in ((16, 1), (20, 1), (20, 2)):
        y, v = synthetic(k)
        subsets = all_subsets(k)
        seconds, _ = timed(lambda y=y, v=v, s=subsets, t=threads: gosh_fits(y, v, s, "REML", threads=t))
        add(
            f"gosh_k{k}", f"engine REML {threads} thread{'s' if threads > 1 else ''}", seconds, f"{len(subsets):,} fits"
        )
    if not shutil.which("Rscript"):
        add("gosh_k16", "metafor gosh()", float("nan"), "Rscript not found")
        return
    work = Path(tempfile.mkdtemp(prefix="sbrtmeta-gosh-bench-"))
    try:
        y, v = synthetic(metafor_k)
        pd.DataFrame({"yi": y, "vi": v}).to_csv(work / "in.csv", index=False)
        proc = subprocess.run(
            ["Rscript", str(HERE / "gosh_metafor.R"), str(work / "in.csv"), str(work / "out.csv")],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            add("gosh_k16", "metafor gosh()", float("nan"), "Rscript failed: " + proc.stderr.strip()[-200:])
            return
        r = pd.read_csv(work / "out.csv").iloc[0]
        per_fit = r.seconds / r.fits
        add(
            "gosh_k16",
            "metafor gosh()",
            per_fit * (2**16 - 1),
            f"timed k = {int(r.k)} ({int(r.fits):,} fits in {r.seconds:.1f} s, {1 / per_fit:.0f} fits/s), "
            "scaled to 65,535 fits",
        )
        # the engine on the same k, for the per-fit comparison at equal subset size
        seconds, _ = timed(lambda: gosh_fits(y, v, all_subsets(metafor_k), "REML"))
        add(f"gosh_k{metafor_k}", "engine REML 1 thread", seconds, f"{2**metafor_k - 1:,} fits")
        add(f"gosh_k{metafor_k}", "metafor gosh()", float(r.seconds), f"{int(r.fits):,} fits")
    finally:
        shutil.rmtree(work, ignore_errors=True)


SHARD_JOB = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import yaml
from sbrtmeta.analysis.multiverse import multiverse_shard
from sbrtmeta.data.inclusion import read_outcomes
config, universe = yaml.safe_load(open(sys.argv[2])), json.loads(sys.argv[4])
tidy = read_outcomes(sys.argv[3])
t = time.perf_counter()
part = multiverse_shard(tidy, config["inclusion"], config["pooling"], universe, 1, int(sys.argv[5]), int(sys.argv[6]))
print(json.dumps(dict(seconds=time.perf_counter() - t, rows=len(part),
                      rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def multiverse_cases(add, n_specs: int) -> None:
    """The multiverse as 1, 2 and 4 shards, each shard a process of its own (as a Snakemake job):
    the summed fitting time (Python start-up and imports left out) and the largest peak RSS."""
    import json

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    sheets = [str(ROOT / s) for s in config["data"]["sheets"]]
    outcomes = clean_extraction(sheets, str(ROOT / config["data"]["corrections"]), config["cleanup"], [])
    universe = dict(BENCH_MULTIVERSE, max_specs=n_specs)
    n = len(specifications(universe, 1))
    work = Path(tempfile.mkdtemp(prefix="sbrtmeta-mv-bench-"))
    try:
        outcomes.to_csv(work / "outcomes.csv", index=False)
        for shards in (1, 2, 4):
            jobs = []
            for s in range(shards):
                cmd = [sys.executable, "-c", SHARD_JOB, str(ROOT / "workflow"), str(ROOT / "config" / "config.yaml")]
                cmd += [str(work / "outcomes.csv"), json.dumps(universe), str(s), str(shards)]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
                jobs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            add(
                f"multiverse_{n}",
                f"engine, {shards} shard{'s' if shards > 1 else ''}",
                sum(j["seconds"] for j in jobs),
                f"{sum(j['rows'] for j in jobs):,} spec x cell rows; largest shard: "
                f"{max(j['seconds'] for j in jobs):.1f} s, peak RSS {max(j['rss_mb'] for j in jobs):.0f} MB",
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--metafor-k", type=int, default=11, help="studies metafor's gosh() is timed on (2^k - 1 fits)")
    ap.add_argument("--specs", type=int, default=10000, help="multiverse specifications")
    args = ap.parse_args(argv)
    rows = []

    def add(case, peer, seconds, note=""):
        rows.append(dict(case=case, peer=peer, seconds=seconds, note=note))
        print(f"  {case:18s} {peer:26s} {seconds:10.4g} s  {note}", flush=True)

    gosh_cases(add, args.metafor_k)
    multiverse_cases(add, args.specs)
    table = pd.DataFrame(rows)
    times = dict(zip(zip(table.case, table.peer), table.seconds))
    print("\nRatios (peer time / engine time; > 1 means the engine is faster):")
    for k in (16, args.metafor_k):
        engine, peer = times.get((f"gosh_k{k}", "engine REML 1 thread")), times.get((f"gosh_k{k}", "metafor gosh()"))
        if engine and peer and np.isfinite(peer):
            print(f"  GOSH k = {k:2d}: metafor gosh() / engine = {peer / engine:8.0f}x")
    return table


if __name__ == "__main__":
    main()
