"""A quiet console (issue 23 item 6): sbrtmeta.steps.console keeps one line per job from Snakemake's records, and
the steps' loggers print only warnings and errors to the terminal (every note goes to the job's log)."""

import logging

from sbrtmeta.steps.console import QuietConsole
from sbrtmeta.steps.runner import step_logger


def _record(msg: str, event: str | None = None, level: int = logging.INFO, **extra) -> logging.LogRecord:
    record = logging.LogRecord("snakemake.logging", level, __file__, 1, msg, None, None)
    record.event = event
    record.__dict__.update(extra)
    return record


def _shown(console: QuietConsole, records) -> list[str]:
    return [r.getMessage() for r in records if console.filter(r)]


def test_one_line_per_job():
    records = [
        _record("Building DAG of jobs..."),
        _record("", "workflow_started"),
        _record("Select jobs to execute..."),
        _record("Execute 1 jobs..."),
        _record("rule pool: input: ...", "job_info"),
        _record("Finished jobid: 3 (Rule: pool)", "job_finished"),
        _record("", "progress", done=3, total=22),
        _record("a warning from Snakemake", level=logging.WARNING),
        _record("Complete log(s): .snakemake/log/x.log"),
    ]
    assert _shown(QuietConsole(), records) == [
        "3 of 22 steps (14%) done: pool",
        "a warning from Snakemake",
        "Complete log(s): .snakemake/log/x.log",
    ]
    everything = [r.getMessage() for r in records if QuietConsole(lambda: False).filter(r)]
    assert len(everything) == len(records)  # a dry run or --verbose: nothing filtered


def test_steps_print_warnings_and_log_everything(tmp_path, capsys):
    log_path = tmp_path / "pool.log"
    log = step_logger(str(log_path), "pool")
    log.info("pooled 3 cells")
    log.warning("NOT POOLED spine")
    for handler in log.handlers:
        handler.flush()
    assert capsys.readouterr().err == "[pool] NOT POOLED spine\n"
    assert log_path.read_text(encoding="utf-8") == "[pool] pooled 3 cells\n[pool] NOT POOLED spine\n"
