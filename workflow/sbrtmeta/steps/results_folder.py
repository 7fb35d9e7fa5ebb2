"""results/ belongs to the config that made it: after a complete run (the default target), every file under
results/ that no job of this run's workflow makes (an output, a log or a benchmark; a file inside a folder
output belongs to it) is left from an earlier config, and is removed. So a figure of a cell or site no longer
pooled, a dose-response figure of another time point, a figure format no longer asked for, or the tables and
figures of an analysis switched off (GOSH, the multiverse) do not stay beside this config's files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def stale_files(results: str | Path, made: Iterable[str | Path]) -> list[Path]:
    """Files under ``results`` that are not in ``made`` (paths of files and folders, relative to the same
    working directory as ``results``) and not inside a folder of ``made``, sorted."""
    made = {os.path.normpath(p) for p in made}
    stale = []
    for folder, _, files in os.walk(results):
        for name in files:
            path = os.path.normpath(os.path.join(folder, name))
            if not _is_made(path, made):
                stale.append(Path(path))
    return sorted(stale)


def _is_made(path: str, made: set[str]) -> bool:
    """``path`` or one of the folders above it is in ``made``."""
    while path and path not in made:
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return bool(path)


def remove_stale(results: str | Path, made: Iterable[str | Path]) -> list[Path]:
    """Remove :func:`stale_files` and the folders they leave empty; return the removed files."""
    made = {os.path.normpath(p) for p in made}
    stale = stale_files(results, made)
    for path in stale:
        path.unlink()
    for folder, _, _ in sorted(os.walk(results), key=lambda entry: -len(entry[0])):
        folder = os.path.normpath(folder)
        if folder != os.path.normpath(results) and folder not in made and not os.listdir(folder):
            os.rmdir(folder)
    return stale
