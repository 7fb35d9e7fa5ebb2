"""Speed of the whole Snakemake workflow, with targets, and against metafor.

    .venv/bin/python bench/workflow_bench.py            # 2-5 minutes on 2 cores

Cases, each in a fresh temporary copy of the project (Snakefile, workflow, config,
data, profiles) run with the default profile:

  (a) cold   : a full run from data/raw (no results/, no .snakemake/);
  (b) no-op  : the same command again, nothing to do (best of 3);
  (c) min_n  : rerun after changing one inclusion criterion (inclusion.min_n);
  (d) sheet  : a user tidy sheet of 10^5 rows (resampled and perturbed from the
               shipped results/clean/outcomes.csv, seeded, new study ids), from the
               cleanup to the tables (figures of 10^4-study cells are not drawn:
               then the rest of the workflow (dose-response, figures, report) with a
               time limit (``--sheet-figures``, 0 to skip), and the total.

and metafor doing the same pooling and plots from the same included.csv
(bench/workflow_metafor.R: rma PLO/REML/knha per cell, forest() and funnel() to PNG
and PDF), R start-up included, for the ratio cold / metafor.

Targets (2-core machine): cold < 15 s (issue 23), no-op < 2 s, 10^5-row sheet < 60 s.
A profile of where the cold run's time goes follows the table: each Python process
the run starts is timed through a ``sitecustomize`` put on PYTHONPATH (start from
/proc, end at exit), and the parts of one plotting job (interpreter + imports, the
drawing, the writing) and of the pooling are timed in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests"))
from project_copy import copy_project, snakemake_env  # noqa: E402  (as the end-to-end tests)

env = snakemake_env

PYTHON = Path(sys.executable)
TARGETS = {"cold": 15.0, "noop": 2.0, "sheet": 60.0}  # issue 23 item 9: a cold run within 15 s on 2 idle cores
TABLES = (
    "results/tables/included.csv",
    "results/tables/excluded.csv",
    "results/tables/pooled.csv",
    "results/tables/not_pooled.csv",
    "results/tables/subgroup_tests.csv",
)
SEED = 20261123

# Written into a temporary directory put first on PYTHONPATH: every Python process of a
# run (snakemake and each job's script) appends one JSON line with its start, end and argv.
SITECUSTOMIZE = r"""
import atexit, json, os, sys, time
_log = os.environ.get("WORKFLOW_BENCH_PROCLOG")
if _log:
    try:
        with open("/proc/self/stat") as f:
            _ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            _up = float(f.read().split()[0])
        _start = time.time() - (_up - _ticks / os.sysconf("SC_CLK_TCK"))
    except Exception:
        _start = time.time()
    def _done():
        with open(_log, "a") as f:
            f.write(json.dumps({"start": _start, "end": time.time(), "argv": sys.argv[:3]}) + "\n")
    atexit.register(_done)
"""


# --- project copies and runs ----------------------------------------------------------------


def snakemake(cwd: Path, *args: str, extra_env: dict | None = None, timeout: float = 1800):
    """Run snakemake in ``cwd``; (seconds, completed process). Fails loudly on a failed run."""
    t = time.perf_counter()
    cmd = [str(PYTHON), "-m", "snakemake", *args]
    # its own process group, so a run stopped at the time limit takes its jobs with it
    with subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env(extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as p:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)
            p.communicate()
            raise
    seconds = time.perf_counter() - t
    proc = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed in {cwd}:\n{proc.stderr[-4000:]}")
    return seconds, proc


def jobs_run(proc) -> int:
    """Jobs the run finished: one progress line each (the quiet console, sbrtmeta.steps.console, prints
    "3 of 22 steps (14%) done: pool" in place of Snakemake's "Finished jobid" lines)."""
    return len(re.findall(r"^\d+ of \d+ steps \(\d+%\) done", proc.stdout + proc.stderr, flags=re.M))


def edit_config(work: Path, change) -> None:
    path = work / "config" / "config.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(cfg)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")


# --- (d) the 10^5-row user sheet -------------------------------------------------------------

# Columns the cleanup writes or derives itself: a user sheet leaves them out.
NOT_IN_SHEET = (
    "raw_file",
    "raw_row",
    "corrected_columns",
    "histology",
    "review_histology",
    "total_dose_gy",
    "fractions",
    "bed10",
    "dose_rule",
)


def make_tidy_sheet(outcomes: pd.DataFrame, rows: int = 100_000, seed: int = SEED) -> pd.DataFrame:
    """A tidy user sheet of ``rows`` rows: the shipped outcomes rows resampled with
    replacement, each given a new study id, its n perturbed (log-normal, sd 0.3) and its
    events redrawn as binomial(n, the row's rate). Rows without a count keep their rate.
    The rate column is left empty where events and n are given (the cleanup computes it)."""
    rng = np.random.default_rng(seed)
    src = outcomes.drop(columns=[c for c in NOT_IN_SHEET if c in outcomes.columns]).reset_index(drop=True)
    pick = rng.integers(0, len(src), size=rows)
    sheet = src.iloc[pick].reset_index(drop=True)
    sheet["study_id"] = [f"bench-{i:06d}" for i in range(rows)]
    if "ref" in sheet:
        sheet["ref"] = sheet["study_id"]
    n = pd.to_numeric(sheet["n"], errors="coerce").to_numpy()
    x = pd.to_numeric(sheet["events"], errors="coerce").to_numpy()
    rate = pd.to_numeric(sheet["rate"], errors="coerce").to_numpy()
    have = ~np.isnan(n) & ~np.isnan(x) & (n >= 1)
    p = np.where(have, x / np.where(have, n, 1), np.nan_to_num(rate, nan=0.5))
    new_n = np.maximum(1, np.round(np.where(have, n, 1) * np.exp(rng.normal(0, 0.3, rows)))).astype(int)
    new_x = rng.binomial(new_n, np.clip(p, 0, 1))
    sheet["n"] = pd.array(np.where(have, new_n, pd.NA), dtype="Int64")
    sheet["events"] = pd.array(np.where(have, new_x, pd.NA), dtype="Int64")
    sheet["rate"] = np.where(have, np.nan, rate)
    return sheet


def use_tidy_sheet(work: Path, sheet_rel: str) -> str:
    """THE CONFIG HOOK for the user sheet: make the copy in ``work`` read ``sheet_rel``
    as its only input sheet. Returns how the sheet was fed in (printed with the result).

    Uses config ``data.tidy_sheets`` when the workflow's schema knows it; otherwise the
    sheet is placed as results/clean/outcomes.csv (newer than every input) and only the
    rules after the cleanup run. Adapt here if the tidy-sheet config changes."""
    schema = (work / "workflow" / "schemas" / "config.schema.yaml").read_text(encoding="utf-8")
    if "tidy_sheets" in schema:  # the user-sheet config of the workflow

        def change(cfg):
            cfg["data"]["tidy_sheets"] = [sheet_rel]
            cfg["data"]["sheets"] = []
            # settings naming shipped studies: the user sheet has none of them
            cfg["inclusion"]["overlaps"] = []
            cfg["inclusion"]["exclude_studies"] = []
            # GOSH and the multiverse of cells of thousands of studies: the pre-flight budget (limits:) refuses
            # them before any job, and (d) times the tables, not them
            cfg["robustness"]["gosh"]["enabled"] = cfg["robustness"]["multiverse"]["enabled"] = False

        edit_config(work, change)
        return "config data.tidy_sheets (sheets: [], overlaps and exclude_studies: [], GOSH and multiverse off)"
    edit_config(work, lambda cfg: cfg["inclusion"].update(overlaps=[], exclude_studies=[]))
    out = work / "results" / "clean" / "outcomes.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(work / sheet_rel, out)
    os.utime(out, (time.time() + 5, time.time() + 5))
    return "FALLBACK: written as results/clean/outcomes.csv, run from inclusion on (no tidy_sheets in config)"


# --- profile ----------------------------------------------------------------------------------


def process_profile(proclog: Path) -> pd.DataFrame:
    recs = [json.loads(line) for line in proclog.read_text().splitlines() if line.strip()]
    rows = []
    for r in recs:
        argv = " ".join(r["argv"])
        script = next((a for a in r["argv"] if ".snakemake/scripts" in a), None)
        if script:
            what = "job: " + Path(script).name.split(".", 1)[-1]
        elif "snakemake" in argv:
            what = "snakemake (main process)"
        else:
            what = "other: " + argv[:60]
        rows.append(dict(what=what, start=r["start"], end=r["end"], seconds=r["end"] - r["start"]))
    return pd.DataFrame(rows)


def in_process_parts(work: Path, included: Path, dpi: int) -> list[tuple[str, float, str]]:
    """Costs of one plotting job's parts and of the pooling, measured here on ``included``."""
    code = f"""
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
t1 = time.perf_counter()
from sbrtmeta.plots.forest import draw_forest
from sbrtmeta.analysis.small_study import funnel_panels
from sbrtmeta.plots.funnel import draw_funnel as draw_panels
draw_funnel = lambda pooled, studies, e, t: draw_panels(funnel_panels(pooled, studies, e, t), e, t)
from sbrtmeta.plots.style import save_figure
t2 = time.perf_counter()
from sbrtmeta.analysis.pooling import pool_cells, not_pooled, subgroup_differences
t3 = time.perf_counter()
inc = pd.read_csv({str(included)!r}, dtype={{"first_author": str, "ref": str}})
inc["first_author"] = inc["first_author"].fillna("")
pooled, studies = pool_cells(inc)
t4 = time.perf_counter()
subgroup_differences(inc)
t5 = time.perf_counter()
cells = sorted(set(zip(pooled.endpoint, pooled.timepoint_months)))
draw = {{"forest": 0.0, "funnel": 0.0}}
save = {{"png": 0.0, "pdf": 0.0}}
import tempfile, os
tmp = tempfile.mkdtemp()
for e, t in cells:
    for kind, fn in (("forest", draw_forest), ("funnel", draw_funnel)):
        a = time.perf_counter()
        fig = fn(pooled, studies, e, float(t))
        b = time.perf_counter()
        draw[kind] += b - a
        for ext in ("png", "pdf"):
            c = time.perf_counter()
            save_figure(fig, [os.path.join(tmp, f"x.{{ext}}")], dpi={dpi})
            save[ext] += time.perf_counter() - c
print(json.dumps(dict(pandas=t1 - t0, plot_imports=t2 - t1, pool_imports=t3 - t2, pool=t4 - t3,
                      subgroups=t5 - t4, n_cells=len(cells), draw=draw, save=save)))
"""
    t = time.perf_counter()
    proc = subprocess.run(
        [str(PYTHON), "-c", code],
        cwd=work,
        env=env({"PYTHONPATH": str(work / "workflow")}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return [("in-process profile failed", float("nan"), proc.stderr[-300:])]
    d = json.loads(proc.stdout.strip().splitlines()[-1])
    bare = min(_timed([str(PYTHON), "-c", "pass"]) for _ in range(3))
    n = d["n_cells"]
    return [
        ("python start-up (bare interpreter)", bare, "per process"),
        ("import pandas", d["pandas"], "per job"),
        ("import forest+funnel+plot_style (matplotlib, scipy.stats)", d["plot_imports"], "per plot job"),
        ("import pooling (rest of the engine)", d["pool_imports"], "pool job"),
        ("pool_cells on included.csv", d["pool"], "pool job"),
        ("subgroup_differences", d["subgroups"], "pool job"),
        (f"draw forest, {n} endpoint x time point", d["draw"]["forest"], f"{d['draw']['forest'] / n:.2f} s each"),
        (f"draw funnel, {n} endpoint x time point", d["draw"]["funnel"], f"{d['draw']['funnel'] / n:.2f} s each"),
        (f"write PNG at {dpi} dpi, {2 * n} figures", d["save"]["png"], f"{d['save']['png'] / (2 * n):.2f} s each"),
        (f"write PDF, {2 * n} figures", d["save"]["pdf"], f"{d['save']['pdf'] / (2 * n):.2f} s each"),
        ("(all of the above in one process)", wall, "what the plots cost without per-job start-up"),
    ]


def _timed(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


# --- main -------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000, help="rows of the user sheet (d)")
    ap.add_argument(
        "--sheet-figures",
        type=float,
        default=300,
        metavar="SECONDS",
        help="also draw the figures of the user sheet, with this time limit (0: skip)",
    )
    ap.add_argument(
        "--sheet-timeout",
        type=float,
        default=900,
        metavar="SECONDS",
        help="stop the user-sheet run (d) after this long (reported as a MISS)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="sbrtmeta-workflow-bench-"))
    hook = tmp / "sitecustomize"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    rows, notes = [], []

    def add(case, seconds, target=None, note=""):
        verdict = "" if target is None else ("PASS" if seconds < target else "MISS")
        rows.append(dict(case=case, seconds=seconds, target=target, verdict=verdict, note=note))

    try:
        # (a) cold run, with every Python process timed
        load_before = os.getloadavg()
        work = copy_project(tmp / "a")
        proclog = tmp / "processes.jsonl"

        def prof_env(log):
            return {
                "WORKFLOW_BENCH_PROCLOG": str(log),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
            }

        cold, proc = snakemake(work, extra_env=prof_env(proclog))
        n_jobs = jobs_run(proc)
        add("(a) cold full run from data/raw", cold, TARGETS["cold"], f"{n_jobs} jobs")
        cold_results = tmp / "cold_results"  # kept for metafor, the profile and the user sheet
        shutil.copytree(work / "results", cold_results)

        # (b) no-op
        noop = min(snakemake(work)[0] for _ in range(3))
        add("(b) no-op rerun (best of 3)", noop, TARGETS["noop"], "nothing to be done")
        dry = min(snakemake(work, "-n")[0] for _ in range(2))
        add("    dry run -n (DAG + checkpoint only)", dry, None, "")

        # (c) one inclusion criterion changed
        def min_n(cfg):
            cfg["inclusion"]["min_n"] = 20

        edit_config(work, min_n)
        rerun, proc = snakemake(work)
        add("(c) rerun after inclusion.min_n 1 -> 20", rerun, None, f"{jobs_run(proc)} jobs rerun")

        # metafor on the same included.csv
        dpi = int(yaml.safe_load((work / "config/config.yaml").read_text())["figures"]["dpi"])
        metafor = float("nan")
        if shutil.which("Rscript"):
            t = time.perf_counter()
            r = subprocess.run(
                [
                    "Rscript",
                    str(HERE / "workflow_metafor.R"),
                    str(cold_results / "tables/included.csv"),
                    str(tmp / "metafor"),
                    str(dpi),
                ],
                capture_output=True,
                text=True,
                timeout=900,
            )
            if r.returncode == 0:
                metafor = time.perf_counter() - t
                add("metafor: pooling + forest/funnel PNG+PDF", metafor, None, r.stdout.strip())
            else:
                notes.append("metafor run failed: " + r.stderr[-500:])
        else:
            notes.append("Rscript not found: no metafor comparison")

        # (d) the user sheet
        work_d = copy_project(tmp / "d")
        outcomes = pd.read_csv(cold_results / "clean/outcomes.csv", dtype=str, keep_default_na=False)
        t = time.perf_counter()
        sheet = make_tidy_sheet(outcomes, args.rows)
        sheet_rel = "data/bench_user_sheet.csv"
        sheet.to_csv(work_d / sheet_rel, index=False)
        gen = time.perf_counter() - t
        how = use_tidy_sheet(work_d, sheet_rel)
        case_d = f"(d) user sheet of {len(sheet):,} rows -> tables"
        try:
            secs, proc = snakemake(work_d, *TABLES, timeout=args.sheet_timeout, extra_env=prof_env(tmp / "d.jsonl"))
            pooled = pd.read_csv(work_d / "results/tables/pooled.csv")
            add(
                case_d,
                secs,
                TARGETS["sheet"],
                f"{jobs_run(proc)} jobs; {len(pooled)} cells, largest k = {int(pooled.k.max())}",
            )
        except subprocess.TimeoutExpired:
            proc = None
            add(
                case_d,
                args.sheet_timeout,
                TARGETS["sheet"],
                f"STOPPED after {args.sheet_timeout:g} s (time limit), see the profile of (d) below",
            )
        except RuntimeError as exc:
            proc = None
            add(case_d, float("nan"), TARGETS["sheet"], "FAILED, see the note")
            lines = str(exc).splitlines()
            said = [ln for ln in lines if "ERROR" in ln] or lines[-3:]  # (the pre-flight's lines say no ERROR)
            notes.append("(d) FAILED: " + " | ".join(said)[:600])
        notes.append(f"(d) sheet generated in {gen:.1f} s (not timed in (d)); fed in by {how}")
        if args.sheet_figures and proc is not None:
            try:
                tables_secs = rows[-1]["seconds"] if rows else float("nan")
                secs, proc = snakemake(work_d, timeout=args.sheet_figures)
                add("    ... then dose-response, figures, report", secs, None, f"{jobs_run(proc)} jobs")
                add("(d) user sheet, whole workflow", tables_secs + secs, TARGETS["sheet"], "tables + the rest")
            except subprocess.TimeoutExpired:
                add("    ... and its figures", float("nan"), None, f"stopped after {args.sheet_figures:g} s")
            except RuntimeError as exc:
                failed = [ln.strip() for ln in str(exc).splitlines() if "Error in rule" in ln or "died with" in ln]
                add("    ... and its figures", float("nan"), None, "FAILED: " + " ".join(failed)[:300])

        # the table
        print(
            f"\nWorkflow benchmark ({os.cpu_count()} cores, profile default, python {sys.version.split()[0]}; "
            f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f})\n"
        )
        print(f"{'case':<46} {'seconds':>8} {'target':>8}  {'':<5} note")
        for r_ in rows:
            tgt = f"< {r_['target']:g}" if r_["target"] else ""
            print(f"{r_['case']:<46} {r_['seconds']:>8.2f} {tgt:>8}  {r_['verdict']:<5} {r_['note']}")
        print("\nratios")
        print(f"  no-op / cold            {noop / cold:6.3f}")
        print(f"  min_n rerun / cold      {rerun / cold:6.3f}")
        print(f"  cold / metafor          {cold / metafor:6.2f}   (metafor {metafor:.1f} s, workflow {cold:.1f} s)")
        for note in notes:
            print("note:", note)

        # where the time goes
        print_process_profile("the cold run (a)", proclog)
        print_rule_benchmarks("the cold run (a)", cold_results / "benchmarks")
        if (tmp / "d.jsonl").exists():
            print_process_profile("the user sheet (d)", tmp / "d.jsonl")
        print("\nparts of the jobs, timed in one process:")
        for what, secs, note in in_process_parts(work, cold_results / "tables/included.csv", dpi):
            print(f"  {what:<58} {secs:>7.2f} s  {note}")
    finally:
        if args.keep:
            print(f"\nkept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def print_process_profile(title: str, proclog: Path) -> None:
    prof = process_profile(proclog)
    print(f"\nprofile of {title}: {len(prof)} Python processes (wall seconds from process start to exit)")
    main_p = prof[prof.what == "snakemake (main process)"]
    jobs = prof[prof.what.str.startswith("job:")]
    by = jobs.groupby("what").seconds.agg(["count", "sum", "mean", "max"]).sort_values("sum", ascending=False)
    print(f"  {'process':<40} {'count':>5} {'sum s':>8} {'mean s':>7} {'max s':>7}")
    for what, r_ in by.iterrows():
        print(f"  {what:<40} {int(r_['count']):>5} {r_['sum']:>8.2f} {r_['mean']:>7.2f} {r_['max']:>7.2f}")
    if len(main_p):
        m = main_p.iloc[0]
        busy = _union_seconds(jobs[["start", "end"]].to_numpy())
        print(
            f"  snakemake main process: {m.seconds:.2f} s wall; jobs running during {busy:.2f} s of it; "
            f"scheduler/DAG/start-up alone: {m.seconds - busy:.2f} s"
        )
        print(
            f"  job-seconds {jobs.seconds.sum():.1f} over {m.seconds:.1f} s wall = "
            f"{jobs.seconds.sum() / m.seconds:.2f} jobs in parallel on average"
        )


def rule_benchmarks(folder: Path) -> pd.DataFrame:
    """Per rule, the jobs' Snakemake ``benchmark:`` records (results/benchmarks/<rule>.tsv, or <rule>/<wildcard>.tsv
    for the per-site and per-shard jobs): job count, summed wall and CPU seconds, largest resident memory."""
    rows = []
    for path in sorted(folder.rglob("*.tsv")):
        rule = path.parent.name if path.parent != folder else path.stem
        rows += [dict(rule=rule, **r) for r in pd.read_csv(path, sep="\t").to_dict("records")]
    if not rows:
        return pd.DataFrame(columns=["rule", "jobs", "wall_s", "cpu_s", "max_rss_mb"])
    table = (
        pd.DataFrame(rows)
        .groupby("rule")
        .agg(jobs=("s", "size"), wall_s=("s", "sum"), cpu_s=("cpu_time", "sum"), max_rss_mb=("max_rss", "max"))
    )
    return table.sort_values("wall_s", ascending=False).reset_index()


def print_rule_benchmarks(title: str, folder: Path) -> None:
    table = rule_benchmarks(folder)
    print(f"\nper rule, {title} (results/benchmarks/, Snakemake's benchmark: of each job)")
    print(f"  {'rule':<24} {'jobs':>5} {'wall s':>8} {'cpu s':>8} {'max RSS MB':>11}")
    for r_ in table.itertuples():
        print(f"  {r_.rule:<24} {r_.jobs:>5} {r_.wall_s:>8.2f} {r_.cpu_s:>8.2f} {r_.max_rss_mb:>11.0f}")
    if len(table):
        print(f"  {'all jobs':<24} {table.jobs.sum():>5} {table.wall_s.sum():>8.2f} {table.cpu_s.sum():>8.2f}")


def _union_seconds(intervals) -> float:
    total, end = 0.0, -np.inf
    for s, e in sorted(map(tuple, intervals)):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


if __name__ == "__main__":
    main()
