"""Each Snakemake job imports only what it runs: the heavy libraries are imported at the top of a module
only where every job importing that module needs them (docs/architecture.md). Read from the source
(the statements a module runs when imported: not those inside a function, nor under TYPE_CHECKING), so
no interpreter is started; bench/import_bench.py measures the CPU each job spends importing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workflow" / "sbrtmeta"

# library -> the modules that may import it at their top, and why
AT_THE_TOP = {
    "scipy.stats": (lambda m: False, "stats/distributions.py has its tails and quantiles (from scipy.special)"),
    "statsmodels": (lambda m: False, "only the study intervals use it: import it in the function"),
    "scipy.optimize": (lambda m: False, "import it in the estimator that searches"),
    "scipy.integrate": (lambda m: False, "import it in the estimator that integrates"),
    "scipy.interpolate": (lambda m: False, "import it in the function that builds the spline"),
    "pandera": (lambda m: m == "sbrtmeta.data.raw_schema", "build the checks and schemas on first use"),
    "matplotlib": (lambda m: m.startswith("sbrtmeta.plots.") or _draws(m), "only plots/ and the steps that draw"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in ast.unparse(node.test)


def top_level_imports(tree: ast.Module) -> list[str]:
    """The modules a module imports when it is imported (``from scipy import stats`` gives ``scipy.stats``)."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.If) and not _type_checking(node):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        elif isinstance(node, ast.With):
            todo += node.body
    return found


MODULES = {_module_name(p): top_level_imports(ast.parse(p.read_text(encoding="utf-8"))) for p in PACKAGE.rglob("*.py")}


def _draws(module: str) -> bool:
    """A step that draws: it imports a drawing module of plots/ (plots.labels holds words and draws nothing)."""
    return module.startswith("sbrtmeta.steps.") and any(
        i.startswith("sbrtmeta.plots.") and i.split(".")[2] != "labels" for i in MODULES[module]
    )


@pytest.mark.parametrize("library", sorted(AT_THE_TOP))
def test_heavy_libraries_are_imported_only_where_every_job_needs_them(library):
    allowed, why = AT_THE_TOP[library]
    offenders = sorted(
        module
        for module, imports in MODULES.items()
        if not allowed(module) and any(i == library or i.startswith(library + ".") for i in imports)
    )
    assert not offenders, f"{library} imported at the top of {offenders}: {why}"


def test_the_reading_finds_top_level_imports_only():
    tree = ast.parse(
        "from scipy import stats\nif TYPE_CHECKING:\n    import pandera\n"
        "try:\n    import matplotlib\nexcept ImportError:\n    pass\n\ndef f():\n    import statsmodels\n"
    )
    assert sorted(top_level_imports(tree)) == ["matplotlib", "scipy", "scipy.stats"]
    assert "sbrtmeta.stats.distributions" in MODULES and "sbrtmeta.plots.funnel" in MODULES
