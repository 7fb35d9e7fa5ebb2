"""Put on PYTHONPATH by tests/conftest.py's shipped run: every Python process of the run (Snakemake and each job)
that imported the ``sbrtmeta`` package appends that package's file to ``$SBRTMETA_IMPORT_LOG`` as it exits, so that
tests/test_stale_code.py can check that the jobs ran the project copy's own package, not an installed one."""

import atexit
import os
import sys


def _log_sbrtmeta() -> None:
    package = sys.modules.get("sbrtmeta")
    if package is not None and os.environ.get("SBRTMETA_IMPORT_LOG"):
        with open(os.environ["SBRTMETA_IMPORT_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{package.__file__}\n")


atexit.register(_log_sbrtmeta)
