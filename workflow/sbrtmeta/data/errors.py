"""The project's own error for bad input: it names where and what."""

from __future__ import annotations


class InputError(ValueError):
    """A value in an input file that the workflow refuses.

    The message is one line naming the file, row, column and value, and the
    rule the value broke, so a user can go straight to the cell.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | str | None = None,
        column: str | None = None,
        value: object = None,
    ):
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


MAX_REPORTED_ERRORS = 20


class InputErrors(InputError):
    """Several :class:`InputError` found in one pass, reported together.

    The message has one line per error, up to ``limit`` lines per file, then
    ``<file>: ... and N more``, so a user can fix a whole sheet in one go.
    """

    def __init__(self, errors, limit: int = MAX_REPORTED_ERRORS):
        self.errors = list(errors)
        if not self.errors:
            raise ValueError("InputErrors needs at least one error")
        self.limit = limit
        by_file: dict[object, list[InputError]] = {}
        for e in self.errors:
            by_file.setdefault(e.file, []).append(e)
        lines = []
        for file, errs in by_file.items():
            lines += [str(e) for e in errs[:limit]]
            if len(errs) > limit:
                lines.append(
                    f"{file}: ... and {len(errs) - limit} more" if file else f"... and {len(errs) - limit} more"
                )
        first = self.errors[0]
        ValueError.__init__(self, "\n".join(lines))
        self.file, self.row, self.column, self.value = first.file, first.row, first.column, first.value
        self.reason = first.reason


def raise_collected(errors, limit: int = MAX_REPORTED_ERRORS) -> None:
    """Raise the collected errors: the error itself when there is one, else :class:`InputErrors`."""
    errors = list(errors)
    if len(errors) == 1 and not isinstance(errors[0], InputErrors):
        raise errors[0]
    if errors:
        flat = []
        for e in errors:
            flat += e.errors if isinstance(e, InputErrors) else [e]
        raise InputErrors(flat, limit)
