"""Config faults found before any job runs, one line each naming the file the key came from
(:func:`sbrtmeta.data.config_source.key_source`): renamed keys, the schema's complaints in one
line, and what the schema cannot say (ordered thresholds, blank reasons, conflicting overrides,
an override of a cell the run cannot have). The Snakefile stops on the first list that is not
empty; nothing has run yet, so nothing is left half made.

An override is checked against the config (site, endpoint, time point, the reviews' histologies)
and then, when the config has overrides, against the cells the data give after the inclusion
criteria (the sheets cleaned and the criteria applied in process, as the first two jobs will:
:func:`data_cells`). Only ``inclusion.max_risk_of_bias`` is left to the jobs (it needs the
risk-of-bias table), so the certainty step keeps its own check for the cells that filter removes."""

from __future__ import annotations

import functools
import json
import math

import yaml
from jsonschema.validators import extend, validator_for

from sbrtmeta.analysis.budget import budget_faults
from sbrtmeta.analysis.grade_rules import DOMAIN_JUDGEMENTS
from sbrtmeta.data.config_source import FAST_LOADER, config_files, config_value, duplicate_keys, key_source
from sbrtmeta.data.hidden_text import hidden_config_text
from sbrtmeta.data.sheet_size import data_rows

# Old key → what replaced it (the old key is refused with this message).
RENAMED = {
    "grade.publication_bias.egger_p": (
        "was renamed grade.publication_bias.regtest_p: the funnel plots' regression test uses the predictor of "
        "sensitivity.funnel.predictor (Egger's test only for sei)"
    ),
}
# (section, lower, higher): the serious threshold must be below the very serious one.
ORDERED = (
    ("grade.risk_of_bias", "serious", "very_serious"),
    ("grade.inconsistency", "i2_serious", "i2_very_serious"),
    ("grade.indirectness", "serious", "very_serious"),
    ("grade.imprecision", "ci_width", "ci_width_very_serious"),
)
MIN_REASON = 10


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def renamed_keys(config: dict) -> list[tuple[str, str]]:
    """``(key, message)`` for every key of :data:`RENAMED` the config still uses."""
    faults = []
    for old, message in RENAMED.items():
        parent, _, leaf = old.rpartition(".")
        node = config_value(config, parent)
        if isinstance(node, dict) and leaf in node:
            faults.append((old, message))
    if isinstance(config_value(config, "inclusion.max_risk_of_bias"), str):
        faults.append(
            (
                "inclusion.max_risk_of_bias",
                f"is now {{level: {config['inclusion']['max_risk_of_bias']}, not_assessed: keep}} (or exclude): say "
                "what happens to studies with no overall judgement",
            )
        )
    return faults


def schema_faults(config: dict, schema: dict) -> list[tuple[str, str]]:
    """``(key, message)`` for each place the config breaks the schema, one line each (the schema's
    description of the value when it has one, not the schema itself)."""
    validator = validator_for(schema)(schema)
    faults = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message
        if error.validator in ("pattern", "oneOf", "anyOf", "if", "then") and error.schema.get("description"):
            message = (
                f"{message.split(' does not match ')[0].split(' is not valid ')[0]}: {error.schema['description']}"
            )
        elif _yaml_read_as_text_not(error):
            message += f": {YAML_QUOTES}"
        faults.append((_path(error.absolute_path) or "(top level)", " ".join(message.split())[:300]))
    return faults


YAML_QUOTES = (
    "YAML reads an unquoted 001, 1e3, true or null as a number, a flag or nothing: put the text in quotes, '001'"
)


def _yaml_read_as_text_not(error) -> bool:
    """A text value (a study id, a reason) that YAML read as a number, a flag or null."""
    wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    return error.validator == "type" and "string" in wanted and not isinstance(error.instance, (str, list, dict))


def _reason_faults(config: dict) -> list[tuple[str, str]]:
    faults = []
    grade = config.get("grade") or {}
    for i, o in enumerate(grade.get("overrides") or []):
        if len(str(o.get("reason", "")).strip()) < MIN_REASON:
            faults.append(
                (f"grade.overrides[{i}].reason", f"needs a reason of at least {MIN_REASON} characters besides spaces")
            )
    dose = grade.get("dose_response") or {}
    if dose.get("upgrade") and not str(dose.get("reason", "")).strip():
        faults.append(("grade.dose_response.reason", "is blank: say why a dose-response gradient rates the rate up"))
    inclusion = config.get("inclusion") or {}
    for name in ("exclude_studies", "overlaps"):
        for i, e in enumerate(inclusion.get(name) or []):
            if not str(e.get("reason", "")).strip():
                faults.append((f"inclusion.{name}[{i}].reason", "is blank: say why"))
    return faults


def _threshold_faults(config: dict) -> list[tuple[str, str]]:
    faults = []
    for section, lower, higher in ORDERED:
        node = config_value(config, section) or {}
        if lower in node and higher in node and not node[lower] < node[higher]:
            faults.append(
                (
                    f"{section}.{higher}",
                    f"{node[higher]:g} is not above {lower} {node[lower]:g}: the very serious threshold must be above "
                    "the serious one (inverted or equal thresholds leave no room for serious)",
                )
            )
    return faults


def _cell(o: dict) -> str:
    histology = f" {o['histology']}" if o.get("histology") else ""
    return f"{o['site']}{histology} {o['endpoint']} {o['timepoint_months']:g} months"


def _override_faults(config: dict, data: bool = True) -> list[tuple[str, str]]:
    """Overrides that conflict (two for one cell and domain, also one with and one without a histology) or
    name a cell the inclusion config cannot give (site, endpoint, time point, histology of the selected
    reviews), then against the cells of the data after the inclusion criteria (:func:`_data_faults`: a cell
    the data do not give, or no histology where the data give several)."""
    overrides = (config.get("grade") or {}).get("overrides") or []
    inclusion, faults, refused = config.get("inclusion") or {}, [], set()
    for j, b in enumerate(overrides):
        for i, a in enumerate(overrides[:j]):
            same = all(a[k] == b[k] for k in ("site", "endpoint", "domain")) and math.isclose(
                float(a["timepoint_months"]), float(b["timepoint_months"])
            )
            if same and (not a.get("histology") or not b.get("histology") or a["histology"] == b["histology"]):
                faults.append(
                    (
                        f"grade.overrides[{j}]",
                        f"overrides {b['domain']} of {_cell(b)} as grade.overrides[{i}] does: one override per cell "
                        "and domain (the last would win silently)",
                    )
                )
                refused.add(j)
        if b["judgement"] not in DOMAIN_JUDGEMENTS[b["domain"]]:
            faults.append(
                (f"grade.overrides[{j}].judgement", f"{b['judgement']!r} is not a judgement of {b['domain']}")
            )
        targets = [float(t) for t in (inclusion.get("timepoints") or {}).get("targets", [])]
        shown = [f"{t:g}" for t in targets]
        checks = (
            ("site", b["site"] in inclusion.get("sites", [b["site"]]), f"site {b['site']!r} is not in inclusion.sites"),
            (
                "endpoint",
                b["endpoint"] in inclusion.get("endpoints", [b["endpoint"]]),
                f"endpoint {b['endpoint']} is not in inclusion.endpoints",
            ),
            (
                "timepoint_months",
                not targets or any(math.isclose(float(b["timepoint_months"]), t) for t in targets),
                f"{b['timepoint_months']:g} months is not in inclusion.timepoints.targets {shown}",
            ),
            (
                "histology",
                _histology_possible(b, config),
                f"histology {b.get('histology')!r} is not pooled by this run",
            ),
        )
        found = [
            (f"grade.overrides[{j}].{key}", f"{why}: this run will have no such cell")
            for key, ok, why in checks
            if not ok
        ]
        faults += found
        if found or b["judgement"] not in DOMAIN_JUDGEMENTS[b["domain"]]:
            refused.add(j)
    return faults + (_data_faults(config, overrides, refused) if data else [])


def _data_key(config: dict) -> str:
    """What the cells of the data depend on, as a JSON text (the cache key of :func:`_cells_of`)."""
    data, inclusion = config.get("data") or {}, dict(config.get("inclusion") or {})
    inclusion.pop("max_risk_of_bias", None)  # read from the risk-of-bias table, which only a job makes
    keep = {k: data.get(k) for k in ("sheets", "corrections", "tidy_sheets")}
    return json.dumps(
        [keep, config.get("cleanup"), inclusion, (config.get("pooling") or {}).get("histology", "review")],
        sort_keys=True,
        default=str,
    )


@functools.lru_cache(maxsize=8)
def _cells_of(key: str) -> frozenset | None:
    from sbrtmeta.analysis.pooling import cell_keys
    from sbrtmeta.data.extraction import clean_extraction
    from sbrtmeta.data.inclusion import apply_inclusion

    data, cleanup, inclusion, histology = json.loads(key)
    try:
        tidy = clean_extraction(
            data["sheets"] or [],
            data["corrections"],
            denominator=dict(cleanup["denominator"]),
            alpha_beta=float(cleanup["alpha_beta"]),
            review_histology=dict(cleanup["review_histology"]),
            tidy_sheets=data["tidy_sheets"] or [],
        )
        included, _ = apply_inclusion(tidy, inclusion)
    except Exception:  # whatever the sheets' fault, the first job reports it in its own words (file, row, column)
        return None
    return frozenset(cell_keys(included, histology))


def data_cells(config: dict) -> frozenset | None:
    """The cells ``(site, histology, endpoint, time point)`` the run can pool: the data's rows after the
    inclusion criteria (all but ``max_risk_of_bias``, so a superset of what the run pools), computed in
    process as the clean and inclusion jobs will; None when the sheets cannot be read (their job says why)."""
    return _cells_of(_data_key(config))


def _cell_text(histology, endpoint, months) -> str:
    return f"{histology} {endpoint} {float(months):g}"


def _data_faults(config: dict, overrides: list, checked: set[int]) -> list[tuple[str, str]]:
    """Overrides (those not refused by the config alone: not in ``checked``) of a cell the data do not give,
    or naming no histology where the data give the cell for several."""
    todo = [(j, o) for j, o in enumerate(overrides) if j not in checked]
    cells = data_cells(config) if todo else None
    if cells is None:
        return []
    faults, filtered = [], bool(config_value(config, "inclusion.max_risk_of_bias"))
    for j, o in todo:
        hits = sorted(
            c
            for c in cells
            if c[0] == o["site"]
            and c[2] == o["endpoint"]
            and math.isclose(c[3], float(o["timepoint_months"]))
            and (not o.get("histology") or c[1] == o["histology"])
        )
        if not hits:
            at_site = sorted(_cell_text(*c[1:]) for c in cells if c[0] == o["site"])
            faults.append(
                (
                    f"grade.overrides[{j}]",
                    f"{_cell(o)}: the data have no such cell after the inclusion criteria (cells at {o['site']}, "
                    f"histology endpoint months: {'; '.join(at_site) or 'none'}): this run will have no such cell",
                )
            )
        elif not o.get("histology") and len({c[1] for c in hits}) > 1 and not filtered:
            faults.append(
                (
                    f"grade.overrides[{j}].histology",
                    f"{_cell(o)} names no histology and the data give this cell for several ("
                    f"{', '.join(sorted({c[1] for c in hits}))}): add histology (refused rather than applied to each)",
                )
            )
    return faults


def _histology_possible(o: dict, config: dict) -> bool:
    """An override's histology is one the selected reviews give (or mixed, when rows pool apart); with
    tidy sheets of the user's own the histologies are known only from the data."""
    if not o.get("histology") or (config.get("data") or {}).get("tidy_sheets"):
        return True
    review = (config.get("cleanup") or {}).get("review_histology", {})
    possible = {review[r] for r in (config.get("inclusion") or {}).get("reviews", []) if r in review}
    if (config.get("pooling") or {}).get("histology") == "row":
        possible.add("mixed")
    return not possible or o["histology"] in possible


def _risk_of_bias_faults(config: dict) -> list[tuple[str, str]]:
    sheet = (config.get("data") or {}).get("risk_of_bias")
    faults = []
    rule = config_value(config, "grade.risk_of_bias.rule")
    if rule == "design" and sheet and sheet.get("tool") != "MINORS":
        faults.append(
            (
                "grade.risk_of_bias.rule",
                f"design reads MINORS item 3 (prospective collection of data); the {sheet.get('tool')} sheet has no "
                "such item: use rule overall",
            )
        )
    derive = (sheet or {}).get("overall_from_total")
    if derive and sheet.get("tool") != "MINORS":
        faults.append(("data.risk_of_bias.overall_from_total", "is a MINORS total: the JBI checklist has no scores"))
    if derive and not derive["some_concerns"] < derive["low"]:
        faults.append(
            (
                "data.risk_of_bias.overall_from_total.low",
                f"{derive['low']} is not above some_concerns {derive['some_concerns']}: inverted or equal cut-offs "
                "leave no room for some concerns",
            )
        )
    if config_value(config, "inclusion.max_risk_of_bias") and not sheet:
        faults.append(
            (
                "inclusion.max_risk_of_bias",
                "needs a risk-of-bias sheet (data.risk_of_bias): without one, no study has an overall judgement",
            )
        )
    return faults


def config_faults(config: dict, data: bool = True) -> list[tuple[str, str]]:
    """``(key, message)`` for every fault the schema cannot catch, in a validated config; ``data``: also
    check the overrides against the cells of the data (:func:`data_cells`)."""
    return [
        *_threshold_faults(config),
        *_reason_faults(config),
        *_override_faults(config, data),
        *_risk_of_bias_faults(config),
    ]


def fault_lines(faults: list[tuple[str, str]], files: list[str]) -> list[str]:
    """One line per fault: ``<file the key came from>, <key>: <message>``."""
    return [f"{key_source(key, files)}, {key}: {message}" for key, message in faults]


def fill_defaults(config: dict, schema: dict) -> None:
    """Validate ``config`` against ``schema`` and fill in, in place, the ``default`` of every property it leaves
    out, at every depth: what Snakemake's ``snakemake.utils.validate(config, schema_path)`` does (the
    ``extend_with_default`` recipe of the jsonschema FAQ), from the schema already read. Snakemake's would read
    the schema again with a pure-Python YAML parser and import pandas: about 0.5 CPU-s on every ``snakemake``
    call, dry runs included."""
    base = validator_for(schema)
    properties = base.VALIDATORS["properties"]

    def set_defaults(validator, props, instance, subschema):
        for name, sub in props.items():
            if isinstance(instance, dict) and isinstance(sub, dict) and "default" in sub:
                instance.setdefault(name, sub["default"])
        yield from properties(validator, props, instance, subschema)

    extend(base, {"properties": set_defaults})(schema).validate(config)


def preflight(config: dict, configfiles, overwrite, schema_path: str, main_process: bool = True) -> list[str]:
    """Check ``config`` before any job: renamed keys and the schema (one line each), then
    :func:`fill_defaults` (the schema's defaults), then :func:`config_faults`. Exits with the lines
    of the first kind that has faults; returns the config files, lowest precedence first. The overrides
    are checked against the data only in Snakemake's main process (``main_process``), not again in each
    job that a cluster executor starts (which parses the Snakefile anew)."""
    import sys

    files = config_files(configfiles, overwrite)
    twice = [f"{path}, {key}: {message}" for path in files for key, message in _duplicate_keys(path)]
    if twice:
        sys.exit("\n".join(twice))
    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.load(fh, Loader=FAST_LOADER)
    faults = hidden_config_text(config) or renamed_keys(config) or schema_faults(config, schema)
    if not faults:
        fill_defaults(config, schema)
        faults = config_faults(config, main_process) or budget_faults(config, max(data_rows(_sheet_paths(config)), 1))
    if faults:
        sys.exit("\n".join(fault_lines(faults, files)))
    return files


def _duplicate_keys(path: str) -> list[tuple[str, str]]:
    try:
        return duplicate_keys(path)
    except (OSError, yaml.YAMLError):
        return []  # Snakemake itself says what is wrong with an unreadable file


def _sheet_paths(config: dict) -> list[str]:
    """The printed and tidy sheets of config (their rows bound the studies of a cell)."""
    data = config.get("data") or {}
    tidy = [e["path"] if isinstance(e, dict) else e for e in data.get("tidy_sheets") or []]
    return [*(data.get("sheets") or []), *tidy]
