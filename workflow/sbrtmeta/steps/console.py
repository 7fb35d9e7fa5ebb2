"""A quiet console: a run prints one line per job ("3 of 22 steps (14%) done: pool") and what matters (warnings,
errors, the summary's path); the rule blocks with their inputs (every job lists its 10-27 code inputs), the
scheduler's chatter and each job's progress notes stay in the logs (results/logs/, .snakemake/log/).

The Snakefile adds :class:`QuietConsole` to Snakemake's logger for a run that is neither a dry run (``-n`` shows
each job and its reason) nor ``--verbose``. Snakemake's own ``--quiet rules`` would keep three lines per job and
hide the rule blocks of a dry run too."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

FINISHED = re.compile(r"Finished jobid: \d+ \(Rule: (\w+)\)")
CHATTER = (
    "Select jobs to execute...",
    "Execute ",
    "Using shell:",
    "Provided cores:",
    "Rules claiming more threads",
    "Building DAG of jobs...",
    "Conda environments: ignored",
    "Updating checkpoint dependencies.",
    "DAG of jobs will be updated after completion.",
)


def _event(record: logging.LogRecord) -> str:
    event = getattr(record, "event", None)
    return str(getattr(event, "value", event) or "")


class QuietConsole(logging.Filter):
    """Snakemake's records, one line per finished job: a job's rule block and its start are dropped, its
    'Finished' record names the rule on the progress line that follows, and the scheduler's chatter goes."""

    def __init__(self, active: Callable[[], bool] = lambda: True) -> None:
        super().__init__()
        self.active = active  # asked at each record: a dry run is known only once the run starts
        self.finished: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        event = _event(record)
        if record.levelno >= logging.WARNING or not self.active():
            return True
        if event in ("job_info", "group_info", "shellcmd", "job_started", "workflow_started", "resources_info"):
            return False
        if event == "job_finished":
            match = FINISHED.search(str(record.msg))
            self.finished.append(match.group(1) if match else "")
            return False
        if event == "progress":
            done, total = getattr(record, "done", None), getattr(record, "total", None)
            rule = self.finished.pop(0) if self.finished else ""
            if done is not None and total:
                record.msg = f"{done} of {total} steps ({100 * done / total:.0f}%) done" + (f": {rule}" if rule else "")
                record.event = None  # printed as its message
            return True
        return not (event in ("", "none") and str(record.msg).startswith(CHATTER))


def quiet_console(snakemake_logger: logging.Logger, active: Callable[[], bool] = lambda: True) -> QuietConsole:
    """Add a :class:`QuietConsole` to ``snakemake_logger`` (``snakemake.logging.logger``), filtering while
    ``active()``; return it."""
    console = QuietConsole(active)
    snakemake_logger.addFilter(console)
    return console
