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


@pytest.mark.parametrize("path, value", [
    (("pooling", "tau2_method"), "XYZ"),
    (("pooling", "transform"), "LOGIT"),
    (("pooling", "level"), 1.5),
    (("inclusion", "min_n"), 0),
    (("inclusion", "sites"), ["liver", "brain"]),
    (("inclusion", "timepoints", "targets"), [0]),
    (("figures", "formats"), ["jpg"]),
])
def test_bad_values_are_refused(path, value):
    cfg = copy.deepcopy(CONFIG)
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        _validate(cfg)


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
