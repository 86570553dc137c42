"""What can be wrong with a staff list, and how it is reported.

A problem names a line and a column of the file, a stable code that programs can act on,
and a message for people. Messages never contain a BSN or a birth date: rows are referred
to by line number and personeelsnummer, and cell text is quoted only through
:func:`quoted`. As a last line of defence every problem passes through the redaction the
logs get (:func:`vogscreen.runtime.logs.scrub_bsn_like`) when it is made, so no report can carry a
BSN-shaped number.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from vogscreen.domain.redact import scrub_bsn_like

# Stable codes; they appear in --report-json and in the documentation.
UNKNOWN_BOARD = "unknown_board"
FILE_TOO_LARGE = "file_too_large"
EMPTY_FILE = "empty_file"
NO_ROWS = "no_rows"
NOT_A_TABLE = "not_a_table"
LEGACY_EXCEL = "legacy_excel"
PASSWORD_PROTECTED = "password_protected"
XLSX_DAMAGED = "xlsx_damaged"
XLSX_TOO_LARGE = "xlsx_too_large"
ENCODING = "encoding"
STRAY_QUOTE = "stray_quote"
MISSING_COLUMN = "missing_column"
DUPLICATE_COLUMN = "duplicate_column"
SHORT_ROW = "short_row"
LONG_ROW = "long_row"
MISSING_VALUE = "missing_value"
BSN_INVALID = "bsn_invalid"
DUPLICATE_BSN = "duplicate_bsn"
DUPLICATE_PERSONEELSNUMMER = "duplicate_personeelsnummer"
PERSONEELSNUMMER_LIKE_BSN = "personeelsnummer_like_bsn"
PERSONEELSNUMMER_LIKE_DATE = "personeelsnummer_like_date"
BIRTH_DATE_MISMATCH = "birth_date_mismatch"
DATE_INVALID = "date_invalid"
DATE_IN_FUTURE = "date_in_future"
DATE_IMPLAUSIBLE = "date_implausible"
DATE_ORDER = "date_order"
BRIN_INVALID = "brin_invalid"
VALUE_TOO_LONG = "value_too_long"
CONTROL_CHARACTER = "control_character"
FIELD_TOO_LARGE = "field_too_large"
ROW_LENGTH = "row_length"
NO_VISIBLE_SHEET = "no_visible_sheet"
NOT_A_REGULAR_FILE = "not_a_regular_file"
UNREADABLE = "unreadable"

# Four digits or more: a value that could be (part of) a BSN or a date.
_NUMBER_LIKE = re.compile(r"(?:\d\D*){4}")
# How much of a text a message may quote.
_EXCERPT = 40


def could_be_secret(text: str) -> bool:
    """Whether cell text could be a BSN or a date, and so must never be quoted."""
    return _NUMBER_LIKE.search(text) is not None


def quoted(text: str, instead: str = "the value") -> str:
    """``text`` in quotes for a message, or ``instead`` when it could be a BSN or a date; a
    long text only by its start (a whole document may have been pasted into a cell)."""
    if could_be_secret(text):
        return instead
    return repr(excerpt(text))


def excerpt(text: str) -> str:
    """The start of ``text``, short enough for a message."""
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def named(personeelsnummer: str | None, shape: str = " (personeelsnummer {})") -> str:
    """A row's personeelsnummer for a message, in ``shape``; nothing when the row has none or
    it could be a BSN or a date (a number stored before such numbers were refused)."""
    if not personeelsnummer or could_be_secret(personeelsnummer):
        return ""
    return shape.format(quoted(personeelsnummer))


def redacted(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as the logs would show them: every BSN-shaped number replaced."""
    return dict(scrub_bsn_like(None, "report", fields))


@dataclass(frozen=True)
class Problem:
    line: int | None
    column: str | None
    code: str
    message: str

    def __post_init__(self) -> None:
        clean = redacted({"column": self.column, "message": self.message})
        object.__setattr__(self, "column", clean["column"])
        object.__setattr__(self, "message", clean["message"])

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FileProblem(Exception):
    """The file as a whole cannot be read; raised by the readers, caught by intake."""

    def __init__(self, code: str, message: str) -> None:
        self.problem = Problem(line=None, column=None, code=code, message=message)
        super().__init__(self.problem.message)
