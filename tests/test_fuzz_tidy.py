"""End-to-end fuzz test of tidy sheets (issue 16), with hypothesis.

Random tidy sheets (random column sets, cell types, unicode, very long strings, blank lines, a
BOM, CSV or .xlsx) go through the cleanup step as the workflow runs it
(workflow/scripts/clean_extraction.py with the step's inputs, in a temporary folder). Every
outcome must be a table, or one-line errors naming the sheet with no results left behind: never
a traceback.

Bounded for CI (``SBRTMETA_FUZZ_EXAMPLES`` examples, 60 by default, derandomized so CI runs the
same sheets every time); set the variable higher to search further. Every crash found is kept
below as an ``@example``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import runpy
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sbrtmeta.data.tidy_schema import REQUIRED_COLUMNS, TIDY_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "workflow" / "scripts" / "clean_extraction.py"
CLEANUP = yaml.safe_load((ROOT / "config/config.yaml").read_text())["cleanup"]
EXAMPLE = pd.read_csv(ROOT / "config/examples/example_studies.csv", dtype=str, keep_default_na=False)
MAX_EXAMPLES = int(os.environ.get("SBRTMETA_FUZZ_EXAMPLES", "60"))


def run_cleanup(folder: Path, sheet: Path):
    """The clean_extraction script as Snakemake runs it; (exit code, log text, output path)."""
    out = folder / "results" / "clean" / "outcomes.csv"
    log = folder / "results" / "logs" / "clean_extraction.log"
    smk = SimpleNamespace(
        input=SimpleNamespace(sheets=[]),
        params=SimpleNamespace(cleanup=CLEANUP, ledger=None, tidy_sheets=[str(sheet)]),
        output=SimpleNamespace(outcomes=str(out)),
        log=[str(log)],
    )
    code = 0
    try:
        runpy.run_path(str(SCRIPT), init_globals={"snakemake": smk}, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    return code, log.read_text(encoding="utf-8"), out


# --- random sheets --------------------------------------------------------------------------------------

_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, 1e-320, 2.0**53 + 2, float("inf"), float("-inf")]),
)
_NUMBER_TEXT = st.one_of(
    _NUMBERS.map(str),
    st.sampled_from(["inf", "-Infinity", "NaN", "1e300", "1e-320", "1e999", "9" * 400, "0,85", "85%", "-", "+5"]),
)
_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(min_size=2000, max_size=3000, alphabet=st.characters(codec="utf-8")),
    st.sampled_from(['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1", "-x", "\t=1", "\r\n", "ßü😀", "\ufeffx"]),
)
_OPTIONAL = [c for c in EXAMPLE.columns if c not in REQUIRED_COLUMNS]
_OTHER = st.one_of(st.sampled_from([c for c in TIDY_COLUMNS if c not in EXAMPLE.columns]), st.text(max_size=12))


@st.composite
def sheets(draw):
    """A random tidy sheet: the example's rows with a few cells replaced by numbers, texts or
    nothing, in random columns (usually the required ones), as CSV (with or without a BOM) or
    .xlsx, maybe with a blank line."""
    columns = [c for c in REQUIRED_COLUMNS if draw(st.integers(0, 19)) > 0]  # each dropped 1 time in 20
    columns += draw(st.lists(st.sampled_from(_OPTIONAL), max_size=len(_OPTIONAL), unique=True))
    if draw(st.integers(0, 9)) == 0:
        columns.append(draw(_OTHER))
    columns = list(dict.fromkeys(draw(st.permutations(columns)))) or ["study_id"]
    n_rows = draw(st.integers(min_value=0, max_value=len(EXAMPLE)))
    rows = [[str(EXAMPLE.iloc[i][c]) if c in EXAMPLE.columns else "" for c in columns] for i in range(n_rows)]
    for _ in range(draw(st.integers(0, 3)) if rows else 0):
        i, k = draw(st.integers(0, n_rows - 1)), draw(st.integers(0, len(columns) - 1))
        rows[i][k] = draw(st.one_of(_NUMBERS, _NUMBER_TEXT, _TEXT, st.just("")))
    return dict(
        columns=columns,
        rows=rows,
        xlsx=draw(st.booleans()),
        bom=draw(st.booleans()),
        blank_after=draw(st.one_of(st.none(), st.none(), st.integers(min_value=0, max_value=n_rows))),
    )


def _write(sheet: dict, folder: Path) -> Path | None:
    """The sheet as a file; None when the format cannot hold it (openpyxl refuses control characters)."""
    rows = list(sheet["rows"])
    if sheet["blank_after"] is not None:
        rows.insert(sheet["blank_after"], [""] * len(sheet["columns"]))
    if sheet["xlsx"]:
        path = folder / "fuzz.xlsx"
        book = openpyxl.Workbook()
        ws = book.active
        try:
            ws.append(list(sheet["columns"]))
            for row in rows:
                ws.append([None if v == "" else v for v in row])
        except (ValueError, openpyxl.utils.exceptions.IllegalCharacterError):
            return None
        book.save(path)
        return path
    path = folder / "fuzz.csv"
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(sheet["columns"])
    w.writerows([[str(v) for v in row] for row in rows])
    path.write_text(buf.getvalue(), encoding="utf-8-sig" if sheet["bom"] else "utf-8", errors="surrogatepass")
    return path


# One error line: "<file>[, row N][, column 'c'][, value v]: <rule>" (tests/test_input_faults.py's LINE)
def _is_error_line(line: str, sheet: Path) -> bool:
    return line.startswith(str(sheet)) and ": " in line[len(str(sheet)) :]


# --- the test -------------------------------------------------------------------------------------------


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("SBRTMETA_FUZZ_RANDOM") is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sheets())
# Crashes of the code before issue 16's fixes (c705f4f), kept so that they stay fixed:
@example(  # found by this fuzzer: a year of 9.2e18 (a float's text): round().astype("Int64") raised TypeError
    dict(
        columns=list(REQUIRED_COLUMNS),
        rows=[["ex-01", "A", "9.223372036854776e+18", "liver", "LC", "24", "38", "42"]],
        xlsx=False,
        bom=False,
        blank_after=None,
    )
)
@example(  # reported in the issue: n = inf raised OverflowError in the same conversion
    dict(
        columns=list(REQUIRED_COLUMNS),
        rows=[["ex-01", "A", "2020", "liver", "LC", "24", "38", "inf"]],
        xlsx=False,
        bom=False,
        blank_after=None,
    )
)
@example(  # reported in the issue: n = 1e300, here an xlsx number cell, raised TypeError
    dict(
        columns=list(REQUIRED_COLUMNS),
        rows=[["ex-01", "A", "2020", "liver", "LC", "24", "38", 1e300]],
        xlsx=True,
        bom=True,
        blank_after=None,
    )
)
def test_any_tidy_sheet_gives_a_table_or_one_line_errors(sheet):
    folder = Path(tempfile.mkdtemp(prefix="fuzz"))
    try:
        path = _write(sheet, folder)
        if path is None:
            return
        code, log, out = run_cleanup(folder, path)  # a traceback fails the test here
        event("table" if code == 0 else "errors")
        if code == 0:
            table = pd.read_csv(out, dtype=str, keep_default_na=False)
            assert len(table) > 0 and list(table.columns) == list(TIDY_COLUMNS)
            assert "ERROR" not in log
        else:
            assert code == 1 and not out.exists()
            errors = [ln.split("ERROR: ", 1)[1] for ln in log.splitlines() if "ERROR: " in ln]
            assert errors, log
            assert all(_is_error_line(e, path) for e in errors), errors
            assert not re.search(r"Traceback", log)
    finally:
        shutil.rmtree(folder)
