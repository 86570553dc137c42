"""What can be wrong with a staff list, and how it is reported.

A problem names a line and a column of the file, a stable code that programs can act on,
a message for people (what is wrong) and a hint (how to fix it). Message and hint are
:class:`~vogscreen.domain.language.Text`: an English id and its values, read in Dutch or
English only when a report is shown (:meth:`Problem.as_dict`), and stored as they are
(:meth:`Problem.stored`), so a stored report can be shown later in either language. The
hint is the code's own (:data:`HINTS`) unless the problem brings one.

Messages never contain a BSN or a birth date: rows are referred to by line number and
personeelsnummer, and cell text is quoted only through :func:`quoted`. As a last line of
defence every problem's values pass through the redaction the logs get
(:func:`vogscreen.domain.redact.scrub_bsn_like`) when it is made, and every rendered report
once more, so no report can carry a BSN-shaped number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from vogscreen.domain import language as lang
from vogscreen.domain.language import Text, msg
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

# How to fix a problem of each code, for the board's HR: what to do, not what is wrong.
HINTS: dict[str, Text] = {
    UNKNOWN_BOARD: msg(
        "Check the board number (the DUO number of 5 digits) and hand the list in again."
    ),
    FILE_TOO_LARGE: msg(
        "Hand in only the staff list itself, as CSV or XLSX, without other sheets or "
        "images. If the list really is this large, ask the operators to raise the limit."
    ),
    EMPTY_FILE: msg(
        "Export the staff list again from the HR system and check that the file holds a "
        "header row and a row for every employee."
    ),
    NO_ROWS: msg(
        "Add a row for every employee below the header row, or export the list again from "
        "the HR system."
    ),
    NOT_A_TABLE: msg(
        "Open the file in Excel (or in the HR system), save it as .xlsx or as CSV UTF-8 and "
        "hand in that file."
    ),
    LEGACY_EXCEL: msg(
        "In Excel, choose Save As and pick Excel Workbook (.xlsx) or CSV UTF-8, then hand "
        "in the new file."
    ),
    PASSWORD_PROTECTED: msg(
        "Remove the password in Excel (File, Info, Protect Workbook) or save the list as "
        "CSV, and hand it in again."
    ),
    XLSX_DAMAGED: msg(
        "Open the file in Excel. If it opens, save it again as .xlsx or CSV; if it does "
        "not, export the list again from the HR system."
    ),
    XLSX_TOO_LARGE: msg(
        "Remove other sheets, images and formatting from the workbook, or save the staff "
        "list as CSV, and hand it in again."
    ),
    ENCODING: msg(
        "Export the list again as CSV UTF-8 (in Excel: Save As, CSV UTF-8), in one go and "
        "without pasting in parts of other files."
    ),
    STRAY_QUOTE: msg(
        "Remove the stray double quote on that line, or put the whole value in double "
        "quotes and write every double quote inside it twice."
    ),
    MISSING_COLUMN: msg(
        "Add a column with exactly this name to the header row (the first line), or give "
        "the column your HR system uses for it this name."
    ),
    DUPLICATE_COLUMN: msg("Remove one of the two columns, so that every column appears once."),
    SHORT_ROW: msg(
        "Export the file again, in full. If the line was edited by hand, give every column "
        "a value (or an empty value)."
    ),
    LONG_ROW: msg(
        "Put values that contain the delimiter (; or ,) in double quotes, or remove the "
        "extra values at the end of the line."
    ),
    MISSING_VALUE: msg(
        "Fill in this value for the employee; the BSN, the birth date and the surname are required."
    ),
    BSN_INVALID: msg(
        "Check the BSN against the HR system or the employee's identity document and "
        "correct it. In a spreadsheet, format the column as text so that leading zeros "
        "are kept."
    ),
    DUPLICATE_BSN: msg(
        "Keep one row for each person: remove the second row, or correct the BSN if it "
        "belongs to someone else."
    ),
    DUPLICATE_PERSONEELSNUMMER: msg(
        "Give every employee their own personeelsnummer, as in the HR system."
    ),
    PERSONEELSNUMMER_LIKE_BSN: msg(
        "Fill in the personeelsnummer from the HR system, or leave it empty."
    ),
    PERSONEELSNUMMER_LIKE_DATE: msg(
        "Fill in the personeelsnummer from the HR system, or leave it empty."
    ),
    BIRTH_DATE_MISMATCH: msg(
        "Check the BSN and the birth date against the employee's identity document. If "
        "the birth date known to vogscreen is wrong, contact the operators."
    ),
    DATE_INVALID: msg("Write the date as YYYY-MM-DD (2024-08-01) or DD-MM-YYYY (01-08-2024)."),
    DATE_IN_FUTURE: msg("Check the date: a birth date or a VOG date cannot lie in the future."),
    DATE_IMPLAUSIBLE: msg(
        "Check the birth date: is it in the right column, with the year written in full?"
    ),
    DATE_ORDER: msg("Check both dates: the date of leaving cannot lie before the date of joining."),
    BRIN_INVALID: msg(
        "Use the school's BRIN code as DUO gives it, such as 12AB or 12AB01, or leave the "
        "cell empty."
    ),
    VALUE_TOO_LONG: msg("Shorten the value (was something else pasted into the cell?)."),
    CONTROL_CHARACTER: msg(
        "Remove the line break (Alt+Enter in Excel) or other invisible character from the cell."
    ),
    FIELD_TOO_LARGE: msg(
        "Remove the long text from the cell, or close the quote that was opened, and "
        "export the file again."
    ),
    ROW_LENGTH: msg(
        "Export the file again. If the line was edited by hand, check that the values are "
        "separated by the delimiter."
    ),
    NO_VISIBLE_SHEET: msg(
        "Unhide the sheet with the staff list (right-click a sheet tab, Unhide), or save "
        "that sheet as CSV."
    ),
    NOT_A_REGULAR_FILE: msg(
        "Put the staff list itself in the folder, as an ordinary file (a copy, not a link)."
    ),
    UNREADABLE: msg("Export the file again. If it fails again, contact the operators."),
}

# Four digits or more: a value that could be (part of) a BSN or a date.
_NUMBER_LIKE = re.compile(r"(?:\d\D*){4}")
# How much of a text a message may quote.
_EXCERPT = 40


def could_be_secret(text: str) -> bool:
    """Whether cell text could be a BSN or a date, and so must never be quoted."""
    return _NUMBER_LIKE.search(text) is not None


def quoted(text: str) -> str | None:
    """``text`` in quotes for a message, or None when it could be a BSN or a date (the
    message then says "the value"); a long text only by its start (a whole document may
    have been pasted into a cell)."""
    if could_be_secret(text):
        return None
    return repr(excerpt(text))


def excerpt(text: str) -> str:
    """The start of ``text``, short enough for a message."""
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def named(personeelsnummer: str | None, shape: str = " (personeelsnummer {})") -> str:
    """A row's personeelsnummer for a message, in ``shape``; nothing when the row has none or
    it could be a BSN or a date (a number stored before such numbers were refused)."""
    if not personeelsnummer or could_be_secret(personeelsnummer):
        return ""
    return shape.format(repr(excerpt(personeelsnummer)))


def duplicate_bsn(first: int, personeelsnummer: str | None) -> Text:
    """The second row of a person: which line was the first (and its personeelsnummer)."""
    return msg(
        "the same BSN as line %(line)s%(named)s; a person may appear once",
        line=first,
        named=named(personeelsnummer),
    )


def duplicate_personeelsnummer(personeelsnummer: str | None, earlier: int) -> Text:
    return msg(
        "the personeelsnummer%(named)s is also on line %(line)s, for another person",
        named=named(personeelsnummer, " {}"),
        line=earlier,
    )


def redacted(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as the logs would show them: every BSN-shaped number replaced."""
    return dict(scrub_bsn_like(None, "report", fields))


def _clean(text: Text) -> Text:
    return replace(text, params=redacted(dict(text.params)))


def _stored_text(stored: Any) -> Text:
    """A stored message: a Text as stored, or the English text of a list rejected before
    messages were stored as Text (shown as it is, in every language)."""
    if isinstance(stored, Mapping):
        return Text.from_dict(stored)
    return Text(str(stored).replace("%", "%%"))


@dataclass(frozen=True)
class Problem:
    line: int | None
    column: str | None
    code: str
    message: Text
    hint: Text | None = None  # None: the code's own hint

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", redacted({"column": self.column})["column"])
        object.__setattr__(self, "message", _clean(self.message))
        hint = self.hint if self.hint is not None else HINTS.get(self.code)
        object.__setattr__(self, "hint", None if hint is None else _clean(hint))

    def as_dict(self, language: str = lang.DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The problem as a report shows it: message and hint read in ``language``."""
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message.render(language),
            "hint": self.hint.render(language) if self.hint is not None else None,
        }

    def stored(self) -> dict[str, Any]:
        """The problem as a rejected list keeps it, to be read later in any language."""
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message.as_dict(),
            "hint": self.hint.as_dict() if self.hint is not None else None,
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Problem:
        hint = stored.get("hint")
        return cls(
            stored.get("line"),
            stored.get("column"),
            str(stored.get("code") or ""),
            _stored_text(stored.get("message") or ""),
            None if hint is None else _stored_text(hint),
        )


class FileProblem(Exception):
    """The file as a whole cannot be read; raised by the readers, caught by intake."""

    def __init__(self, code: str, message: Text) -> None:
        self.problem = Problem(line=None, column=None, code=code, message=message)
        super().__init__(str(self.problem.message))
