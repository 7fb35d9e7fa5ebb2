"""How the wall time falls with the number of local jobs, and what GOSH of 30 studies would need.

    .venv/bin/python bench/scaling_bench.py               # about 8 minutes on 2 cores

(1) The robustness rules (GOSH and multiverse shards and their gather jobs) with 1, 2 and 4 local jobs
    (``--cores N``; every robustness job declares one thread), each in a fresh copy of the project
    whose config has ``robustness.shards`` = 4, after the rules they start from (cleanup, inclusion,
    pooling) have run untimed; the tables must be the same bytes for every N. The shipped cells are
    small (k <= 11), so their GOSH is light and the gather jobs (tables and figures) weigh most:
(1b) the same with every cell's GOSH sampling ``--heavy-samples`` subsets, so that the shards weigh most.
(2) The whole workflow cold (``snakemake --cores N`` from data/raw) with 1, 2 and 4 jobs.
(3) The GOSH batch engine's throughput on a seeded sample of subsets of k = 30 studies (REML, one
    thread, the GOSH shard's own code path ``sbrtmeta.stats.gosh.gosh_fits``), the bytes per subset of
    the shards' part tables, and from both what all 2^30 - 1 subsets need on a cluster of 100 nodes
    (``--nodes``, ``--cores-per-node``), against metafor's ``gosh()`` at 282 fits per second (issue 15).

docs/scaling.md records a run of it and discusses the numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from workflow_bench import ROOT, edit_config, jobs_run, snakemake  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "workflow"))
from project_copy import copy_project  # noqa: E402

ROBUSTNESS_TARGETS = ("results/tables/gosh_studies.csv", "results/tables/multiverse.csv")
PREREQUISITES = ("results/tables/pooled.csv", "results/tables/pooled_studies.csv", "results/clean/outcomes.csv")
METAFOR_FITS_PER_SECOND = 282  # metafor's gosh(), measured on this machine (issue 15's text)
SEED = 20261130


def tables_digest(work: Path) -> str:
    """One digest of every file under results/tables/ (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted((work / "results" / "tables").rglob("*")):
        if path.is_file():
            h.update(path.relative_to(work).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def set_robustness(work: Path, shards: int, gosh: dict | None = None) -> None:
    def change(cfg):
        cfg["robustness"]["shards"] = shards
        cfg["robustness"]["gosh"].update(gosh or {})

    edit_config(work, change)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_runs(
    jobs: list[int], targets: tuple[str, ...], prepare=None, repeat: int = 1
) -> list[tuple[int, float, float, int, str]]:
    """(jobs, wall s, CPU s of snakemake and its jobs, jobs run, tables digest) per job count, each in a
    fresh copy; ``prepare(work)`` edits the copy and builds what is not timed. With ``repeat`` > 1 the job
    counts are run in turn that many times (1, 2, 4, 1, 2, 4, ...) and the fastest run of each is kept,
    so that a burst of load from other processes does not fall on one job count only."""
    best: dict[int, tuple[int, float, float, int, str]] = {}
    for _ in range(repeat):
        for n in jobs:
            with tempfile.TemporaryDirectory(prefix="sbrtmeta-scaling-") as tmp:
                work = copy_project(Path(tmp) / "project")
                if prepare:
                    prepare(work)
                cpu = _children_cpu()
                seconds, proc = snakemake(work, "--cores", str(n), *targets)
                row = (n, seconds, _children_cpu() - cpu, jobs_run(proc), tables_digest(work))
                if n not in best or seconds < best[n][1]:
                    best[n] = row
    return [best[n] for n in jobs]


def robustness_prepare(shards: int, gosh: dict | None = None):
    def prepare(work: Path) -> None:
        set_robustness(work, shards, gosh)
        snakemake(work, "--cores", "2", *PREREQUISITES)

    return prepare


def gosh_throughput(k: int, subsets: int, method: str = "REML") -> tuple[float, float]:
    """Subsets fitted per second of wall time and per CPU second by one thread at k studies (a seeded random
    sample of subsets). CPU seconds are what a cluster's cores supply; on this shared machine they are also
    the steadier measure."""
    from sbrtmeta.stats.gosh import gosh_fits, sampled_subsets

    rng = np.random.default_rng(SEED)
    p = rng.uniform(0.5, 0.95, k)
    n = rng.integers(15, 120, k)
    y = np.log(p / (1 - p)) + rng.normal(0, 0.4, k)  # logits with heterogeneity, as a pooling cell
    v = 1 / (n * p * (1 - p))
    masks = sampled_subsets(k, SEED, 0, subsets)
    gosh_fits(y, v, masks[:4096], method)  # warm-up
    t, cpu = time.perf_counter(), time.process_time()
    gosh_fits(y, v, masks, method)
    return subsets / (time.perf_counter() - t), subsets / (time.process_time() - cpu)


def part_bytes_per_subset(shards: int) -> float:
    """Bytes per subset of the GOSH shards' part tables (results/robustness/gosh/part_*.csv), shipped config."""
    with tempfile.TemporaryDirectory(prefix="sbrtmeta-scaling-") as tmp:
        work = copy_project(Path(tmp) / "project")
        set_robustness(work, shards)
        parts = [f"results/robustness/gosh/part_{i}.csv" for i in range(shards)]
        snakemake(work, "--cores", "2", *parts)
        size = sum((work / p).stat().st_size for p in parts)
        rows = sum(sum(1 for _ in open(work / p, encoding="utf-8")) - 1 for p in parts)
    return size / rows


def human_seconds(s: float) -> str:
    for unit, div in (("days", 86400), ("h", 3600), ("min", 60)):
        if s >= div:
            return f"{s / div:.1f} {unit}"
    return f"{s:.0f} s"


def print_runs(title: str, rows: list[tuple[int, float, float, int, str]]) -> bool:
    base = rows[0][1]
    print(f"\n{title}")
    print(f"  {'jobs':>4}  {'wall s':>7}  {'speed-up':>8}  {'CPU s':>7}  {'jobs run':>8}  tables")
    for n, seconds, cpu, ran, digest in rows:
        print(f"  {n:>4}  {seconds:7.1f}  {base / seconds:7.2f}x  {cpu:7.1f}  {ran:>8}  {digest}")
    same = len({r[-1] for r in rows}) == 1
    print(f"  tables {'byte-identical' if same else 'DIFFER'} across job counts")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=1, help="runs per job count, the fastest kept")
    parser.add_argument("--shards", type=int, default=4, help="robustness.shards in the timed copies")
    parser.add_argument("--heavy-samples", type=int, default=2**17, help="GOSH subsets per cell in (1b)")
    parser.add_argument("--skip-cold", action="store_true", help="time the robustness rules only")
    parser.add_argument("--k30-subsets", type=int, default=2**18, help="subsets timed at k = 30")
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--cores-per-node", type=int, default=32)
    args = parser.parse_args(argv)

    print(f"Scaling with local jobs (2-core machine; robustness.shards = {args.shards} in (1))")
    ok = print_runs(
        "(1) robustness rules (GOSH + multiverse shards and gathers), prerequisites already built",
        timed_runs(args.jobs, ROBUSTNESS_TARGETS, robustness_prepare(args.shards), args.repeat),
    )
    heavy = dict(exhaustive_max=1, samples=args.heavy_samples)
    ok &= print_runs(
        f"(1b) the same with GOSH sampling {args.heavy_samples:,} subsets of every cell (exhaustive_max = 1)",
        timed_runs(args.jobs, ROBUSTNESS_TARGETS, robustness_prepare(args.shards, heavy), args.repeat),
    )
    if not args.skip_cold:
        ok &= print_runs("(2) whole workflow, cold", timed_runs(args.jobs, (), repeat=args.repeat))

    k = 30
    wall_rate, rate = gosh_throughput(k, args.k30_subsets)
    total = 2**k - 1
    bytes_per = part_bytes_per_subset(args.shards)
    cores = args.nodes * args.cores_per_node
    core_seconds = total / rate
    print(f"\n(3) GOSH at k = {k}: {total:,} subsets")
    print(
        f"  batch engine, one thread, REML: {rate:,.0f} subsets per CPU second "
        f"({wall_rate:,.0f} per wall second; {args.k30_subsets:,} sampled subsets timed)"
    )
    print(f"  metafor gosh(): {METAFOR_FITS_PER_SECOND} fits/s -> {human_seconds(total / METAFOR_FITS_PER_SECOND)}")
    print(f"  one core: {human_seconds(core_seconds)}; this 2-core machine: {human_seconds(core_seconds / 2)}")
    print(
        f"  {args.nodes} nodes x {args.cores_per_node} cores = {cores:,} one-thread shards: "
        f"{human_seconds(core_seconds / cores)} of fitting per shard, "
        f"{total // cores:,} subsets each"
    )
    print(
        f"  part tables at {bytes_per:.0f} bytes per subset (CSV, measured): {total * bytes_per / 1e9:,.0f} GB in all, "
        f"{total * bytes_per / cores / 1e6:,.0f} MB per shard"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
