"""Config faults refused before any job runs, one line each naming the file the key came from
(analysis/config_checks.py, data/config_source.py), and one end-to-end `snakemake -n` with
--configfile: the message names that file, and no job ran."""

import copy

import pytest
import yaml
from project_copy import ROOT, copy_project, run_snakemake
from sbrtmeta.analysis import config_checks as cc
from sbrtmeta.data.config_source import COMMAND_LINE, config_files, key_source

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
OVERRIDE = dict(
    site="lung",
    histology="colorectal",
    endpoint="LC",
    timepoint_months=24,
    domain="imprecision",
    judgement="serious",
    reason="a reason long enough for the test",
)


def _with(**grade):
    cfg = copy.deepcopy(CONFIG)
    for section, values in grade.items():
        if isinstance(values, dict):
            cfg["grade"][section].update(values)
        else:
            cfg["grade"][section] = values
    return cfg


def _keys(cfg):
    return [key for key, _ in cc.config_faults(cfg)]


def test_the_shipped_and_example_configs_have_no_fault():
    assert cc.config_faults(CONFIG) == [] and cc.schema_faults(CONFIG, SCHEMA) == []
    example = yaml.safe_load((ROOT / "config/examples/config.yaml").read_text())
    merged = copy.deepcopy(CONFIG) | example  # the example's sections replace the shipped ones
    assert cc.config_faults(merged) == []


@pytest.mark.parametrize(
    "section, lower, higher, low, high, fault",
    [
        ("risk_of_bias", "serious", "very_serious", 0.6, 0.4, True),  # inverted
        ("risk_of_bias", "serious", "very_serious", 0.5, 0.5, True),  # equal: no room for serious
        ("risk_of_bias", "serious", "very_serious", 0.49, 0.5, False),
        ("indirectness", "serious", "very_serious", 0.8, 0.75, True),
        ("inconsistency", "i2_serious", "i2_very_serious", 75, 75, True),
        ("inconsistency", "i2_serious", "i2_very_serious", 74.9, 75, False),
        ("imprecision", "ci_width", "ci_width_very_serious", 0.4, 0.4, True),
        ("imprecision", "ci_width", "ci_width_very_serious", 0.2, 0.21, False),
    ],
)
def test_inverted_or_equal_thresholds(section, lower, higher, low, high, fault):
    faults = cc.config_faults(_with(**{section: {lower: low, higher: high}}))
    assert bool(faults) == fault
    if fault:
        assert faults[0][0] == f"grade.{section}.{higher}"
        assert faults[0][1].startswith(f"{high:g} is not above {lower} {low:g}")


@pytest.mark.parametrize("reason", ["", " " * 10, "  short  ", "\t\t\t\t\t\t\t\t\t\t\t"])
def test_a_blank_or_whitespace_override_reason(reason):
    assert _keys(_with(overrides=[dict(OVERRIDE, reason=reason)])) == ["grade.overrides[0].reason"]
    assert _keys(_with(overrides=[dict(OVERRIDE, reason="0123456789")])) == []  # 10 characters: enough


def test_a_dose_response_upgrade_needs_a_reason():
    assert _keys(_with(dose_response={"upgrade": True, "reason": "   "})) == ["grade.dose_response.reason"]
    assert _keys(_with(dose_response={"upgrade": True, "reason": "BED gradient within studies"})) == []
    missing = _with(dose_response={"upgrade": True})
    assert [k for k, _ in cc.schema_faults(missing, SCHEMA)] == ["grade.dose_response"]


def test_conflicting_overrides_of_one_cell_and_domain():
    other = dict(OVERRIDE, judgement="very serious")
    assert _keys(_with(overrides=[OVERRIDE, other])) == ["grade.overrides[1]"]
    # one with and one without a histology touch the same cell
    no_histology = {k: v for k, v in other.items() if k != "histology"}
    assert _keys(_with(overrides=[OVERRIDE, no_histology])) == ["grade.overrides[1]"]
    # another domain, histology or time point: no conflict
    assert _keys(_with(overrides=[OVERRIDE, dict(OVERRIDE, domain="inconsistency")])) == []
    assert _keys(_with(overrides=[OVERRIDE, dict(OVERRIDE, histology="sarcoma")])) == []
    sarcoma = dict(OVERRIDE, histology="sarcoma")  # lung sarcoma LC is in the data at 12 and 24 months
    assert _keys(_with(overrides=[sarcoma, dict(sarcoma, timepoint_months=12)])) == []


@pytest.mark.parametrize(
    "change, key",
    [
        # spine is selected, but the data give no spine cell after the inclusion criteria
        ({"site": "spine"}, "grade.overrides[0]"),
        ({"site": "liver"}, None),  # liver colorectal LC 24 months is in the data
        ({"timepoint_months": 30}, "grade.overrides[0].timepoint_months"),
        ({"histology": "mixed"}, "grade.overrides[0].histology"),  # pooling.histology review: no mixed cell
    ],
)
def test_an_override_of_a_cell_the_run_cannot_have(change, key):
    assert _keys(_with(overrides=[dict(OVERRIDE, **change)])) == ([key] if key else [])
    cfg = _with(overrides=[dict(OVERRIDE, site="adrenal")])
    cfg["inclusion"]["sites"] = ["liver", "lung"]
    assert _keys(cfg) == ["grade.overrides[0].site"]


@pytest.mark.parametrize(
    "change, key, words",
    [
        # sarcoma is a histology of the selected reviews and 48 months a target, but the shipped data pool
        # lung sarcoma LC at 12, 24, 36 and 60 months only
        (
            {"histology": "sarcoma", "timepoint_months": 48},
            "grade.overrides[0]",
            "lung sarcoma LC 48 months: the data have no such cell after the inclusion criteria (cells at lung, "
            "histology endpoint months: colorectal LC 24; colorectal OS 24; sarcoma LC 12; sarcoma LC 24;",
        ),
        # no sarcoma review study treats the liver
        ({"site": "liver", "histology": "sarcoma"}, "grade.overrides[0]", "liver sarcoma LC 24 months: the data"),
        # no histology: lung LC 24 months is pooled for colorectal and sarcoma, refused; liver only for colorectal
        (
            {"histology": None},
            "grade.overrides[0].histology",
            "lung LC 24 months names no histology and the data give this cell for several (colorectal, sarcoma)",
        ),
        ({"histology": None, "site": "liver"}, None, None),
    ],
)
def test_an_override_of_a_cell_the_data_do_not_give(change, key, words):
    """Before any job: the sheets are cleaned and the inclusion criteria applied in process (as the first two
    jobs will), and an override is refused when the data give no such cell, in one line naming key and cell."""
    override = {k: v for k, v in dict(OVERRIDE, **change).items() if v is not None}
    faults = cc.config_faults(_with(overrides=[override]))
    assert [k for k, _ in faults] == ([key] if key else [])
    if words:
        line = cc.fault_lines(faults, ["config/config.yaml"])[0]
        assert line.startswith(f"config/config.yaml, {key}: ") and words in line and "\n" not in line


def test_the_data_check_leaves_to_the_jobs_what_only_they_know():
    """With inclusion.max_risk_of_bias the risk-of-bias table (a job's output) may remove a histology's rows:
    an override naming no histology is left to the certainty step; a cell absent before that filter is still
    refused. Sheets the first job will refuse (here a missing one) are its to report: no data check."""
    no_histology = {k: v for k, v in OVERRIDE.items() if k != "histology"}
    cfg = _with(overrides=[no_histology])
    cfg["inclusion"]["max_risk_of_bias"] = {"level": "high", "not_assessed": "keep"}
    assert _keys(cfg) == []
    cfg["grade"]["overrides"] = [dict(OVERRIDE, timepoint_months=48)]
    assert _keys(cfg) == ["grade.overrides[0]"]
    # a job a cluster executor starts parses the Snakefile anew: it does not check the data again
    assert [k for k, _ in cc.config_faults(cfg, data=False)] == []
    missing = _with(overrides=[dict(OVERRIDE, timepoint_months=48)])
    missing["data"]["sheets"] = ["data/raw/no_such_sheet.csv"]
    assert cc.data_cells(missing) is None and _keys(missing) == []


def test_the_design_rule_needs_minors_and_a_filter_needs_a_sheet():
    cfg = copy.deepcopy(CONFIG)
    cfg["data"]["risk_of_bias"]["tool"] = "JBI"
    assert _keys(cfg) == ["grade.risk_of_bias.rule"]
    cfg = copy.deepcopy(CONFIG)
    del cfg["data"]["risk_of_bias"]
    cfg["inclusion"]["max_risk_of_bias"] = {"level": "high"}
    assert _keys(cfg) == ["inclusion.max_risk_of_bias"]


def test_renamed_keys_are_refused_naming_the_new_one():
    cfg = copy.deepcopy(CONFIG)
    cfg["grade"]["publication_bias"]["egger_p"] = cfg["grade"]["publication_bias"].pop("regtest_p")
    ((key, message),) = cc.renamed_keys(cfg)
    assert key == "grade.publication_bias.egger_p" and "renamed grade.publication_bias.regtest_p" in message
    cfg = copy.deepcopy(CONFIG)
    cfg["inclusion"]["max_risk_of_bias"] = "high"
    ((key, message),) = cc.renamed_keys(cfg)
    assert message.startswith("is now {level: high, not_assessed: keep}")


def test_a_missing_reason_is_one_line_not_the_schema():
    cfg = _with(overrides=[{k: v for k, v in OVERRIDE.items() if k != "reason"}])
    assert cc.schema_faults(cfg, SCHEMA) == [("grade.overrides[0]", "'reason' is a required property")]


def test_an_id_yaml_read_as_a_number_says_to_quote_it():
    """`exclude_studies: [{study_id: 001, ...}]`: YAML reads 001 as 1, refused as not text; the line says to quote."""
    cfg = copy.deepcopy(CONFIG)
    cfg["inclusion"]["exclude_studies"] = yaml.safe_load("[{study_id: 001, reason: duplicate cohort}]")
    ((key, message),) = cc.schema_faults(cfg, SCHEMA)
    assert key == "inclusion.exclude_studies[0].study_id"
    assert message == f"1 is not of type 'string': {cc.YAML_QUOTES}" and "'001'" in message
    cfg["inclusion"]["reviews"] = [True]
    assert any(m.endswith(cc.YAML_QUOTES) for k, m in cc.schema_faults(cfg, SCHEMA) if k == "inclusion.reviews[0]")


def test_the_key_source_is_the_last_file_that_sets_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_text("grade:\n  overrides: []\n  start: high\n")
    (tmp_path / "mine.yaml").write_text("grade:\n  overrides: [{site: lung}]\n")
    files = config_files(["config/config.yaml", tmp_path / "mine.yaml"], [tmp_path / "mine.yaml"])
    assert files == ["config/config.yaml", "mine.yaml"]
    assert key_source("grade.overrides[0].reason", files) == "mine.yaml"
    assert key_source("grade.start", files) == "config/config.yaml"
    assert key_source("grade.publication_bias", files) == COMMAND_LINE
    lines = cc.fault_lines([("grade.overrides[0].reason", "needs a reason")], files)
    assert lines == ["mine.yaml, grade.overrides[0].reason: needs a reason"]


@pytest.mark.workflow
def test_snakemake_stops_before_any_job_naming_the_configfile(tmp_path):
    work = copy_project(tmp_path / "project")
    mine = yaml.safe_load((work / "config/config.yaml").read_text())
    mine["grade"]["overrides"] = [dict(OVERRIDE, reason=" " * 10)]
    mine["grade"]["risk_of_bias"].update(serious=0.6, very_serious=0.4)
    (work / "mine.yaml").write_text(yaml.safe_dump({"grade": mine["grade"]}))
    proc = run_snakemake(work, "-n", "--cores", "1", "--configfile", "mine.yaml")
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("mine.yaml")]
    assert lines == [
        "mine.yaml, grade.risk_of_bias.very_serious: 0.4 is not above serious 0.6: the very serious threshold must "
        "be above the serious one (inverted or equal thresholds leave no room for serious)",
        "mine.yaml, grade.overrides[0].reason: needs a reason of at least 10 characters besides spaces",
    ]
    assert "Job stats" not in proc.stdout + proc.stderr and not (work / "results").exists()


def test_the_minors_total_rule_needs_minors_and_ordered_cut_offs():
    cfg = copy.deepcopy(CONFIG)
    cfg["data"]["risk_of_bias"]["overall_from_total"] = {"low": 9, "some_concerns": 9}
    assert _keys(cfg) == ["data.risk_of_bias.overall_from_total.low"]
    cfg["data"]["risk_of_bias"]["overall_from_total"] = {"low": 13, "some_concerns": 9}
    assert _keys(cfg) == []
    cfg["data"]["risk_of_bias"]["tool"] = "JBI"
    cfg["grade"]["risk_of_bias"]["rule"] = "overall"
    assert _keys(cfg) == ["data.risk_of_bias.overall_from_total"]
