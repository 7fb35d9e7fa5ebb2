"""End to end, figures: every configured format is written, a second run of the figure
rules gives identical files, summary.md carries the pooled numbers, and
`snakemake --report` builds with a category per figure kind and per site."""

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
