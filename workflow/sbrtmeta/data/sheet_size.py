"""The size of the input sheets, counted without reading them as tables: the pre-flight budget
(:mod:`sbrtmeta.analysis.budget`) needs it before any job runs, in every ``snakemake`` call, so this
module imports neither pandas nor pandera."""

from __future__ import annotations

import zipfile


def data_rows(paths) -> int:
    """The data rows of the sheets at ``paths`` (lines after the header; an .xlsx workbook's rows
    of its largest worksheet), cheaply and as an upper bound; a file that cannot be read counts 0
    (its own step says why)."""
    total = 0
    for path in paths:
        try:
            if str(path).lower().endswith(".xlsx"):
                import openpyxl

                book = openpyxl.load_workbook(path, read_only=True)
                total += max((ws.max_row or 1) - 1 for ws in book.worksheets)
                book.close()
            else:
                with open(path, "rb") as fh:
                    total += max(sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) - 1, 0)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            continue
    return total
