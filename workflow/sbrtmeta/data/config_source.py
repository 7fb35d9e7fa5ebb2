"""Which config file set a key: the files Snakemake read (``configfile:`` and ``--configfile``),
so that a message about a config value names the file to edit, not always config/config.yaml."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

# libyaml's safe loader where PyYAML was built with it (its wheels are), else the pure-Python one: every
# `snakemake` call reads the config and the schema before any job (the schema is ~100 kB).
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

COMMAND_LINE = "the command line (--config) or the schema's default"


def config_files(configfiles, overwrite) -> list[str]:
    """Snakemake's config files, lowest precedence first: the ``configfile:`` directive's, then the
    ``--configfile`` ones (``overwrite``), which win; each relative to the working directory when
    under it."""
    overwrite = [Path(p).resolve() for p in overwrite or []]
    base = [Path(p).resolve() for p in configfiles if Path(p).resolve() not in overwrite]
    return [_shown(p) for p in (*base, *overwrite)]


def _shown(path: Path) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else str(path)


_UNSET = object()


def config_value(config, key: str, default=None):
    """The value at the dotted ``key`` of a (possibly unvalidated) config, ``default`` where a level is
    missing or not a mapping: for the checks that run before the schema has filled the defaults."""
    node = config
    for k in key.split("."):
        if not isinstance(node, dict) or k not in node:
            return default
        node = node[k]
    return node


def key_source(key: str, files: list[str]) -> str:
    """The file of ``files`` (lowest precedence first, :func:`config_files`) that sets ``key``
    (dotted, e.g. ``grade.overrides``; a list index is ignored: a later file replaces a whole list):
    the last that sets it; :data:`COMMAND_LINE` when none does."""
    keys = []
    for k in key.split("."):
        keys.append(k.split("[", 1)[0])
        if "[" in k:  # a later file replaces the whole list: the list's key decides
            break
    for path in reversed(files):
        try:
            data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=FAST_LOADER)
        except (OSError, yaml.YAMLError):
            continue
        if config_value(data, ".".join(keys), _UNSET) is not _UNSET:
            return path
    return COMMAND_LINE


def duplicate_keys(path) -> list[tuple[str, str]]:
    """``(key, message)`` for each key that a mapping of the YAML file ``path`` gives twice, naming
    both lines (the key is named by its place: ``section.key``, or the key alone at the top)."""
    root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    found = []
    if root is None:
        return found

    def walk(node, where):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, value in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                line = key_node.start_mark.line + 1
                name = f"{where}.{key}" if where else key
                if key in seen:
                    found.append(
                        (name, f"is given twice (lines {seen[key]} and {line}): YAML would keep the last; keep one")
                    )
                else:
                    seen[key] = line
                walk(value, name)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{where}[{i}]")

    walk(root, "")
    return found
