"""What can be wrong with a staff list, and how it is reported.

A problem names a line and a column of the file, a stable code that programs can act on,
and a message for people. Messages never contain a BSN or a birth date: rows are referred
to by line number and personeelsnummer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

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
BIRTH_DATE_MISMATCH = "birth_date_mismatch"
DATE_INVALID = "date_invalid"
DATE_IN_FUTURE = "date_in_future"
DATE_IMPLAUSIBLE = "date_implausible"
DATE_ORDER = "date_order"
BRIN_INVALID = "brin_invalid"
VALUE_TOO_LONG = "value_too_long"


@dataclass(frozen=True)
class Problem:
    line: int | None
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FileProblem(Exception):
    """The file as a whole cannot be read; raised by the readers, caught by intake."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(line=None, column=None, code=code, message=message)
