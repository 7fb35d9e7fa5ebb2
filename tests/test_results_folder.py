"""results/ belongs to the config that made it (issue 23 item 4): files that no job of the run makes are removed.

In-process: :func:`sbrtmeta.steps.results_folder.stale_files` and ``remove_stale`` on a made-up folder. In a copy of
the session's run of the shipped config (marked workflow): GOSH and the multiverse switched off, and files that an
earlier config would have left planted (a leave-one-out plot of a site no longer pooled, a dose-response figure of
another time point, a PDF of a format no longer asked for, a shard part of a larger shard count): after
``snakemake`` the copy's results/ holds exactly the shipped run's files less those of the two analyses switched
off, and summary.md names none of them.
"""

from pathlib import Path

import pytest
import yaml
from project_copy import copy_run, run_snakemake
from sbrtmeta.steps.results_folder import remove_stale, stale_files


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_stale_files_are_the_files_no_job_makes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(
        tmp_path,
        "results/tables/pooled.csv",
        "results/figures/forest/forest_LC_24m.png",
        "results/figures/forest/.snakemake_timestamp",
        "results/figures/leave_one_out_liver.png",
        "results/figures/gosh/gosh_a.png",
        "results/logs/gosh.log",
    )
    made = ["results/tables/pooled.csv", "results/figures/forest", "./results/logs/../logs/pool.log"]
    stale = [
        Path("results/figures/gosh/gosh_a.png"),
        Path("results/figures/leave_one_out_liver.png"),
        Path("results/logs/gosh.log"),
    ]
    assert stale_files("results", made) == stale
    assert remove_stale("results", made) == stale
    assert _files(tmp_path / "results") == {
        "tables/pooled.csv",
        "figures/forest/forest_LC_24m.png",
        "figures/forest/.snakemake_timestamp",
    }
    assert not (tmp_path / "results/figures/gosh").exists()  # emptied folders go
    assert not (tmp_path / "results/logs").exists()


def test_an_empty_folder_output_stays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results/figures/baujat").mkdir(parents=True)
    _touch(tmp_path, "results/figures/old.png")
    assert remove_stale("results", ["results/figures/baujat"]) == [Path("results/figures/old.png")]
    assert (tmp_path / "results/figures/baujat").is_dir()


# what a run of the shipped config makes for GOSH and the multiverse
SWITCHED_OFF = ("gosh", "multiverse", "specification_curve")


def _of_switched_off(name: str) -> bool:
    return any(part.startswith(SWITCHED_OFF) for part in Path(name).parts)


@pytest.mark.workflow
def test_a_config_switch_leaves_only_its_own_files(shipped_run, tmp_path):
    work = copy_run(shipped_run.work, tmp_path / "switched")
    results = work / "results"
    shipped = _files(results)
    assert any(_of_switched_off(f) for f in shipped)
    planted = (
        "figures/leave_one_out_adrenal.png",
        "tables/leave_one_out_adrenal.csv",
        "logs/leave_one_out_adrenal.log",
        "figures/dose_response_LC_12m.png",
        "figures/flow_diagram.pdf",
        "robustness/gosh/part_7.csv",
    )
    _touch(results, *planted)
    path = work / "config" / "config.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["robustness"]["gosh"]["enabled"] = False
    cfg["robustness"]["multiverse"]["enabled"] = False
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")

    proc = run_snakemake(work)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "an earlier config left in results/" in proc.stderr
    assert _files(results) == {f for f in shipped if not _of_switched_off(f)}
    summary = (results / "report" / "summary.md").read_text(encoding="utf-8")
    assert not any(word in summary for word in ("gosh_", "specification_curve_", "leave_one_out_adrenal"))
    # a run of one target leaves the rest alone (it does not know what the whole workflow makes)
    _touch(results, "figures/leave_one_out_adrenal.png")
    proc = run_snakemake(work, "results/tables/pooled.csv")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (results / "figures/leave_one_out_adrenal.png").is_file()
