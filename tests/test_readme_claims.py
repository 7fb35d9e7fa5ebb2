"""The README's claims that can be checked without a run (issue 23 item 7): its pipeline diagram names every rule
of the workflow, and no rule it names is gone; the own-sheet steps say to list the sheet's review in
inclusion.reviews; the jobs a change of inclusion reruns are those it names (``snakemake -n`` in a copy of the
session's shipped run, marked workflow)."""

import re

import pytest
import yaml
from project_copy import ROOT, copy_run, job_stats, run_snakemake
from test_stale_code import planned

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _rules() -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "workflow/rules").glob("*.smk")))
    return set(re.findall(r"^(?:rule|checkpoint) (\w+):", text, flags=re.M))


def _diagram() -> str:
    section = README.split("\n## What it does\n", 1)[1]
    return section.split("```\n", 2)[1]


def test_the_pipeline_diagram_has_every_rule():
    drawn = set(re.findall(r"──(\w+(?:, \w+)*)", _diagram()))
    named = {name for group in drawn for name in group.split(", ")}
    assert _rules() - named == set()
    assert named - _rules() == set()


def test_own_sheet_steps_name_inclusion_reviews():
    section = README.split("\n## Example: your own extraction sheet\n", 1)[1].split("\n## ", 1)[0]
    assert "`inclusion.reviews`" in section


@pytest.mark.workflow
def test_what_reruns_after_an_inclusion_change_is_what_the_readme_says(shipped_run, tmp_path):
    """README, 'Example: change which studies count': the config change it shows, then ``snakemake -n``."""
    work = copy_run(shipped_run.work, tmp_path / "project")
    example = README.split("\n## Example: change which studies count\n", 1)[1].split("```yaml\n", 1)[1]
    change = yaml.safe_load(example.split("```", 1)[0])
    path = work / "config/config.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["inclusion"]["timepoints"].update(change["inclusion"]["timepoints"])
    cfg["inclusion"]["exclude_studies"] = change["inclusion"]["exclude_studies"]
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    proc = run_snakemake(work, "-n", "--quiet", "rules")
    assert proc.returncode == 0, proc.stderr[-3000:]
    planned = set(job_stats(proc.stdout + proc.stderr))
    assert not planned & {"clean_extraction", "risk_of_bias"}
    rerun = {"apply_inclusion", "pool", "forest_plots", "dose_response", "curves", "certainty", "report_summary"}
    assert rerun <= planned


def test_every_path_the_readme_names_is_in_the_repository():
    """Backquoted paths of files (with a suffix) or folders (ending in /) the README names exist, but for what a
    run or a set-up makes (results/, .snakemake/, .venv/)."""
    named = set(re.findall(r"`((?:[\w.-]+/)+[\w.-]*\.\w+|(?:[\w.-]+/)+)`", README))
    local = {p for p in named if not p.startswith(("results/", ".", "http", "/"))}
    assert local and {p for p in local if not (ROOT / p).exists()} == set()


# what the README says a dose_response.alpha_beta or dose_rule change does not rerun
NOT_AFTER_DOSE = {
    "clean_extraction",
    "risk_of_bias",
    "apply_inclusion",
    "pool",
    "flow_diagram",
    "forest_plots",
    "funnel_plots",
    "leave_one_out",
    "leave_one_out_figures",
    "risk_of_bias_figures",
    "curves",
    "curve_figures",
    "sensitivity",
    "sensitivity_figures",
    "gosh_shard",
    "gosh",
    "gosh_figures",
    "multiverse_shard",
    "multiverse",
    "multiverse_figures",
}


@pytest.mark.workflow
def test_what_reruns_after_a_dose_response_change_is_what_the_readme_says(shipped_run, tmp_path):
    """README, 'What it does', dose-response: changing dose_response.alpha_beta reruns that step and those that
    read its tables, nothing upstream and no other figure (``snakemake -n`` naming every file of the run,
    test_stale_code.planned)."""
    assert "not the cleanup, the\n   inclusion, the pooling or the other figures" in README
    work = copy_run(shipped_run.work, tmp_path / "project")
    path = work / "config/config.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["dose_response"]["alpha_beta"] = 3
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    jobs = set(planned(work))
    assert {"dose_response", "dose_response_figures"} <= set(jobs) and not jobs & NOT_AFTER_DOSE
