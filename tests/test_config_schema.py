"""config/config.yaml against workflow/schemas/config.schema.yaml (what snakemake's validate() checks)."""

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())


def _validate(cfg):
    jsonschema.validate(cfg, SCHEMA)


def test_shipped_config_is_valid():
    _validate(CONFIG)


@pytest.mark.parametrize(
    "path, value",
    [
        (("pooling", "tau2_method"), "XYZ"),
        (("pooling", "transform"), "LOGIT"),
        (("pooling", "level"), 1.5),
        (("inclusion", "min_n"), 0),
        (("inclusion", "sites"), ["liver", "brain"]),
        (("inclusion", "timepoints", "targets"), [0]),
        (("figures", "formats"), ["jpg"]),
        (("sensitivity", "study_ci"), "exact"),
        (("sensitivity", "continuity", "to"), "zeros"),
        (("sensitivity", "continuity", "add"), -0.5),
        (("sensitivity", "funnel", "axis"), "precision"),
        (("sensitivity", "funnel", "predictor"), "sqrtni"),
        (("sensitivity", "cumulative", "tie_break"), "weight"),
        (("sensitivity", "baujat", "enabled"), "yes"),
    ],
)
def test_bad_values_are_refused(path, value):
    cfg = copy.deepcopy(CONFIG)
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        _validate(cfg)


def test_bad_sensitivity_choice_is_one_line_naming_the_value():
    cfg = copy.deepcopy(CONFIG)
    cfg["sensitivity"]["funnel"]["axis"] = "precision"
    with pytest.raises(jsonschema.ValidationError) as err:
        _validate(cfg)
    assert err.value.message == "'precision' is not one of ['sample_size', 'inverse_sqrt_n', 'standard_error']"


def test_glmm_requires_the_logit():
    cfg = copy.deepcopy(CONFIG)
    cfg["pooling"].update(model="glmm", transform="PAS")
    with pytest.raises(jsonschema.ValidationError):
        _validate(cfg)
    cfg["pooling"]["transform"] = "PLO"
    _validate(cfg)


def test_misspelt_key_is_refused():
    cfg = copy.deepcopy(CONFIG)
    cfg["inclusion"]["minn"] = cfg["inclusion"].pop("min_n")
    with pytest.raises(jsonschema.ValidationError, match="minn"):
        _validate(cfg)


# --- data: printed sheets, tidy sheets ------------------------------------------------------------------


def _merged(base, extra):
    """Snakemake's --configfile on top of the Snakefile's configfile: mappings merge, the rest replaces."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.mark.parametrize(
    "data",
    [
        {"sheets": ["a.csv"], "corrections": "c.csv"},
        {"sheets": ["a.csv"], "corrections": "c.csv", "tidy_sheets": ["mine.csv", "mine.xlsx"]},
        {"tidy_sheets": ["mine.csv"]},
        {"sheets": [], "tidy_sheets": [{"path": "mine.xlsx", "worksheet": "Studies"}, {"path": "more.xlsx"}]},
    ],
)
def test_data_forms_are_accepted(data):
    cfg = copy.deepcopy(CONFIG)
    cfg["data"] = data
    _validate(cfg)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"sheets": [], "tidy_sheets": []},
        {"sheets": ["a.csv"]},  # printed sheets need the ledger
        {"sheets": ["a.xlsx"], "corrections": "c.csv"},  # printed sheets are CSV
        {"tidy_sheets": ["mine.xls"]},
        {"tidy_sheets": [{"worksheet": "Studies"}]},
        {"tidy_sheets": [{"path": "mine.xlsx", "worksheet": ""}]},
        {"tidy_sheets": ["mine.csv", "mine.csv"]},
        {"tidy_sheet": ["mine.csv"]},
    ],
)
def test_bad_data_forms_are_refused(data):
    cfg = copy.deepcopy(CONFIG)
    cfg["data"] = data
    with pytest.raises(jsonschema.ValidationError):
        _validate(cfg)


def test_example_config_is_valid_on_top_of_the_shipped_one():
    example = yaml.safe_load((ROOT / "config/examples/config.yaml").read_text())
    merged = _merged(CONFIG, example)
    _validate(merged)
    assert merged["data"]["sheets"] == [] and merged["data"]["tidy_sheets"] == ["config/examples/example_studies.csv"]
    assert "own" in merged["inclusion"]["reviews"]


def _overlaid(base, overlay):
    """``overlay`` merged into a copy of ``base``, key by key at every depth, as Snakemake merges a --configfile
    into the Snakefile's configfile."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        both_dicts = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _overlaid(merged[key], value) if both_dicts else copy.deepcopy(value)
    return merged


def _without(cfg, *keys):
    """``cfg`` with each dotted key removed (the schema's default then fills it)."""
    cfg = copy.deepcopy(cfg)
    for key in keys:
        *parents, last = key.split(".")
        node = cfg
        for part in parents:
            node = node[part]
        del node[last]
    return cfg


@pytest.mark.parametrize(
    "cfg",
    [
        CONFIG,
        _overlaid(CONFIG, yaml.safe_load((ROOT / "config/examples/config.yaml").read_text())),
        _without(
            CONFIG, "figures.forest", "robustness", "curves", "sensitivity", "pooling.pi_df", "dose_response.time"
        ),
    ],
    ids=["shipped", "example", "keys left out"],
)
def test_fill_defaults_is_snakemakes_validate(cfg):
    """The pre-flight fills the schema's defaults itself (analysis.config_checks.fill_defaults, from the schema
    it has read): the config it leaves equals what snakemake.utils.validate(config, schema_path) makes."""
    from sbrtmeta.analysis.config_checks import fill_defaults
    from snakemake.utils import validate

    ours, snakemakes = copy.deepcopy(cfg), copy.deepcopy(cfg)
    fill_defaults(ours, copy.deepcopy(SCHEMA))
    validate(snakemakes, str(ROOT / "workflow/schemas/config.schema.yaml"))
    assert ours == snakemakes
    assert ours != cfg or cfg is CONFIG  # the config with keys left out gained them


def test_fill_defaults_refuses_what_the_schema_refuses():
    from sbrtmeta.analysis.config_checks import fill_defaults

    bad = copy.deepcopy(CONFIG)
    bad["pooling"]["tau2_method"] = "XYZ"
    with pytest.raises(jsonschema.ValidationError):
        fill_defaults(bad, copy.deepcopy(SCHEMA))
