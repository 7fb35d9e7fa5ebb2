"""End to end, figures: every configured format is written, a second run of the figure rules gives identical
files, a change of figures only redraws them and rewrites no table, summary.md carries the pooled numbers, and
`snakemake --report` builds with a category per figure kind and per site."""

import re

import pandas as pd
import pytest
import yaml
from project_copy import copy_run
from test_workflow import _snakemake

pytestmark = pytest.mark.workflow  # every test here runs Snakemake (make test-fast leaves them out)

# (and rule leave_one_out, whose tables the second run must write byte-identical too)
FIGURE_RULES = (
    "forest_plots",
    "funnel_plots",
    "flow_diagram",
    "leave_one_out",
    "leave_one_out_figures",
    "report_summary",
)
FORMATS = ["png", "pdf", "svg"]


@pytest.fixture(scope="module")
def project(all_formats_runs, tmp_path_factory):
    """A copy of the session's first run with every format at 72 dpi (tests/conftest.py; test_determinism.py
    compares that run with a second one)."""
    work = copy_run(all_formats_runs[0], tmp_path_factory.mktemp("figures") / "project")
    config = yaml.safe_load((work / "config/config.yaml").read_text())
    assert config["figures"]["formats"] == FORMATS and config["figures"]["dpi"] == 72
    return work, config


def expected_figures(work, config):
    """Forest plots of the cells of pooled.csv and funnel plots of those with a site of
    sensitivity.funnel.min_studies.plot (3) or more studies (in their folders), the flow diagram,
    and a leave-one-out plot per site with a cell of three or more studies."""
    pooled = pd.read_csv(work / "results/tables/pooled.csv")
    cells = pooled[["endpoint", "timepoint_months"]].drop_duplicates().itertuples(index=False)
    stems = [f"forest/forest_{e}_{float(t):g}m" for e, t in cells]
    funnels = pooled.loc[pooled.k >= config["sensitivity"]["funnel"]["min_studies"]["plot"]]
    funnel_cells = funnels[["endpoint", "timepoint_months"]].drop_duplicates().itertuples(index=False)
    stems += [f"funnel/funnel_{e}_{float(t):g}m" for e, t in funnel_cells]
    stems.append("flow_diagram/flow_diagram")
    stems += [
        f"leave_one_out/leave_one_out_{s.replace(' ', '_')}" for s in sorted(pooled.loc[pooled.k >= 3, "site"].unique())
    ]
    return [work / "results/figures" / f"{stem}.{ext}" for stem in stems for ext in FORMATS]


def test_forest_and_funnel_plots_only_for_pooled_cells(project):
    """The forest and funnel folders hold one figure per format for each endpoint × time point
    of pooled.csv and nothing else (tests/test_plots.py: a configured cell with nothing pooled
    gets no figure)."""
    work, config = project
    expected = {p for p in expected_figures(work, config) if p.parent.name in ("forest", "funnel")}
    folders = [work / "results/figures" / kind for kind in ("forest", "funnel")]
    found = {p for f in folders for p in f.iterdir() if not p.name.startswith(".")}  # (.snakemake_timestamp)
    assert found == expected


def test_every_configured_format_is_written(project):
    work, config = project
    paths = expected_figures(work, config)
    assert any("leave_one_out_" in p.name for p in paths)
    for p in paths:
        assert p.stat().st_size > 0, p
    assert (work / "results/report/summary.md").stat().st_size > 0


# the rules a figures.* change may rerun: those that draw, and the report documents that show the figures
DRAWING = re.compile(r"_figures$|^(forest_plots|funnel_plots|flow_diagram|report_summary|report_docx|report_html|all)$")


def _files(folder):
    """Path -> (mtime_ns, bytes) of every file under ``folder``."""
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()}


def _rules_run(proc):
    """The rules of the jobs a run reports done (the console's "3 of 22 steps (14%) done: pool")."""
    return set(re.findall(r"steps \(\d+%\) done: (\w+)", proc.stdout + proc.stderr))


@pytest.fixture(scope="module")
def redrawn(shipped_run, tmp_path_factory):
    """A copy of the session's run (every format at 72 dpi) after a change of figures only: PNG alone, at 60 dpi
    (PNG alone keeps the redraw short). The files before and after, and the rules the run ran."""
    work = copy_run(shipped_run.work, tmp_path_factory.mktemp("redrawn") / "project")
    path = work / "config/config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["figures"].update(formats=["png"], dpi=60)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    before = _files(work / "results")
    proc = _snakemake(work)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work, before, _files(work / "results"), _rules_run(proc)


def test_a_dpi_change_rewrites_no_table(redrawn):
    """Issue 23 item 5: changing figures.* (here dpi and formats) reruns only the drawing jobs and the report
    documents that show the figures; no file under results/tables/ is rewritten (same mtime, same bytes), every
    PNG is drawn anew, and the PDF and SVG files the config no longer asks for are gone."""
    work, before, after, rules = redrawn
    assert rules and all(DRAWING.search(rule) for rule in rules), sorted(rules)
    tables = [p for p in before if p.is_relative_to(work / "results/tables")]
    assert len(tables) > 20
    assert [p.name for p in tables if after.get(p) != before[p]] == []
    pngs = [p for p in before if p.suffix == ".png"]
    assert pngs and [p.name for p in pngs if after[p][0] == before[p][0]] == []
    assert not [p for p in after if p.suffix in (".pdf", ".svg")]


def test_a_second_run_gives_identical_files(project):
    work, config = project
    paths = expected_figures(work, config) + [work / "results/report/summary.md"]
    paths += sorted((work / "results/tables").glob("leave_one_out_*.csv"))
    before = {p: p.read_bytes() for p in paths}
    proc = _snakemake(work, "--forcerun", *FIGURE_RULES)
    assert proc.returncode == 0, proc.stderr[-4000:]
    changed = [p.name for p in paths if p.read_bytes() != before[p]]
    assert not changed


def test_summary_carries_the_pooled_numbers(project):
    work, _ = project
    md = (work / "results/report/summary.md").read_text()
    pooled = pd.read_csv(work / "results/tables/pooled.csv")
    for r in pooled.itertuples():  # the headline table's cell: rate, % (CI)
        assert f"| {100 * r.estimate:.1f} ({100 * r.ci_low:.1f}–{100 * r.ci_high:.1f}) |" in md
    assert "](../figures/forest/forest_LC_24m.png)" in md


def test_snakemake_report_builds(project):
    work, _ = project
    proc = _snakemake(work, "--report", "report.html")
    assert proc.returncode == 0, proc.stderr[-4000:]
    html = (work / "report.html").read_text(errors="replace")
    for category in ("Forest plots", "Funnel plots", "Study selection", "Summary", "Lung", "Liver", "Leave-one-out"):
        assert category in html, category
