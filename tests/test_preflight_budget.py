"""Hostile configs and text (issue 26, items 4 and 5): the pre-flight budget, duplicate YAML keys,
control characters and bidirectional overrides, formula prefixes behind whitespace. Each of the
issue's reproductions is an example here; each refusal is one line naming the key (or file, row,
column), the estimate and the limit (or the code point)."""

import copy
import time

import pandas as pd
import pytest
import yaml
from project_copy import ROOT, copy_project, run_snakemake
from sbrtmeta.analysis import config_checks as cc
from sbrtmeta.analysis import multiverse as mv
from sbrtmeta.analysis import multiverse_design as design
from sbrtmeta.analysis.budget import LIMITS, budget_faults
from sbrtmeta.data.config_source import duplicate_keys
from sbrtmeta.data.errors import InputError
from sbrtmeta.data.hidden_text import hidden_config_text, hidden_reason
from sbrtmeta.data.risk_of_bias import read_risk_of_bias
from sbrtmeta.data.sheet_size import data_rows
from sbrtmeta.data.sheets import formula_reason, read_table
from sbrtmeta.plots.risk_of_bias import traffic_light

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
ROWS = data_rows([ROOT / s for s in CONFIG["data"]["sheets"]])


def _with(change) -> dict:
    cfg = copy.deepcopy(CONFIG)
    change(cfg)
    return cfg


def test_the_shipped_config_fits_the_budget():
    assert ROWS > 0 and budget_faults(CONFIG, ROWS) == []
    assert {k: v["default"] for k, v in SCHEMA["properties"]["limits"]["properties"].items()} == LIMITS


def test_a_fine_curve_grid_is_refused_naming_key_estimate_and_limit():
    """curves.step: 0.001 wrote a 1 GB table."""
    (fault,) = budget_faults(_with(lambda c: c["curves"].update(step=0.001)), ROWS)
    assert fault[0] == "curves.step"
    assert "54,001 months" in fault[1] and "rows, over limits.curve_rows 1,000,000" in fault[1] and "\n" not in fault[1]


def test_curves_from_after_to_and_a_step_of_zero_are_refused():
    """curves.from: 60, to: 6 ran with exit 0 and drew empty curves."""
    (fault,) = budget_faults(_with(lambda c: c["curves"].update({"from": 60, "to": 6})), ROWS)
    assert fault == ("curves.from", "60 is after curves.to 6: the grid would be empty")
    bad = _with(lambda c: c["curves"].update(step=0))
    assert [k for k, _ in cc.schema_faults(bad, SCHEMA)] == ["curves.step"]


def test_gosh_exhaustive_max_is_capped_and_samples_budgeted():
    """exhaustive_max could reach 2^30 - 1 (9 GB in the gather at k = 25)."""
    assert [
        k for k, _ in cc.schema_faults(_with(lambda c: c["robustness"]["gosh"].update(exhaustive_max=2**30)), SCHEMA)
    ] == ["robustness.gosh.exhaustive_max"]
    (fault,) = budget_faults(_with(lambda c: c["robustness"]["gosh"].update(samples=10**8)), ROWS)
    assert fault[0] == "robustness.gosh.samples" and "100,000,000 subsets" in fault[1]
    assert "limits.gosh_subsets" in fault[1]
    faults = dict(budget_faults(CONFIG, 20_000))  # a cell could hold 20,000 studies: 10^6 rows of 40 kB
    assert "limits.gosh_bytes" in faults["robustness.gosh.samples"]
    assert "limits.figure_pixels" in faults["robustness.gosh.highlight"]  # a panel per study


def _huge_multiverse(max_specs: int) -> dict:
    universe = copy.deepcopy(CONFIG["robustness"]["multiverse"])
    universe["inclusion"].update(min_n=list(range(1, 401)), tolerance_months=list(range(250)))
    return dict(universe, max_specs=max_specs)


def test_a_sample_of_a_huge_multiverse_is_drawn_without_the_factorial():
    """max_specs: 100 of a 40-million-specification factorial built it first (6 GB in 15 s)."""
    universe = _huge_multiverse(100)
    assert design.specification_count(universe) == 400 * 250 * 400 == 40_000_000
    start = time.perf_counter()
    specs = mv.specifications(universe, 7)
    assert time.perf_counter() - start < 2 and len(specs) == 100 and specs["spec"].tolist() == list(range(100))
    assert budget_faults(_with(lambda c: c["robustness"].update(multiverse=universe)), ROWS) == []
    (fault,) = budget_faults(_with(lambda c: c["robustness"].update(multiverse=_huge_multiverse(0))), ROWS)
    assert fault[0] == "robustness.multiverse.max_specs" and "40,000,000" in fault[1]


def test_the_multiverse_sample_is_the_one_of_the_listed_factorial():
    """Drawing by position gives the same sample as listing the factorial and drawing from it."""
    universe = dict(CONFIG["robustness"]["multiverse"], max_specs=37)
    full = mv.specifications(dict(universe, max_specs=0), 3)
    sample = mv.specifications(universe, 3)
    import numpy as np

    keep = np.sort(np.random.default_rng(3).choice(len(full), 37, replace=False))
    expected = full.iloc[keep].drop(columns="spec").reset_index(drop=True)
    pd.testing.assert_frame_equal(sample.drop(columns="spec"), expected)


def test_a_traffic_light_of_5000_studies():
    """It was a 1338 x 200,380-pixel PNG (2.2 GB), a MemoryError at dpi 1200."""
    big = _with(lambda c: c["figures"].update(dpi=1200, risk_of_bias={"max_studies": 5000}))
    faults = dict(budget_faults(big, 5000))
    assert "limits.figure_pixels" in faults["figures.risk_of_bias.max_studies"]
    capped = _with(lambda c: c["figures"].update(risk_of_bias={"max_studies": 200}))
    assert "figures.risk_of_bias.max_studies" not in dict(budget_faults(capped, 5000))
    table = pd.DataFrame({"label": [f"s{i}" for i in range(300)], "overall": "low"})
    fig = traffic_light(table, "MINORS", max_studies=200)
    assert fig.get_size_inches()[1] < 2 and "300 studies" in fig.texts[0].get_text()


def test_duplicate_yaml_keys_are_named_with_their_lines(tmp_path):
    """tool: twice and exclude_studies: twice were taken silently, the last winning."""
    path = tmp_path / "mine.yaml"
    path.write_text(
        "data:\n  risk_of_bias:\n    path: a.csv\n    tool: MINORS\n    tool: JBI\n"
        "inclusion:\n  exclude_studies: []\n  exclude_studies:\n    - {study_id: x, reason: why not}\n"
    )
    assert duplicate_keys(path) == [
        ("data.risk_of_bias.tool", "is given twice (lines 4 and 5): YAML would keep the last; keep one"),
        ("inclusion.exclude_studies", "is given twice (lines 7 and 8): YAML would keep the last; keep one"),
    ]
    assert duplicate_keys(ROOT / "config/config.yaml") == []


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\n", "\u202e", "\u2066", "\x85"])
def test_control_and_bidi_characters_in_config_strings(char):
    cfg = _with(lambda c: c["inclusion"].update(exclude_studies=[{"study_id": "crc2014-76", "reason": f"ev{char}il"}]))
    ((key, message),) = hidden_config_text(cfg)
    assert key == "inclusion.exclude_studies[0].reason" and f"U+{ord(char):04X}" in message


def test_hidden_characters_are_named_by_code_point():
    assert hidden_reason("evil\u202e").startswith("contains U+202E RIGHT-TO-LEFT OVERRIDE")
    assert hidden_reason("a\x00b").startswith("contains U+0000 NUL")
    assert hidden_reason("a\tb") and hidden_reason("a\tb", allow_tab=True) is None
    assert hidden_reason("Müller 東京 — ok") is None


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\n", "\u202e", "\x9b"])
def test_a_tidy_sheet_cell_with_a_hidden_character(tmp_path, char):
    sheet = tmp_path / "mine.csv"
    sheet.write_text(f'study_id,first_author\ns-1,"Do{char}e"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_table(sheet)
    assert "row 2, column 'first_author'" in str(err.value) and f"U+{ord(char):04X}" in str(err.value)


def _rob_sheet(tmp_path, source: str):
    from sbrtmeta.data.risk_of_bias import TOOLS

    items = TOOLS["MINORS"].columns
    frame = pd.DataFrame([{"study_id": "s-1", **{c: "2" for c in items}, "overall": "low", "source": source}])
    path = tmp_path / "rob.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("source", [" =HYPERLINK(1)", "\xa0=1+1", "\xa0@SUM(1)", " -2+3"])
def test_a_risk_of_bias_cell_with_a_formula_behind_whitespace(tmp_path, source):
    """The tidy sheets strip first; the risk-of-bias sheet did not."""
    with pytest.raises(InputError, match="formula"):
        read_risk_of_bias(_rob_sheet(tmp_path, source), "MINORS", ["s-1"])


def test_a_risk_of_bias_cell_with_a_bidi_override(tmp_path):
    with pytest.raises(InputError, match=r"row 2, column 'source'.*U\+202E"):
        read_risk_of_bias(_rob_sheet(tmp_path, "Table 1 \u202eevil"), "MINORS", ["s-1"])


@pytest.mark.parametrize("name", ["=cmd.csv", "+x.csv", "@x.csv", "-x.csv", "a\u202eb.csv"])
def test_a_sheet_whose_file_name_would_run_as_a_formula(tmp_path, name):
    """Its name was written into the raw_file column of outcomes.csv."""
    sheet = tmp_path / name
    sheet.write_text("study_id\ns-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="the file name"):
        read_table(sheet)


def test_formula_reason_looks_past_whitespace():
    assert formula_reason("\xa0=1") and formula_reason("  +1x") and formula_reason(" -x")
    assert formula_reason(" -5") is None and formula_reason("a = b") is None


@pytest.mark.workflow
def test_snakemake_refuses_duplicate_keys_and_a_budget_before_any_job(tmp_path):
    work = copy_project(tmp_path / "project")
    (work / "dup.yaml").write_text("curves:\n  step: 2\n  step: 0.001\n")
    proc = run_snakemake(work, "-n", "--cores", "1", "--configfile", "dup.yaml")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "dup.yaml, curves.step: is given twice (lines 2 and 3): YAML would keep the last; keep one"
    )
    (work / "fine.yaml").write_text("curves:\n  step: 0.001\n")
    proc = run_snakemake(work, "-n", "--cores", "1", "--configfile", "fine.yaml")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith(
        "fine.yaml, curves.step: survival_curves.csv would have 54,001 months"
    )
    assert "Traceback" not in proc.stderr and not (work / "results").exists()
