"""A config as the workflow sees it: validated against workflow/schemas/config.schema.yaml, whose
``default:`` values Snakemake's ``validate`` fills in (the schema is the one source of defaults)."""

import copy
from pathlib import Path

from snakemake.utils import validate

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def validated(config: dict) -> dict:
    """A validated copy of ``config``, the schema's defaults filled in."""
    config = copy.deepcopy(config)
    validate(config, str(SCHEMA))
    return config
