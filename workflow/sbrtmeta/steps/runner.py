"""What every workflow script shares: logging and the one-line error for bad input."""

from __future__ import annotations

import errno
import logging
import sys
from pathlib import Path

from sbrtmeta.data.errors import InputError
from sbrtmeta.data.read_back import read_written_table
from sbrtmeta.data.risk_of_bias import overall_of

# plots.style.GLYPH_LOG, named here so that a step which draws nothing does not import matplotlib
GLYPH_LOG = "sbrtmeta.figures"


def step_logger(log_path: str | None, name: str) -> logging.Logger:
    """A logger writing every note to the rule's log file, and warnings and errors also to the terminal (all of
    it there when there is no log file; with the figures' missing-glyph lines)."""
    logger = logging.getLogger(f"sbrtmeta.{name}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter(f"[{name}] %(message)s")
    console = logging.StreamHandler(sys.stderr)
    handlers = [console]
    if log_path:  # the log holds every note; the console (a run prints one line per job) only what matters
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
        console.setLevel(logging.WARNING)
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)
    logger.propagate = False
    # plots.style's line naming a glyph no font draws goes to this rule's log too (and to no other)
    glyphs = logging.getLogger(GLYPH_LOG)
    glyphs.handlers.clear()
    for h in handlers:
        glyphs.addHandler(h)
    return logger


def run_step(name: str, log_path: str | None, body) -> None:
    """Run ``body(logger)``; turn an :class:`InputError` into one error line per
    problem and exit 1, so Snakemake removes the step's outputs."""
    logger = step_logger(log_path, name)
    try:
        body(logger)
    except InputError as exc:
        for line in str(exc).splitlines():
            logger.error("ERROR: %s", line)
        sys.exit(1)
    except OSError as exc:  # the file system: a read-only or full results folder, a missing permission
        logger.error("ERROR: %s", file_system_error(exc))
        sys.exit(1)


def unwritable_folders(outputs) -> list[str]:
    """One :func:`file_system_error` line per folder the jobs of a run cannot write in (read-only file
    system, missing permission): the nearest existing folder of each output, tried with a temporary file.
    Snakemake removes a job's old outputs before the job runs, and on a read-only file system that
    removal fails with a traceback of its own, before any step could say it in one line."""
    import tempfile

    lines, seen = [], set()
    for path in map(Path, outputs):
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if folder in seen:
            continue
        seen.add(folder)
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            lines.append(file_system_error(OSError(exc.errno, exc.strerror, str(folder))))
    return lines


def file_system_error(exc: OSError) -> str:
    """One line for a file-system failure: the path, what went wrong and what to do."""
    where = exc.filename or "a file"
    what = exc.strerror or type(exc).__name__
    hints = {
        errno.EACCES: "make it (and its folder) readable and writable",
        errno.EPERM: "make it (and its folder) readable and writable",
        errno.EROFS: "the file system is read-only: run in a writable copy",
        errno.ENOSPC: "the disk is full: free space and run again",
        errno.EISDIR: "a directory is where a file should be: remove or rename it",
    }
    hint = hints.get(exc.errno, "check the path")
    return f"{where}: {what} ({hint})"


def write_table(frame, path: str) -> None:
    """Write a CSV the same way every time (byte-identical for the same data)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def read_overall(paths) -> dict | None:
    """``{study_id: overall judgement}`` of results/tables/risk_of_bias.csv, the input a rule gets
    for ``inclusion.max_risk_of_bias`` (``paths``: [] without that criterion, then None)."""
    return overall_of(read_result(paths[0])) if paths else None


def read_result_chunks(path: str, rows: int = 2**16):
    """:func:`read_result` as a stream of tables of ``rows`` rows each (for parts too large to hold at once)."""
    return read_written_table(path, chunksize=rows)


def read_result(path: str):
    """A result table written by an earlier step, ids and text as written
    (:func:`~sbrtmeta.data.read_back.read_written_table`)."""
    return read_written_table(path)
