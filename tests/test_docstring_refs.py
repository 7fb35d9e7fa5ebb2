"""Every cross-reference resolves: the ``:mod:``, ``:func:``, ``:class:``, ``:meth:``, ``:data:``
and ``:attr:`` roles in the package's and the scripts' docstrings and comments name something
that exists, and docs/architecture.md names only modules that exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workflow" / "sbrtmeta"
SCRIPTS = ROOT / "workflow" / "scripts"
ROLE = re.compile(r":(mod|func|class|meth|data|attr):`~?([\w.]+)`")


def _module_name(path: Path) -> str | None:
    """``sbrtmeta.a.b`` for workflow/sbrtmeta/a/b.py; None for a script."""
    if PACKAGE not in path.parents:
        return None
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve_dotted(name: str) -> bool:
    """Whether ``a.b.c`` is a module, or an attribute path inside the longest importable module prefix."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return attr == parts[-1] and _is_field(obj, attr)
            obj = getattr(obj, attr)
        return True
    return False


def _is_field(cls, name: str) -> bool:
    """Whether ``name`` is a field of the class ``cls`` (a dataclass field has no class attribute)."""
    return any(name in getattr(c, "__annotations__", {}) for c in getattr(cls, "__mro__", ()))


def _class_attribute(module: str, name: str) -> bool:
    """Whether a class defined in ``module`` has the attribute or field ``name``."""
    mod = importlib.import_module(module)
    classes = [c for c in vars(mod).values() if isinstance(c, type) and c.__module__ == module]
    return any(hasattr(c, name) or _is_field(c, name) for c in classes)


def _resolves(role: str, name: str, module: str | None) -> bool:
    if role == "mod":
        try:
            importlib.import_module(name)
            return True
        except ImportError:
            return False
    if name.startswith("sbrtmeta."):
        return _resolve_dotted(name)
    if module is None:
        return False
    # a short name: in the module's own namespace; an attribute also of one of its classes
    return _resolve_dotted(f"{module}.{name}") or (role in ("attr", "meth") and _class_attribute(module, name))


def _references():
    files = sorted(PACKAGE.rglob("*.py")) + sorted(SCRIPTS.glob("*.py"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        for m in ROLE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            yield path.relative_to(ROOT), line, m.group(1), m.group(2)


def test_every_role_reference_resolves():
    broken = [
        f"{path}:{line}: :{role}:`{name}`"
        for path, line, role, name in _references()
        if not _resolves(role, name, _module_name(ROOT / path))
    ]
    assert not broken, "references to nothing:\n" + "\n".join(broken)


def test_the_references_are_found():
    roles = {role for _, _, role, _ in _references()}
    assert {"mod", "func", "class"} <= roles


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md"])
def test_documented_module_paths_exist(doc):
    """``stats/multilevel.py``, ``analysis/pooling.py``, ``steps/runner.py``, ... and
    ``stats.influence.baujat``-style names in the document name existing modules."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    layers = "stats|data|analysis|plots|report|steps"
    paths = set(re.findall(rf"`(?:workflow/sbrtmeta/)?((?:{layers})/\w+\.py)`", text))
    missing = [p for p in sorted(paths) if not (PACKAGE / p).is_file()]
    dotted = set(re.findall(rf"`((?:sbrtmeta\.)?(?:{layers})\.[\w.]+)`", text)) if doc.startswith("docs/") else set()
    unresolved = [d for d in sorted(dotted) if not _resolve_dotted(d if d.startswith("sbrtmeta.") else f"sbrtmeta.{d}")]
    assert not missing and not unresolved, f"{doc} names modules that do not exist: {missing + unresolved}"


def test_architecture_names_every_module():
    """docs/architecture.md's module tables list every module of every layer."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    modules = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.glob("*/*.py") if p.name != "__init__.py")
    unlisted = [m for m in modules if f"`{m}`" not in text]
    assert not unlisted, f"docs/architecture.md does not list {unlisted}"
