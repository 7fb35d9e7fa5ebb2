"""Reading input sheets (CSV or .xlsx) as text, and turning pandera's failure
cases into one-line errors.

Every cell is read as text exactly as it is in the file (no NA guessing), so an
error can quote the value the user typed. Rows are numbered as a spreadsheet
shows them: the header is row 1, the first data row is row 2, and blank lines
count as rows (they are refused, see :data:`BLANK_ROW`).
"""

from __future__ import annotations

import difflib
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sbrtmeta.data.errors import InputError, InputErrors
from sbrtmeta.data.hidden_text import HIDDEN_PATTERN, hidden_reason

if TYPE_CHECKING:  # pandera is imported where a check is built or a schema run: reading tables back needs none
    import pandera.pandas as pa

BLANK_ROW = "row is blank: delete it or fill it in"
INFINITE = "is infinite: give a finite number"


def sheet_label(path: str | Path, worksheet: str | None = None) -> str:
    """How errors name a sheet: its path, and the worksheet of a workbook."""
    return f"{path} (worksheet {worksheet!r})" if worksheet else str(path)


def read_table(
    path: str | Path, worksheet: str | None = None, allow_empty: bool = False, key: str = "a data.tidy_sheets entry"
) -> pd.DataFrame:
    """Read a CSV (UTF-8) or an .xlsx worksheet as text, every cell a string.

    ``allow_empty`` accepts a header without rows (a corrections ledger with
    nothing to correct). A missing worksheet, a file that is not UTF-8 or not a
    workbook, and an empty file raise :class:`InputError` naming the file; so do a
    directory, a missing or unreadable path, a file name a spreadsheet would run as a
    formula, and a control character or bidirectional override in any cell. ``key``: the
    config entry that names a workbook's worksheet.
    """
    path = Path(path)
    label = sheet_label(path, worksheet)
    check_file_name(path)
    check_readable(path)
    if path.suffix.lower() == ".xlsx":
        frame = _read_xlsx(path, worksheet, label, key)
    else:
        if worksheet:
            raise InputError("is a CSV file: a worksheet can only be named for an .xlsx workbook", file=str(path))
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV", file=str(path)
            ) from None
        except pd.errors.EmptyDataError:
            raise InputError("is empty: expected a header row and data rows", file=str(path)) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"is not a well-formed CSV file ({' '.join(str(exc).split())})", file=str(path)) from None
    if frame.empty and not allow_empty:
        raise InputError("has a header but no data rows", file=label)
    # A short row's missing cells are empty cells, as a spreadsheet shows them.
    frame = frame.fillna("").reset_index(drop=True)
    errors = hidden_text_errors(frame, label)
    if errors:
        raise InputErrors(errors)
    return frame


def check_readable(path: Path) -> None:
    """One line, not a traceback, for a sheet path that is missing, a directory or not readable."""
    if path.is_dir():
        raise InputError("is a directory, not a sheet: give the path of a CSV or .xlsx file", file=str(path))
    if not path.exists():
        raise InputError("does not exist: check the path in config", file=str(path))
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror}): check its permissions", file=str(path)) from None


def check_file_name(path: Path) -> None:
    """A sheet's file name goes into the tables (``raw_file``): refuse one a spreadsheet would run
    as a formula or that holds a control or bidirectional character."""
    name = Path(path).name
    why = hidden_reason(name) or formula_reason(name)
    if why is not None:
        raise InputError(f"the file name {why.replace('write it', 'rename the file')}", file=str(path))


# Free-text columns where a tab is allowed (in no other cell: a tab is a control character).
TAB_COLUMNS = ("note", "notes")


def hidden_text_errors(frame: pd.DataFrame, label: str) -> list[InputError]:
    """One error per header or cell holding a control character or a bidirectional override
    (:mod:`sbrtmeta.data.hidden_text`), naming the row (header = row 1), column and code point."""
    errors = [
        InputError(why, file=label, row=1, column=str(c))
        for c in frame.columns
        if (why := hidden_reason(str(c))) is not None
    ]
    for c in frame.columns:
        values = frame[c].astype(str)
        suspect = values.str.contains(HIDDEN_PATTERN, regex=True)
        for i in np.nonzero(suspect.to_numpy())[0]:
            why = hidden_reason(values.iloc[i], allow_tab=str(c) in TAB_COLUMNS)
            if why is not None:
                errors.append(InputError(why, file=label, row=int(i) + 2, column=str(c), value=values.iloc[i]))
    return errors


def _read_xlsx(path: Path, worksheet: str | None, label: str, key: str) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise InputError(
            f"is not a readable .xlsx workbook ({type(exc).__name__}); save it from Excel as .xlsx", file=str(path)
        ) from None
    with book:
        names = book.sheet_names
        if worksheet is None:
            if len(names) != 1:
                raise InputError(
                    f"has {len(names)} worksheets {names}: name the one to read ({key}: {{path: ..., worksheet: ...}})",
                    file=str(path),
                )
            worksheet_to_read = names[0]
        elif worksheet not in names:
            raise InputError(f"has no worksheet {worksheet!r}; its worksheets are {names}", file=str(path), column=None)
        else:
            worksheet_to_read = worksheet
        try:
            frame = pd.read_excel(
                book, sheet_name=worksheet_to_read, dtype=object, keep_default_na=False, na_filter=False, header=0
            )
        except pd.errors.EmptyDataError:
            raise InputError("worksheet is empty: expected a header row and data rows", file=label) from None
        except OverflowError:  # pandas makes every whole-number float an int: not infinity
            raise InputErrors(_infinite_cells(path, worksheet_to_read, label)) from None
        except (ValueError, TypeError) as exc:  # a numeric cell holding no number (<v>inf</v>)
            raise InputError(
                f"has a number cell that is not a number ({exc}); type a finite number in it", file=label
            ) from None
    if len(frame.columns) == 0:
        raise InputError("worksheet is empty: expected a header row and data rows", file=label)
    # Excel keeps numbers as numbers: show them as a user would type them (12, not 12.0).
    frame = frame.astype(object).map(_excel_text)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _infinite_cells(path: Path, worksheet: str, label: str) -> list[InputError]:
    """One error per cell of ``worksheet`` holding a float infinity (header = row 1)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book[worksheet].iter_rows(values_only=True)
        header = [str(c) if c is not None else "" for c in next(rows, ())]
        return [
            InputError(INFINITE, file=label, row=r, column=header[k] if k < len(header) else None, value=str(v))
            for r, row in enumerate(rows, start=2)
            for k, v in enumerate(row)
            if isinstance(v, float) and np.isinf(v)
        ]
    finally:
        book.close()


def _excel_text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return repr(float(value))  # a float cell read back as an int (1e+300): not 301 digits
    return str(value)  # inf, 1e-320: as Python writes them, so the checks can name them


# Text a spreadsheet would run as a formula (CSV injection): a cell starting with one of these,
# or with '-' and not a number (a lone '-', the printed sheets' "not printed", is text).
FORMULA_STARTS = {"=": "'='", "+": "'+'", "@": "'@'", "\t": "a tab", "\r": "a carriage return"}
FORMULA = "starts with {what}: a spreadsheet would run it as a formula; write it without the leading character"
DASH_FORMULA = (
    "starts with '-' and is not a number: a spreadsheet would run it as a formula; "
    "write it without the leading character"
)
NUMBER_TEXT = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def formula_reason(text: str) -> str | None:
    """Why ``text`` would run as a spreadsheet formula, or None if it would not. Leading
    whitespace (also a no-break space) is looked past: a spreadsheet may drop it."""
    if text[:1] in FORMULA_STARTS:
        return FORMULA.format(what=FORMULA_STARTS[text[:1]])
    text = text.lstrip()
    if text[:1] in FORMULA_STARTS:
        return FORMULA.format(what=FORMULA_STARTS[text[:1]])
    if text.startswith("-") and text != "-" and not re.fullmatch(NUMBER_TEXT, text):
        return DASH_FORMULA
    return None


def _leading(s: pd.Series, c: str) -> pd.Series:
    """Cells starting with ``c``, as typed or after leading whitespace (also a no-break space)."""
    s = s.astype(str)
    return s.str.startswith(c) | s.str.lstrip().str.startswith(c)


def formula_checks() -> list[pa.Check]:
    """pandera checks refusing text cells a spreadsheet would run as formulas (one check per
    leading character, so a cell fails one of them and its line says which), looking past
    leading whitespace (also a no-break space)."""
    import pandera.pandas as pa

    checks = [
        pa.Check(lambda s, c=c: ~_leading(s, c), error=FORMULA.format(what=what)) for c, what in FORMULA_STARTS.items()
    ]

    def dash(s):
        s = s.astype(str).str.lstrip()
        return ~(s.str.startswith("-") & (s != "-") & ~s.str.fullmatch(NUMBER_TEXT))

    return checks + [pa.Check(dash, error=DASH_FORMULA)]


# Error text of each DataFrame-level (several-column) check → the column its errors name.
_WIDE_CHECKS: dict[str, str | None] = {BLANK_ROW: None}


def wide_check(fn, error: str, column: str | None) -> pa.Check:
    """A pandera check over whole rows (``fn(frame) -> bool Series``) whose failures
    are reported once per row, on ``column``."""
    import pandera.pandas as pa

    _WIDE_CHECKS[error] = column
    return pa.Check(fn, error=error)


def blank_row_check() -> pa.Check:
    """A pandera check that fails every row whose cells are all empty."""
    return wide_check(lambda df: df.astype(str).apply(lambda col: col.str.strip() != "").any(axis=1), BLANK_ROW, None)


def duplicate_check(key: list[str], error: str, column: str) -> pa.Check:
    """A pandera check that fails every row repeating an earlier row's ``key``."""
    return wide_check(lambda df: ~df.duplicated([k for k in key if k in df.columns], keep="first"), error, column)


def _describe_check(check: str) -> str:
    check = str(check)
    if check.startswith("isin("):
        return "must be one of " + check[len("isin(") : -1]
    if check.startswith("str_length("):
        return "must not be empty"
    if check.startswith("str_matches("):
        return "must match " + check[len("str_matches(") : -1]
    if check == "field_uniqueness" or check.startswith("unique"):
        return "must be unique"
    if check == "column_in_dataframe":
        return "required column is missing"
    if check == "column_in_schema":
        return "column is not part of the schema (misspelt?)"
    if check.startswith("greater_than_or_equal_to("):
        return "must be at least " + check[len("greater_than_or_equal_to(") : -1]
    if check.startswith("greater_than("):
        return "must be more than " + check[len("greater_than(") : -1]
    if check.startswith("in_range("):
        return "must be in the range " + check[len("in_range(") : -1]
    return check


def _failure_case(case, wide_columns: dict, found: list) -> tuple | None:
    """``(row, column, check, value)`` of one pandera failure case, or None when ``found``
    already holds it (a row-wise check is listed once per column)."""
    idx = case.index
    row = int(idx) + 2 if idx is not None and not pd.isna(idx) else None
    column = case.column if isinstance(case.column, str) else None
    value = case.failure_case
    check = str(case.check)
    if check in ("column_in_dataframe", "column_in_schema"):
        column, value = value, None
    elif check in wide_columns and case.schema_context == "DataFrameSchema":
        # pandera lists a row-wise failure once per column (and leaves out empty
        # cells): report it once, on the check's column if listed, else the first.
        if wide_columns[check] is None:
            column, value = None, None
        prior = next((k for k, f in enumerate(found) if (f[0], f[2]) == (row, check)), None)
        if prior is not None:
            if column == wide_columns[check]:
                found[prior] = (row, column, check, value)
            return None
    if row is None and isinstance(value, (bool, np.bool_)):  # a check on the whole column
        value = None
    if value is not None and not isinstance(value, str) and pd.isna(value):
        value = ""
    return row, column, check, value


def _misspelt_headers(found: list) -> list:
    """A misspelt header is one fault, not two: name the missing column it was meant to be."""
    missing = [column for _, column, check, _ in found if check == "column_in_dataframe"]
    meant = {}
    for _, column, check, _ in found:
        close = difflib.get_close_matches(column, missing, n=1, cutoff=0.6) if check == "column_in_schema" else []
        if close:
            missing.remove(close[0])
            meant[column] = close[0]
    return [
        (row, column, f"column is not part of the schema (misspelt? {meant[column]!r} is missing)", value)
        if check == "column_in_schema" and column in meant
        else (row, column, check, value)
        for row, column, check, value in found
        if not (check == "column_in_dataframe" and column in meant.values())
    ]


def _sheet_order_errors(found: list, columns, wide_columns: dict, label: str) -> list[InputError]:
    """The failures in sheet order, once each. A cell that breaks a rule of its own column is
    reported for that; rules across columns (events <= n, rate = events / n ...) are reported
    only on rows whose cells are sound. A blank row gives only :data:`BLANK_ROW`."""
    blank = {row for row, _, check, _ in found if check == BLANK_ROW}
    order = {c: i for i, c in enumerate(columns)}
    own = {row for row, column, check, _ in found if check not in wide_columns}
    seen, errors = set(), []
    for row, column, check, value in sorted(
        found, key=lambda f: (f[0] or 0, order.get(f[1], -1), f[2] in wide_columns, f[2])
    ):
        if row in blank and check != BLANK_ROW:
            continue
        if check in wide_columns and row in own and check != BLANK_ROW:
            continue
        key = (row, column, check)
        if key in seen:
            continue
        seen.add(key)
        errors.append(InputError(_describe_check(check), file=label, row=row, column=column, value=value))
    return errors


def schema_failures(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, label: str, wide_columns: dict[str, str | None] | None = None
) -> list[InputError]:
    """Validate ``frame`` with ``schema`` (lazily: every failure at once) and return
    one :class:`InputError` per failing cell, in sheet order.

    A DataFrame-level check made by :func:`wide_check` (one that looks at several
    columns) gives one line per failing row, on its column (``wide_columns`` adds
    more). A blank row gives only :data:`BLANK_ROW`.
    """
    import pandera.pandas as pa

    wide_columns = {**_WIDE_CHECKS, **(wide_columns or {})}
    try:
        schema.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    found = []
    for case in cases.itertuples(index=False):
        failure = _failure_case(case, wide_columns, found)
        if failure is not None:
            found.append(failure)
    return _sheet_order_errors(_misspelt_headers(found), frame.columns, wide_columns, label)


def validate_table(frame: pd.DataFrame, schema: pa.DataFrameSchema, label: str) -> pd.DataFrame:
    """Validate ``frame``; raise :class:`InputErrors` listing every failure (up to a
    limit), each naming file, row, column and value."""
    errors = schema_failures(frame, schema, label)
    if errors:
        raise InputErrors(errors)
    return frame
