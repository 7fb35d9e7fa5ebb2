"""Issue 23 item 5, a figure option reruns only figures: statistics and drawing are separate jobs. Each rule with a
drawing rule (``X`` and ``X_figures``; ``curves`` and ``curve_figures``) reads no ``figures.*`` setting but one that
changes its tables (``figures.leave_one_out.max_studies``: a cell of more studies is not refitted, which the table
says) and runs no plotting module but plots/labels.py's words (its code inputs, ``code_of``); its drawing rule reads
only tables and writes only figures. In-process, from the rules' text and common.smk's ``code_of``
(tests/test_stale_code.py), no Snakemake."""

import os
import re

from project_copy import ROOT
from test_stale_code import _rule_blocks, common_smk_code_of

# figures.* settings a statistics rule may read: those that change its tables
TABLE_SETTINGS = {'config["figures"]["leave_one_out"]["max_studies"]'}
DRAWING = {"curves": "curve_figures"}
# plots/ modules a statistics rule may run: the words and number formats the report text shares (no matplotlib)
WORDS = {"workflow/sbrtmeta/plots/__init__.py", "workflow/sbrtmeta/plots/labels.py"}


def _pairs() -> dict[str, tuple[tuple, tuple]]:
    blocks = _rule_blocks(ROOT)
    return {
        name: (blocks[name], blocks[DRAWING.get(name, f"{name}_figures")])
        for name in blocks
        if DRAWING.get(name, f"{name}_figures") in blocks
    }


def _section(block: str, name: str) -> str:
    """The text of one directive (``input``, ``output``, ``params``) of a rule block."""
    match = re.search(rf"(?ms)^    {name}:\n(.*?)(?=^    \w+:|\Z)", block)
    return match.group(1) if match else ""


def test_the_split_rules_are_found():
    assert {"risk_of_bias", "certainty", "sensitivity", "leave_one_out"} <= set(_pairs())


def test_a_statistics_rule_reads_no_figure_setting_and_runs_no_plotting_code():
    code_of = common_smk_code_of()
    for name, ((script, block), _) in _pairs().items():
        settings = set(re.findall(r'config\["figures"\](?:\["\w+"\])*', block))
        assert settings <= TABLE_SETTINGS, (name, settings - TABLE_SETTINGS)
        code = code_of(os.path.relpath(script, ROOT / "workflow" / "rules"))
        plotting = [f for f in code if "/plots/" in f and f not in WORDS]
        assert plotting == [], (name, plotting)
        assert "results/figures/" not in _section(block, "output"), name


def test_a_drawing_rule_reads_tables_and_writes_figures():
    for name, (_, (_, block)) in _pairs().items():
        inputs = _section(block, "input")
        paths = re.findall(r'"(results/[^"]*)"', inputs)
        assert all(p.startswith("results/tables/") for p in paths), (name, paths)
        assert "results/clean/" not in inputs and "data/" not in inputs, name
        outputs = _section(block, "output")
        paths = re.findall(r'"(results/[^"]*)"', outputs)
        assert all(p.startswith("results/figures/") for p in paths), (name, paths)
        assert paths or "cell_figures(" in outputs, name  # (cell_figures: a folder of results/figures/)
