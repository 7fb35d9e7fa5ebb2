"""The catalogue of input faults: each bad input gives one error line naming file, row,
column, value and rule, and leaves no results.

Each case runs the cleanup step as the workflow does (workflow/scripts/clean_extraction.py
with the step's inputs) on a temporary copy of a sheet with one fault, and checks the
error line and that results/clean/outcomes.csv was not written. A few cases also run
`snakemake` on a temporary copy of the project. Config faults are checked against the
config schema (what the Snakefile's validate() uses).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row
is row 2, and a blank line counts as a row (the convention of tests/test_extraction.py
and tests/test_workflow.py).
"""

from __future__ import annotations

import copy
import csv
import re
import runpy
import zipfile
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pandas as pd
import pytest
import yaml
from project_copy import copy_project as _copy_project
from project_copy import run_snakemake as _snakemake
from sbrtmeta.data.dose_strings import parse_dose
from sbrtmeta.data.errors import InputError, InputErrors
from sbrtmeta.data.extraction import apply_corrections, clean_extraction, read_sheet

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "crc2014_extraction.csv"
PRIMARY = ROOT / "data" / "raw" / "primary_studies.csv"
LEDGER = ROOT / "data" / "raw" / "corrections.csv"
EXAMPLE = ROOT / "config" / "examples" / "example_studies.csv"
SCRIPT = ROOT / "workflow" / "scripts" / "clean_extraction.py"
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
CLEANUP = CONFIG["cleanup"]

# One error line: "<file>[, row N][, column 'c'][, value v]: <rule>"
LINE = re.compile(
    r"^(?P<file>.+?)(?:, row (?P<row>\d+))?(?:, column (?P<column>'[^']*'))?"
    r"(?:, value (?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^:']+))?: (?P<rule>.+)$"
)


# --- running the cleanup step -----------------------------------------------------------------------


def run_cleanup_step(tmp_path: Path, sheets=(), tidy_sheets=(), ledger=None):
    """Run the clean_extraction script as Snakemake does; return (exit code, error lines, output path)."""
    out = tmp_path / "results" / "clean" / "outcomes.csv"
    log = tmp_path / "results" / "logs" / "clean_extraction.log"
    smk = SimpleNamespace(
        input=SimpleNamespace(sheets=[str(s) for s in sheets]),
        params=SimpleNamespace(
            cleanup=CLEANUP, ledger=None if ledger is None else str(ledger), tidy_sheets=list(tidy_sheets)
        ),
        output=SimpleNamespace(outcomes=str(out)),
        log=[str(log)],
    )
    code = 0
    try:
        runpy.run_path(str(SCRIPT), init_globals={"snakemake": smk}, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    lines = [ln.split("ERROR: ", 1)[1] for ln in log.read_text(encoding="utf-8").splitlines() if "ERROR: " in ln]
    return code, lines, out


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write_rows(path, rows, fieldnames):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fieldnames)
        w.writeheader()
        w.writerows(rows)


def _line_of(row_id):
    """The spreadsheet row of a raw row_id (header = row 1)."""
    return next(i for i, r in enumerate(_rows(RAW)) if r["row_id"] == row_id) + 2


# --- faults in a raw sheet as printed ------------------------------------------------------------------


def _set(row_id, column, value):
    def mutate(rows, fields):
        for r in rows:
            if r["row_id"] == row_id:
                r[column] = value
        return rows, fields

    return mutate


def _drop_column(column):
    def mutate(rows, fields):
        return [{k: v for k, v in r.items() if k != column} for r in rows], [f for f in fields if f != column]

    return mutate


def _rename_column(old, new):
    def mutate(rows, fields):
        return (
            [{(new if k == old else k): v for k, v in r.items()} for r in rows],
            [new if f == old else f for f in fields],
        )

    return mutate


def _duplicate(row_id, new_id, **change):
    def mutate(rows, fields):
        src = next(r for r in rows if r["row_id"] == row_id)
        return rows + [{**src, "row_id": new_id, **change}], fields

    return mutate


T105 = _line_of("T1-05")
N_RAW = len(_rows(RAW))

# kind, mutation of the rows (or raw text), expected row, column, value, rule (regex)
PRINTED_FAULTS = [
    ("missing column", _drop_column("lc_printed"), None, "lc_printed", None, "required column is missing"),
    ("misspelt column", _rename_column("notes", "note"), None, "note", None, r"not part of the schema \(misspelt"),
    ("rate over 100 %", _set("T1-05", "lc_printed", "157% (20)"), T105, "lc_printed", "157% (20)", "outside 0-100"),
    ("negative n", _set("T1-05", "patients_printed", "-5"), T105, "patients_printed", "-5", "cannot read"),
    ("zero n", _set("T1-05", "lesions_printed", "0"), T105, "lesions_printed", "0", "n must be at least 1"),
    (
        "events over n",
        _set("T1-05", "lc_printed", "local recurrence 9 of 7"),
        T105,
        "lc_printed",
        "local recurrence 9 of 7",
        "impossible",
    ),
    (
        "non-numeric n",
        _set("T1-05", "patients_printed", "sixty-nine"),
        T105,
        "patients_printed",
        "sixty-nine",
        "cannot read",
    ),
    ("unknown site", _set("T1-05", "site", "livr"), T105, "site", "livr", "must be one of"),
    ("unknown design", _set("T1-05", "design_printed", "RCT"), T105, "design_printed", "RCT", "unknown study design"),
    ("unknown basis", _set("T1-05", "basis", "guess"), T105, "basis", "guess", "must be one of"),
    ("duplicate study x arm", _duplicate("T1-05", "T1-99"), N_RAW + 2, "arm", None, "duplicate study × arm"),
    (
        "duplicate row_id",
        _duplicate("T1-05", "T1-05", arm="another arm"),
        N_RAW + 2,
        "row_id",
        "T1-05",
        "must be unique",
    ),
    ("comma decimal", _set("T1-05", "lc_printed", "57,5% (20)"), T105, "lc_printed", "57,5% (20)", "cannot read"),
    (
        "time point 0",
        _set("T1-05", "lc_printed", "57% (0)"),
        T105,
        "lc_printed",
        "57% (0)",
        "time point 0 months must be positive",
    ),
    (
        "unparseable dose",
        _set("T1-05", "dose_printed", "fifty/5"),
        T105,
        "dose_printed",
        "fifty/5",
        "cannot read 'fifty/5' as total/fractions",
    ),
    (
        "unparseable dose words",
        _set("T1-05", "dose_printed", "high dose"),
        T105,
        "dose_printed",
        "high dose",
        "cannot read",
    ),
    (
        "unreadable follow-up",
        _set("T1-05", "mfu_printed", "about two years"),
        T105,
        "mfu_printed",
        "about two years",
        "median follow-up",
    ),
    ("bad year", _set("T1-05", "year", "14"), T105, "year", "14", "must match"),
    ("empty required cell", _set("T1-05", "ref", ""), T105, "ref", "", "must not be empty"),
    (
        "formula as first author",
        _set("T1-05", "first_author", '=HYPERLINK("http://x","y")'),
        T105,
        "first_author",
        '=HYPERLINK("http://x","y")',
        "starts with '=': a spreadsheet would run it as a formula",
    ),
    ("formula in notes", _set("T1-05", "notes", "@SUM(1+1)"), T105, "notes", "@SUM(1+1)", "starts with '@'"),
    (
        "tab before text",
        _set("T1-05", "arm", "\tall"),
        T105,
        "arm",
        "\tall",
        r"U\+0009 TAB",  # a control character (issue 26)
    ),
    ("carriage return before text", _set("T1-05", "quote", "\rx"), T105, "quote", "\rx", r"U\+000D CARRIAGE RETURN"),
    ("- formula as ref", _set("T1-05", "ref", "-cmd"), T105, "ref", "-cmd", "starts with '-' and is not a number"),
    (
        "count one past 2^53",
        _set("T1-05", "patients_printed", str(2**53 + 1)),
        T105,
        "patients_printed",
        str(2**53 + 1),
        r"too large: counts must be at most 2\^53",
    ),
    (
        "time point of 10^18 months",
        _set("T1-05", "lc_printed", "57% (1000000000000000000)"),
        T105,
        "lc_printed",
        "57% (1000000000000000000)",
        "too large",
    ),
]


@pytest.mark.parametrize("kind, mutate, row, column, value, rule", PRINTED_FAULTS, ids=[f[0] for f in PRINTED_FAULTS])
def test_printed_sheet_fault(tmp_path, kind, mutate, row, column, value, rule):
    rows, fields = mutate(_rows(RAW), list(_rows(RAW)[0]) + (["year"] if kind == "bad year" else []))
    sheet = tmp_path / RAW.name
    _write_rows(sheet, rows, fields)
    code, lines, out = run_cleanup_step(tmp_path, [sheet], ledger=LEDGER)
    assert code == 1 and not out.exists()
    assert len(lines) == 1, lines
    _check_line(lines[0], sheet, row, column, value, rule)


def _check_line(line, file, row, column, value, rule):
    m = LINE.match(line)
    assert m, line
    assert m["file"] == str(file), line
    assert m["row"] == (None if row is None else str(row)), line
    assert m["column"] == (None if column is None else repr(column)), line
    if value is not None:
        assert m["value"] == repr(value), line
    assert re.search(rule, m["rule"]), line


RAW_TEXT_FAULTS = [
    ("empty file", lambda text: b"", None, "is empty"),
    (
        "header only",
        lambda text: text.splitlines(keepends=True)[0].encode("utf-8"),
        None,
        "has a header but no data rows",
    ),
    (
        "latin-1 bytes",
        lambda text: text.replace("≥", ">=").encode("latin-1", errors="replace") + "Müller\n".encode("latin-1"),
        None,
        "not UTF-8",
    ),
    ("blank line", lambda text: _insert_line(text, 5, "").encode("utf-8"), 6, "row is blank"),
    ("blank row of commas", lambda text: _insert_line(text, 5, "," * 25).encode("utf-8"), 6, "row is blank"),
]


def _insert_line(text, after, line):
    lines = text.splitlines(keepends=True)
    return "".join(lines[:after] + [line + "\n"] + lines[after:])


@pytest.mark.parametrize("kind, make, row, rule", RAW_TEXT_FAULTS, ids=[f[0] for f in RAW_TEXT_FAULTS])
def test_printed_sheet_file_fault(tmp_path, kind, make, row, rule):
    sheet = tmp_path / RAW.name
    # the crc2014 sheet has multi-line quoted cells only in late rows: line 5 + 1 is row 6
    assert RAW.read_text(encoding="utf-8").splitlines()[4].startswith("T1-04")
    sheet.write_bytes(make(RAW.read_text(encoding="utf-8")))
    code, lines, out = run_cleanup_step(tmp_path, [sheet], ledger=LEDGER)
    assert code == 1 and not out.exists()
    assert len(lines) == 1, lines
    _check_line(lines[0], sheet, row, None, None, rule)


def test_ledger_naming_a_row_the_sheet_lacks(tmp_path):
    ledger = tmp_path / "corrections.csv"
    text = LEDGER.read_text(encoding="utf-8").replace(
        "crc2014_extraction.csv,T1-01,", "crc2014_extraction.csv,T1-77,", 1
    )
    ledger.write_text(text, encoding="utf-8")
    code, lines, out = run_cleanup_step(tmp_path, [RAW], ledger=ledger)
    assert code == 1 and not out.exists() and len(lines) == 1
    _check_line(lines[0], ledger, 2, "row_id", "T1-77", "does not have")


def test_every_printed_dose_in_data_raw_parses():
    """Issue 4: every dose cell of the shipped sheets (after the ledger) parses; none is dropped."""
    ledger = read_sheet(LEDGER, allow_empty=True)
    for sheet in (RAW, PRIMARY):
        corrected, _ = apply_corrections(read_sheet(sheet), ledger, sheet.name, str(LEDGER))
        for printed in corrected["dose_printed"]:
            if printed.strip():
                spec = parse_dose(printed)  # raises CellParseError if it does not parse
                assert spec is None or spec.printed


def test_unparseable_dose_is_never_dropped(tmp_path):
    """A dose the parser cannot read stops the cleanup; it does not become an empty dose."""
    rows = _rows(RAW)
    doses = [r["dose_printed"] for r in rows if r["dose_printed"].strip()]
    assert doses
    for r in rows:
        if r["dose_printed"].strip():
            r["dose_printed"] = "see text"
    sheet = tmp_path / RAW.name
    _write_rows(sheet, rows, list(rows[0]))
    ledger = tmp_path / "corrections.csv"  # the shipped ledger repairs doses this copy no longer prints
    ledger.write_text("file,row_id,column,printed,corrected,reason\n", encoding="utf-8")
    with pytest.raises(InputErrors) as err:
        clean_extraction([sheet], ledger)
    dose_errors = [e for e in err.value.errors if e.column == "dose_printed"]
    assert len(dose_errors) == len(doses)
    assert all(e.value == "see text" and "cannot read 'see text'" in e.reason for e in dose_errors)


# --- faults in a tidy sheet (your own sheet) ------------------------------------------------------------

EXAMPLE_ROWS = _rows(EXAMPLE)
EX_FIELDS = list(EXAMPLE_ROWS[0])


def _tidy_set(index, column, value):
    def mutate(rows, fields):
        rows[index][column] = value
        return rows, fields + ([column] if column not in fields else [])

    return mutate


def _tidy_dup(index):
    def mutate(rows, fields):
        return rows + [dict(rows[index])], fields

    return mutate


TIDY_FAULTS = [
    ("missing column", _drop_column("n"), None, "n", None, "required column is missing"),
    (
        "misspelt column",
        _rename_column("timepoint_months", "timepoint"),
        None,
        "timepoint",
        None,
        "not part of the schema",
    ),
    ("rate over 1", _tidy_set(0, "rate", "1.5"), 2, "rate", "1.5", "proportion between 0 and 1"),
    ("rate as a percentage", _tidy_set(0, "rate", "85"), 2, "rate", "85", "proportion between 0 and 1"),
    ("percent sign in rate", _tidy_set(0, "rate", "85%"), 2, "rate", "85%", "has a % sign"),
    ("percent sign in events", _tidy_set(0, "events", "90%"), 2, "events", "90%", "has a % sign"),
    ("comma decimal", _tidy_set(0, "rate", "0,85"), 2, "rate", "0,85", "uses a comma"),
    ("negative n", _tidy_set(0, "n", "-5"), 2, "n", "-5", "must be at least 1"),
    ("zero n", _tidy_set(0, "n", "0"), 2, "n", "0", "must be at least 1"),
    ("negative events", _tidy_set(0, "events", "-1"), 2, "events", "-1", "must be at least 0"),
    ("events over n", _tidy_set(0, "events", "50"), 2, "events", "50", "events must not be more than n"),
    ("events without n", _tidy_set(0, "n", ""), 2, "events", "38", "events is given but n is empty"),
    ("non-numeric n", _tidy_set(0, "n", "forty-two"), 2, "n", "forty-two", "is not a number"),
    ("fractional n", _tidy_set(0, "n", "42.5"), 2, "n", "42.5", "must be a whole number"),
    ("rate disagrees with events / n", _tidy_set(0, "rate", "0.5"), 2, "rate", "0.5", "does not match events / n"),
    ("unknown site", _tidy_set(0, "site", "brain"), 2, "site", "brain", "must be one of"),
    ("unknown endpoint", _tidy_set(0, "endpoint", "PFS"), 2, "endpoint", "PFS", "must be one of"),
    ("unknown design", _tidy_set(0, "design", "RCT"), 2, "design", "RCT", "must be one of"),
    (
        "duplicate study x arm x endpoint x time point",
        _tidy_dup(1),
        len(EXAMPLE_ROWS) + 2,
        "study_id",
        "ex-01",
        "duplicate study × arm × endpoint × time point",
    ),
    ("time point 0", _tidy_set(0, "timepoint_months", "0"), 2, "timepoint_months", "0", "must be more than 0 months"),
    (
        "unparseable dose",
        _tidy_set(0, "dose_text", "fifty/5"),
        2,
        "dose_text",
        "fifty/5",
        "cannot read 'fifty/5' as total/fractions",
    ),
    ("empty study_id", _tidy_set(0, "study_id", ""), 2, "study_id", "", "must not be empty"),
    ("bad year", _tidy_set(0, "year", "19"), 2, "year", "19", "year between 1900 and 2100"),
    (
        "histology contradicts primary",
        _tidy_set(0, "histology", "sarcoma"),
        2,
        "histology",
        "sarcoma",
        "contradicts primary",
    ),
    ("bed10 contradicts dose_text", _tidy_set(0, "bed10", "50"), 2, "bed10", "50", "does not match what dose_text"),
    ("column the cleanup writes", _tidy_set(0, "raw_file", "x.csv"), None, "raw_file", None, "written by the cleanup"),
    ("bad review name", _tidy_set(0, "review", "My Review"), 2, "review", "My Review", "lower-case"),
    # text a spreadsheet would run as a formula (issue 16)
    (
        "formula as first author",
        _tidy_set(0, "first_author", '=HYPERLINK("http://x","y")'),
        2,
        "first_author",
        '=HYPERLINK("http://x","y")',
        r"^starts with '=': a spreadsheet would run it as a formula; write it without the leading character$",
    ),
    ("@ formula as first author", _tidy_set(0, "first_author", "@SUM(1+1)"), 2, "first_author", "@SUM(1+1)", "'@'"),
    ("+ formula as study_id", _tidy_set(0, "study_id", "+1+1"), 2, "study_id", "+1+1", "starts with '\\+'"),
    ("- formula as arm", _tidy_set(0, "arm", "-2+3+cmd"), 2, "arm", "-2+3+cmd", "starts with '-' and is not a number"),
    ("formula as source", _tidy_set(0, "source", "=1+1"), 2, "source", "=1+1", "starts with '='"),
    ("formula as note", _tidy_set(0, "note", "@cmd"), 2, "note", "@cmd", "starts with '@'"),
    ("formula as dose_text", _tidy_set(0, "dose_text", "=50/5"), 2, "dose_text", "=50/5", "starts with '='"),
    # numbers past the range of a float, or of an exact count (issue 16)
    ("infinite n", _tidy_set(0, "n", "inf"), 2, "n", "inf", "is infinite: give a finite number"),
    ("minus infinity as a rate", _tidy_set(0, "rate", "-inf"), 2, "rate", "-inf", "is infinite"),
    ("n of 1e300", _tidy_set(0, "n", "1e300"), 2, "n", "1e300", r"too large: whole numbers .* at most 2\^53"),
    (
        "time point of 1e300 months",
        _tidy_set(0, "timepoint_months", "1e300"),
        2,
        "timepoint_months",
        "1e300",
        "too large: numbers must be at most 1e15",
    ),
    ("rate of 1e-320", _tidy_set(0, "rate", "1e-320"), 2, "rate", "1e-320", "too small to be stored exactly"),
    ("n of 1e-320", _tidy_set(0, "n", "1e-320"), 2, "n", "1e-320", "too small to be stored exactly"),
    ("n one past 2^53", _tidy_set(0, "n", str(2**53 + 1)), 2, "n", str(2**53 + 1), r"at most 2\^53"),
    ("events one past 2^53", _tidy_set(0, "events", str(2**53 + 1)), 2, "events", str(2**53 + 1), r"at most 2\^53"),
]


@pytest.mark.parametrize("kind, mutate, row, column, value, rule", TIDY_FAULTS, ids=[f[0] for f in TIDY_FAULTS])
def test_tidy_sheet_fault(tmp_path, kind, mutate, row, column, value, rule):
    rows, fields = mutate([dict(r) for r in EXAMPLE_ROWS], list(EX_FIELDS))
    sheet = tmp_path / "my_studies.csv"
    _write_rows(sheet, [{k: r.get(k, "") for k in fields} for r in rows], fields)
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[str(sheet)])
    assert code == 1 and not out.exists()
    assert len(lines) == 1, lines
    _check_line(lines[0], sheet, row, column, value, rule)


TIDY_TEXT_FAULTS = [
    ("empty file", lambda text: b"", None, "is empty"),
    (
        "header only",
        lambda text: text.splitlines(keepends=True)[0].encode("utf-8"),
        None,
        "has a header but no data rows",
    ),
    ("latin-1 bytes", lambda text: text.replace("Synthetic-Alpha", "Synthétic").encode("latin-1"), None, "not UTF-8"),
    ("blank line", lambda text: _insert_line(text, 3, "").encode("utf-8"), 4, "row is blank"),
    ("blank row of commas", lambda text: _insert_line(text, 3, "," * 15).encode("utf-8"), 4, "row is blank"),
    (
        "row with too many cells",
        lambda text: _insert_line(text, 3, "," * 20).encode("utf-8"),
        None,
        "not a well-formed CSV file .*Expected 16 fields in line 4, saw 21",
    ),
]


@pytest.mark.parametrize("kind, make, row, rule", TIDY_TEXT_FAULTS, ids=[f[0] for f in TIDY_TEXT_FAULTS])
def test_tidy_sheet_file_fault(tmp_path, kind, make, row, rule):
    sheet = tmp_path / "my_studies.csv"
    sheet.write_bytes(make(EXAMPLE.read_text(encoding="utf-8")))
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[str(sheet)])
    assert code == 1 and not out.exists()
    assert len(lines) == 1, lines
    _check_line(lines[0], sheet, row, None, None, rule)


# --- Excel workbooks -------------------------------------------------------------------------------


def _workbook(path, sheets: dict[str, pd.DataFrame]):
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            frame.to_excel(xw, sheet_name=name, index=False)
    return path


def _example_frame():
    return pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)


XLSX_FAULTS = [
    (
        "wrong worksheet",
        {"Studies": None},
        "Outcomes",
        None,
        None,
        None,
        r"has no worksheet 'Outcomes'; its worksheets are \['Studies'\]",
    ),
    ("several worksheets, none named", {"Studies": None, "Notes": None}, None, None, None, None, "has 2 worksheets"),
    ("percent sign in a cell", {"Studies": ("rate", 2, "85%")}, "Studies", 4, "rate", "85%", "has a % sign"),
    ("unknown site in a cell", {"Studies": ("site", 0, "brain")}, "Studies", 2, "site", "brain", "must be one of"),
]


@pytest.mark.parametrize(
    "kind, layout, worksheet, row, column, value, rule", XLSX_FAULTS, ids=[f[0] for f in XLSX_FAULTS]
)
def test_xlsx_fault(tmp_path, kind, layout, worksheet, row, column, value, rule):
    sheets = {}
    for name, change in layout.items():
        frame = _example_frame()
        if change:
            col, i, v = change
            frame.loc[i, col] = v
        sheets[name] = frame
    book = _workbook(tmp_path / "my_studies.xlsx", sheets)
    entry = {"path": str(book), "worksheet": worksheet} if worksheet else str(book)
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[entry])
    assert code == 1 and not out.exists()
    assert len(lines) == 1, lines
    label = f"{book} (worksheet {worksheet!r})" if row is not None else str(book)
    _check_line(lines[0], label, row, column, value, rule)


def _workbook_with_number(path, xml_number: str):
    """The example as a workbook whose first row's n cell holds ``xml_number`` as written in the
    sheet's XML (<v>1e+309</v> is a float infinity once read; Excel itself cannot type one)."""
    frame = _example_frame()
    frame["n"] = frame["n"].astype(object)
    frame.loc[0, "n"] = 987654321  # placeholder, replaced in the XML
    _workbook(path.with_suffix(".tmp.xlsx"), {"Studies": frame})
    with zipfile.ZipFile(path.with_suffix(".tmp.xlsx")) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert parts[sheet].count(b"<v>987654321</v>") == 1
    parts[sheet] = parts[sheet].replace(b"<v>987654321</v>", f"<v>{xml_number}</v>".encode())
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "xml_number, row, value, rule",
    [
        ("1e+309", 2, "inf", "is infinite"),
        ("-1e+309", 2, "-inf", "is infinite"),
        ("1e+300", 2, "1e+300", r"too large: whole numbers .* at most 2\^53"),
        ("1e-320", 2, "1e-320", "too small to be stored exactly"),
        ("9007199254740993", 2, "9007199254740992", None),  # Excel's cell is a float: 2^53 + 1 reads as 2^53
        ("inf", None, None, "has a number cell that is not a number"),
    ],
)
def test_xlsx_number_past_float_range(tmp_path, xml_number, row, value, rule):
    book = _workbook_with_number(tmp_path / "my_studies.xlsx", xml_number)
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[str(book)])
    if rule is None:
        assert code == 0 and out.exists()
        return
    assert code == 1 and not out.exists()
    assert len(lines) == 1, lines
    _check_line(lines[0], str(book), row, None if row is None else "n", value, rule)


def test_file_that_is_not_a_workbook(tmp_path):
    book = tmp_path / "my_studies.xlsx"
    book.write_text("study_id,n\n", encoding="utf-8")
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[str(book)])
    assert code == 1 and not out.exists() and len(lines) == 1
    _check_line(lines[0], book, None, None, None, "not a readable .xlsx workbook")


def test_worksheet_named_for_a_csv(tmp_path):
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[{"path": str(EXAMPLE), "worksheet": "Studies"}])
    assert code == 1 and not out.exists() and len(lines) == 1
    _check_line(lines[0], EXAMPLE, None, None, None, "a worksheet can only be named for an .xlsx")


# --- all errors at once, up to a limit ------------------------------------------------------------------


def test_all_errors_of_a_sheet_are_reported_at_once(tmp_path):
    rows = [dict(r) for r in EXAMPLE_ROWS]
    rows[0]["rate"] = "85%"
    rows[2]["site"] = "brain"
    rows[4]["n"] = "-5"
    rows[6]["dose_text"] = "fifty/5"
    sheet = tmp_path / "my_studies.csv"
    _write_rows(sheet, rows, EX_FIELDS)
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[str(sheet)])
    assert code == 1 and not out.exists()
    assert [LINE.match(ln)["row"] for ln in lines] == ["2", "4", "6", "8"]
    assert [LINE.match(ln)["column"] for ln in lines] == ["'rate'", "'site'", "'n'", "'dose_text'"]


def test_all_bad_cells_of_a_printed_sheet_are_reported_at_once(tmp_path):
    rows = _rows(RAW)
    rows[0]["lc_printed"] = "157% (20)"
    rows[3]["patients_printed"] = "sixty-nine"
    rows[5]["dose_printed"] = "fifty/5"
    sheet = tmp_path / RAW.name
    _write_rows(sheet, rows, list(rows[0]))
    code, lines, out = run_cleanup_step(tmp_path, [sheet], ledger=LEDGER)
    assert code == 1 and not out.exists()
    assert [LINE.match(ln)["row"] for ln in lines] == ["2", "5", "7"]


def test_errors_are_limited_to_twenty_per_sheet(tmp_path):
    rows = [dict(r, site="brain") for r in EXAMPLE_ROWS] * 2
    for i, r in enumerate(rows):
        r["study_id"] = f"x-{i}"
    sheet = tmp_path / "my_studies.csv"
    _write_rows(sheet, rows, EX_FIELDS)
    code, lines, out = run_cleanup_step(tmp_path, tidy_sheets=[str(sheet)])
    assert code == 1 and not out.exists()
    assert len(lines) == 21
    assert lines[-1] == f"{sheet}: ... and {len(rows) - 20} more"


def test_errors_of_several_sheets_are_reported_together(tmp_path):
    rows = _rows(RAW)
    rows[0]["site"] = "livr"
    sheet = tmp_path / RAW.name
    _write_rows(sheet, rows, list(rows[0]))
    tidy = tmp_path / "my_studies.csv"
    tidy.write_text(EXAMPLE.read_text(encoding="utf-8").replace(",liver,", ",brain,", 1), encoding="utf-8")
    code, lines, out = run_cleanup_step(tmp_path, [sheet], [str(tidy)], ledger=LEDGER)
    assert code == 1 and not out.exists()
    assert [LINE.match(ln)["file"] for ln in lines] == [str(sheet), str(tidy)]


def test_input_errors_is_an_input_error():
    errs = InputErrors([InputError("bad", file="a.csv", row=2, column="n", value="x")] * 25)
    assert isinstance(errs, InputError) and isinstance(errs, ValueError)
    assert str(errs).splitlines()[-1] == "a.csv: ... and 5 more"
    assert len(str(errs).splitlines()) == 21


# --- config faults (jsonschema, as the Snakefile's validate()) -------------------------------------------


def _config_with(change):
    cfg = copy.deepcopy(CONFIG)
    change(cfg)
    return cfg


# How jsonschema starts the error of a config string a spreadsheet would run as a formula; the
# schema's description, printed with it, says why in words (test_config_formula_says_why).
FORMULA_PATTERN = "does not match '^(?![=+@"

CONFIG_FAULTS = [
    ("misspelt key in data", lambda c: c["data"].update(sheet=c["data"].pop("sheets")), "'sheet' was unexpected"),
    (
        "misspelt key in inclusion",
        lambda c: c["inclusion"].update(minn=c["inclusion"].pop("min_n")),
        "'minn' was unexpected",
    ),
    (
        "criterion naming a column that does not exist",
        lambda c: c["inclusion"].update(histologies=["sarcoma"]),
        "'histologies' was unexpected",
    ),
    ("criterion value naming no site", lambda c: c["inclusion"].update(sites=["brain"]), "'brain' is not one of"),
    (
        "tidy sheet of another format",
        lambda c: c["data"].update(tidy_sheets=["my_studies.xls"]),
        "'my_studies.xls' does not match",
    ),
    (
        "misspelt worksheet key",
        lambda c: c["data"].update(tidy_sheets=[{"path": "a.xlsx", "sheet": "S"}]),
        "'sheet' was unexpected",
    ),
    ("no sheets at all", lambda c: c["data"].update(sheets=[], tidy_sheets=[]), "[] should be non-empty"),
    ("printed sheets without a ledger", lambda c: c["data"].pop("corrections"), "'corrections' is a required"),
    # text that a spreadsheet would run as a formula (issue 16)
    (
        "exclusion reason starting with '='",
        lambda c: c["inclusion"].update(exclude_studies=[{"study_id": "x-1", "reason": '=HYPERLINK("http://x")'}]),
        FORMULA_PATTERN,
    ),
    (
        "excluded study_id starting with '@'",
        lambda c: c["inclusion"].update(exclude_studies=[{"study_id": "@SUM(1+1)", "reason": "duplicate"}]),
        FORMULA_PATTERN,
    ),
    (
        "overlap reason starting with '-' and not a number",
        lambda c: c["inclusion"].update(overlaps=[{"studies": ["a", "b"], "reason": "-2+3+cmd"}]),
        FORMULA_PATTERN,
    ),
    (
        "worksheet name starting with '+'",
        lambda c: c["data"].update(tidy_sheets=[{"path": "a.xlsx", "worksheet": "+1"}]),
        FORMULA_PATTERN,
    ),
    (
        "reason starting with two minus signs",
        lambda c: c["inclusion"].update(exclude_studies=[{"study_id": "x-1", "reason": "--5"}]),
        FORMULA_PATTERN,
    ),
]


def test_config_formula_says_why():
    cfg = _config_with(lambda c: c["inclusion"].update(exclude_studies=[{"study_id": "x-1", "reason": "=1+1"}]))
    with pytest.raises(jsonschema.ValidationError) as err:
        jsonschema.validate(cfg, SCHEMA)
    assert "a spreadsheet would run it as a formula; write it without the leading character" in " ".join(
        err.value.schema["description"].split()
    )


@pytest.mark.parametrize("text", ["-", "-5", "-0.5e3", "a = b", "x-1 + y"])
def test_config_text_that_is_not_a_formula(text):
    """A lone '-', a negative number, and '=', '+', '-' inside text pass the config schema."""
    cfg = _config_with(lambda c: c["inclusion"].update(overlaps=[{"studies": [text, "b"], "reason": "same cohort"}]))
    jsonschema.validate(cfg, SCHEMA)


@pytest.mark.parametrize("kind, change, message", CONFIG_FAULTS, ids=[f[0] for f in CONFIG_FAULTS])
def test_config_fault(kind, change, message):
    with pytest.raises(jsonschema.ValidationError, match=re.escape(message)):
        jsonschema.validate(_config_with(change), SCHEMA)


# --- a few of the faults through snakemake, in a temporary copy of the project --------------------------


def _error_lines(proc):
    return sorted({ln.split("ERROR: ", 1)[1] for ln in proc.stderr.splitlines() if "ERROR: " in ln})


def _assert_no_results(work):
    assert not (work / "results/clean/outcomes.csv").exists()
    assert not (work / "results/tables").exists()


@pytest.mark.workflow
def test_snakemake_tidy_sheet_with_percent_sign(tmp_path):
    work = _copy_project(tmp_path)
    sheet = work / "config/examples/example_studies.csv"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(",38,42,,", ",38,42,90%,", 1), encoding="utf-8")
    proc = _snakemake(work, "--configfile", "config/examples/config.yaml")
    assert proc.returncode != 0
    lines = _error_lines(proc)
    assert lines == [
        "config/examples/example_studies.csv, row 2, column 'rate', value '90%': has a % sign: "
        "give the rate as a proportion between 0 and 1 (85 % is 0.85)"
    ], proc.stderr[-3000:]
    _assert_no_results(work)


@pytest.mark.workflow
def test_snakemake_printed_sheet_with_blank_row(tmp_path):
    work = _copy_project(tmp_path)
    raw = work / "data/raw/crc2014_extraction.csv"
    raw.write_text(_insert_line(raw.read_text(encoding="utf-8"), 5, ""), encoding="utf-8")
    proc = _snakemake(work)
    assert proc.returncode != 0
    assert _error_lines(proc) == ["data/raw/crc2014_extraction.csv, row 6: row is blank: delete it or fill it in"], (
        proc.stderr[-3000:]
    )
    _assert_no_results(work)


@pytest.mark.workflow
def test_snakemake_xlsx_with_the_wrong_worksheet(tmp_path):
    work = _copy_project(tmp_path)
    _workbook(work / "config/examples/my_studies.xlsx", {"Studies": _example_frame()})
    cfg_path = work / "config/examples/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["data"]["tidy_sheets"] = [{"path": "config/examples/my_studies.xlsx", "worksheet": "Sheet1"}]
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = _snakemake(work, "--configfile", "config/examples/config.yaml")
    assert proc.returncode != 0
    assert _error_lines(proc) == [
        "config/examples/my_studies.xlsx: has no worksheet 'Sheet1'; its worksheets are ['Studies']"
    ], proc.stderr[-3000:]
    _assert_no_results(work)


@pytest.mark.workflow
@pytest.mark.parametrize(
    "old, new, message",
    [
        ("  sheets:\n", "  sheetz:\n", "'sheetz' was unexpected"),
        ("  min_n: 1\n", "  min_n: 1\n  histologies: [sarcoma]\n", "'histologies' was unexpected"),
    ],
)
def test_snakemake_refuses_a_bad_config_key(tmp_path, old, new, message):
    work = _copy_project(tmp_path)
    cfg_path = work / "config/config.yaml"
    text = cfg_path.read_text()
    assert old in text
    cfg_path.write_text(text.replace(old, new, 1))
    proc = _snakemake(work, "-n")
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    _assert_no_results(work)
