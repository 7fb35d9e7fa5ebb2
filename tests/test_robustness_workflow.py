"""The robustness rules in a project copy: GOSH and the multiverse give the same bytes whatever
robustness.shards is (1, then 3 shard jobs per analysis), and their outputs are where the rules say."""

import shutil

import pandas as pd
import pytest
import yaml
from project_copy import copy_run, run_snakemake

pytestmark = pytest.mark.workflow  # every test here runs Snakemake (make test-fast leaves them out)

TARGETS = ("results/tables/gosh_studies.csv", "results/tables/multiverse.csv")
# the drawing jobs, run once (with 3 shards): they read the tables only
FIGURES = ("results/figures/gosh", "results/figures/specification_curve")
TABLES = ("gosh_studies.csv", "multiverse.csv", "multiverse_summary.csv", "multiverse_choices.csv")


@pytest.fixture(scope="module")
def runs(shipped_run, tmp_path_factory):
    """GOSH and the multiverse rebuilt twice in a copy of the session's run (what precedes them is the run's)."""
    root = tmp_path_factory.mktemp("robustness")
    project = copy_run(shipped_run.work, root / "project")
    out = {}
    for shards in (1, 3):
        extra = {
            "robustness": {
                "shards": shards,
                # lung LC (2047 subsets) gets a sample of 1500 (tests/test_gosh.py: samples across chunks)
                "gosh": {"exhaustive_max": 1100, "samples": 1500},
                "multiverse": {"pooling": {"transform": ["PLO", "PFT"], "tau2_method": ["REML", "DL"]}},
            },
        }
        (project / "extra.yaml").write_text(yaml.safe_dump(extra))
        targets = TARGETS + (FIGURES if shards == 3 else ())
        run = run_snakemake(project, "--cores", "2", *targets, "--configfile", "config/config.yaml", "extra.yaml")
        assert run.returncode == 0, run.stderr[-3000:]
        keep = root / f"shards{shards}"
        shutil.copytree(project / "results" / "tables", keep)
        shutil.copytree(project / "results" / "figures", root / f"figures{shards}")
        out[shards] = (keep, run.stderr)
    return root, out


def test_tables_are_byte_identical_across_shard_counts(runs):
    root, out = runs
    one, three = out[1][0], out[3][0]
    assert "gosh_shard" in out[3][1] and "multiverse_shard" in out[3][1]
    assert "gosh_figures" not in out[1][1] and "multiverse_figures" not in out[1][1]  # the tables need no drawing
    for name in TABLES:
        assert (one / name).read_bytes() == (three / name).read_bytes(), name
    cells = sorted(p.name for p in (one / "gosh").glob("*.csv"))
    assert cells == sorted(p.name for p in (three / "gosh").glob("*.csv"))
    assert "gosh_lung_colorectal_LC_24m.csv" in cells and len(cells) == 6
    for name in cells:
        assert (one / "gosh" / name).read_bytes() == (three / "gosh" / name).read_bytes(), name


def test_outputs_say_what_was_fitted(runs):
    root, out = runs
    tables = out[3][0]
    studies = pd.read_csv(tables / "gosh_studies.csv")
    lung = studies[studies["cell"] == "lung_colorectal_LC_24m"]
    assert lung["sampled"].all() and (lung["subsets"] == 1500).all()
    assert not studies[studies["cell"] == "lung_colorectal_OS_24m"]["sampled"].any()
    mv = pd.read_csv(tables / "multiverse.csv")
    assert mv["spec"].nunique() == 32 * 2 * (2 * 2 * 2 + 1)
    assert "gosh_figures" in out[3][1] and "multiverse_figures" in out[3][1]  # redrawn from the new tables
    figures = sorted(p.name for p in (root / "figures3" / "specification_curve").glob("*.png"))
    assert "specification_curve_lung_colorectal_LC_24m.png" in figures
    assert len(list((root / "figures3" / "gosh").glob("*.png"))) == 6
