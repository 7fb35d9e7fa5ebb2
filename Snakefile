# SBRT for oligometastases: extraction cleanup → inclusion → pooling → figures.
# Run `snakemake` from this folder; profiles/default/ supplies the options.
import os
import sys

from snakemake.utils import min_version

min_version("9.0")

# The package in workflow/ comes first, for this process (which reads its import graph,
# common.smk) and for every job (PYTHONPATH), whatever sbrtmeta is installed: a copy of
# the project runs its own code.
PACKAGE_DIR = os.path.join(workflow.basedir, "workflow")
if sys.path[0] != PACKAGE_DIR:
    sys.path.insert(0, PACKAGE_DIR)
if os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] != PACKAGE_DIR:
    # set, not required from the user: so no `envvars:` (which asserts that it is set)
    os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_DIR, os.environ.get("PYTHONPATH")])))


from sbrtmeta.analysis.config_checks import preflight
from sbrtmeta.steps.console import quiet_console
from sbrtmeta.steps.results_folder import remove_stale
from snakemake.logging import logger as snakemake_logger


configfile: "config/config.yaml"


# One line per job on the console (sbrtmeta.steps.console); a dry run and --verbose print everything.
quiet_console(snakemake_logger, lambda: not (workflow.dryrun or workflow.output_settings.verbose))


# The HTML report's landing page (snakemake --report report.html): the answer, links to every section.
report: "workflow/report/workflow.rst"


# The schema and the faults it cannot see, one line each naming the file the key came from,
# before any job runs; the config files, lowest precedence first.
CONFIG_FILES = preflight(
    config,
    workflow.configfiles,
    workflow.overwrite_configfiles,
    "workflow/schemas/config.schema.yaml",
    workflow.is_main_process,
)


include: "workflow/rules/common.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/include.smk"
include: "workflow/rules/pool.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/dose.smk"
include: "workflow/rules/certainty.smk"
include: "workflow/rules/robustness.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/curves.smk"
include: "workflow/rules/sensitivity_tests.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/clean/outcomes.csv",
        "results/tables/included.csv",
        "results/tables/excluded.csv",
        "results/tables/pooled.csv",
        "results/tables/not_pooled.csv",
        "results/tables/subgroup_tests.csv",
        rules.dose_response.output,
        rules.dose_response_figures.output,
        rules.alpha_beta_profile.output if DOSE["alpha_beta_mode"] == "profile" else [],
        rules.alpha_beta_profile_figures.output if DOSE["alpha_beta_mode"] == "profile" else [],
        rules.curves.output,
        rules.curve_figures.output,
        rules.sensitivity_tests.output,
        rules.forest_plots.output,
        rules.funnel_plots.output,
        rules.flow_diagram.output,
        rules.leave_one_out_figures.output,
        rules.risk_of_bias.output,
        rules.risk_of_bias_figures.output,
        rules.certainty.output,
        rules.certainty_figures.output,
        rules.gosh.output if ROBUSTNESS["gosh"]["enabled"] else [],
        rules.gosh_figures.output if ROBUSTNESS["gosh"]["enabled"] else [],
        rules.multiverse.output if ROBUSTNESS["multiverse"]["enabled"] else [],
        rules.multiverse_figures.output if ROBUSTNESS["multiverse"]["enabled"] else [],
        rules.sensitivity.output,
        rules.sensitivity_figures.output,
        "results/report/summary.md",
        "results/report/report.docx",
        rules.report_html.output,


onstart:
    # Every folder the jobs write in is writable (before Snakemake removes old outputs: on a read-only file
    # system that fails with a traceback); one line each (sbrtmeta.steps.runner.unwritable_folders).
    from sbrtmeta.steps.runner import unwritable_folders

    blocked = unwritable_folders(f for job in workflow.dag.needrun_jobs() for f in [*job.output, *job.log])
    if blocked:
        print("\n".join(blocked), file=sys.stderr)
        sys.exit(1)


onsuccess:
    # results/ belongs to this config: after a complete run of the default target, files no job of this run makes
    # (left by an earlier config) are removed (sbrtmeta.steps.results_folder; README, "What a run leaves").
    if complete_run(workflow):
        removed = remove_stale("results", made_by(workflow.dag.jobs))
        if removed:
            names = ", ".join(str(p) for p in removed[:5]) + (
                f" and {len(removed) - 5} more" if len(removed) > 5 else ""
            )
            print(f"Removed {len(removed)} file(s) an earlier config left in results/: {names}", file=sys.stderr)
        print(
            "Results: results/report/summary.md (and report.docx; the HTML report: snakemake --report report.html); "
            "each job's details in results/logs/",
            file=sys.stderr,
        )
    # Snakemake's job-rate limiter (--max-jobs-per-timespan, 1 s) re-checks the queue on a threading.Timer, which
    # kept the process alive for up to a second after the last job: cancel the timers of this workflow's scheduler
    # (their function closes over it), and no other timer of the process.
    import threading

    for timer in threading.enumerate():
        cells = getattr(getattr(timer, "function", None), "__closure__", None) or ()
        if isinstance(timer, threading.Timer) and any(c.cell_contents is workflow.scheduler for c in cells):
            timer.cancel()
