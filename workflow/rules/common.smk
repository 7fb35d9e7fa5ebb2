# Functions the rules share: the code each rule runs, the inputs read from config, and
# the figure outputs. Rules live in the other .smk files (snakemake --lint: functions and
# rules are not mixed in one file).
import ast
import csv
import functools
import os
from pathlib import Path

from sbrtmeta.data.config_source import key_source
from sbrtmeta.plots import labels


wildcard_constraints:
    endpoint="LC|OS",
    timepoint=r"\d+(\.\d+)?",


# --- code inputs: the package modules a rule's script runs ------------------------------

PACKAGE = "sbrtmeta"
RULES_DIR = Path(workflow.basedir) / "workflow" / "rules"


@functools.cache
def _import_graph():
    """The package's import graph (grimp; every import statement, also inside functions),
    built from the package on sys.path, which the Snakefile puts first."""
    import grimp

    return grimp.build_graph(PACKAGE, cache_dir=None)


def _script_imports(script, modules):
    """Package modules the script names in its import statements, anywhere in it."""
    tree = ast.parse(Path(script).read_text(encoding="utf-8"), filename=str(script))
    named = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            named.add(node.module)
            named.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in named if m in modules}


def _module_file(name):
    """workflow/sbrtmeta/a/b.py, or workflow/sbrtmeta/a/b/__init__.py for a package."""
    base = Path(PACKAGE_DIR, *name.split("."))
    return base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"


@functools.cache
def code_of(script):
    """The files of every package module that ``script`` (a path relative to the rules, as
    in ``script:``) runs when it is imported: its own imports, what they import in turn (the
    import graph), and the ``__init__.py`` of every package above them (Python runs them on
    import). As a rule's input, an edit of any of them reruns the rule."""
    graph = _import_graph()
    todo = list(_script_imports(RULES_DIR / script, graph.modules))
    closure = set()
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        todo += graph.find_modules_directly_imported_by(name)
        if "." in name:
            todo.append(name.rpartition(".")[0])  # its package's __init__.py runs first
    return sorted(os.path.relpath(_module_file(m)) for m in closure)


# --- what a run makes (results/ belongs to the config) ------------------------------------


def made_by(jobs):
    """Every file and folder the jobs write: outputs, logs and benchmarks."""
    return [str(f) for job in jobs for f in (*job.output, *job.log, *filter(None, [job.benchmark]))]


def complete_run(workflow):
    """The run planned the whole workflow: the default target (other targets, e.g. of --forcerun, only add to
    it), nothing omitted or cut short."""
    dag, settings = workflow.dag, workflow.dag_settings
    whole = "all" in {getattr(rule, "name", rule) for rule in dag.targetrules}
    return whole and not (settings.omit_from or settings.until or settings.allowed_rules)


# --- inputs and parameters from config --------------------------------------------------


def printed_sheets():
    return config["data"]["sheets"]


def tidy_sheet_paths():
    """Paths of data.tidy_sheets (an entry is a path or {path, worksheet})."""
    return [e["path"] if isinstance(e, dict) else e for e in config["data"]["tidy_sheets"]]


def inclusion_risk_of_bias():
    """results/tables/risk_of_bias.csv for every job that applies the inclusion criteria, when
    inclusion.max_risk_of_bias is set (then each study's overall judgement is a criterion)."""
    return ["results/tables/risk_of_bias.csv"] if config["inclusion"]["max_risk_of_bias"] else []


def corrections_ledger():
    """The corrections ledger, read only when there are printed sheets to repair."""
    return [config["data"]["corrections"]] if printed_sheets() else []


# --- figures ----------------------------------------------------------------------------


def report_format():
    """The one format of each figure shown in the HTML report."""
    formats = config["figures"]["formats"]
    return next(f for f in ("png", "svg", "pdf") if f in formats)


def cell_figures(kind, category):
    """The folder of one kind's figures, one per endpoint × time point with a pooled cell
    (results/figures/<kind>/<kind>_LC_24m.png, ...), its report-format files in the HTML
    report in one list labelled by endpoint and time point (the category, then the figure: two clicks)."""
    return report(
        directory(f"results/figures/{kind}"),
        patterns=[f"{kind}_{{endpoint}}_{{timepoint}}m.{report_format()}"],
        caption=f"../report/{kind}.rst",
        category=category,
        labels=lambda w: {"endpoint": labels.endpoint_name(w.endpoint), "time point": f"{w.timepoint} months"},
    )


def site_title(wildcards):
    return labels.site_title(wildcards.site.replace("_", " "))


def leave_one_out_tables(wildcards):
    """A leave-one-out table per site with a pooled cell of three or more studies (known after
    the pooling checkpoint)."""
    csv.field_size_limit(2**31 - 1)  # a cell of thousands of studies lists long study-id fields
    with open(checkpoints.pool.get().output.pooled, newline="", encoding="utf-8") as fh:
        sites = {r["site"] for r in csv.DictReader(fh) if int(r["k"]) >= 3}  # csv, not pandas: a no-op run stays fast
    return [f"results/tables/leave_one_out_{site.replace(' ', '_')}.csv" for site in sorted(sites)]


def all_figures(wildcards):
    """Every figure: the forest and funnel folders, the flow diagram and the leave-one-out plots."""
    return [
        *rules.forest_plots.output,
        *rules.funnel_plots.output,
        *rules.flow_diagram.output,
        *rules.leave_one_out_figures.output,
    ]


def robustness_figures(wildcards):
    """The folders of GOSH plots and specification curves, of the analyses switched on."""
    on = config["robustness"]
    return [
        *([rules.gosh_figures.output.figures] if on["gosh"]["enabled"] else []),
        *([rules.multiverse_figures.output.figures] if on["multiverse"]["enabled"] else []),
    ]
