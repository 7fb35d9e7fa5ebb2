"""The project's own error for bad input: it names where and what."""

from __future__ import annotations


class InputError(ValueError):
    """A value in an input file that the workflow refuses.

    The message is one line naming the file, row, column and value, and the
    rule the value broke, so a user can go straight to the cell.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | str | None = None,
                 column: str | None = None, value: object = None):
        self.file, self.row, self.column, self.value = file, row, column, value
        self.reason = message
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {value!r}")
        super().__init__((", ".join(where) + ": " if where else "") + message)


class CellParseError(ValueError):
    """A printed cell that does not parse; the caller adds file, row and column."""
