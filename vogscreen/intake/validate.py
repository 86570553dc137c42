"""Row-by-row validation of a staff list.

:func:`validate_table` walks every row and collects *every* problem rather than stopping at
the first, so a board can fix its file in one go. Cell text that could be a BSN or a date
is never echoed (:func:`problems.quoted`); rows are named by line number and
personeelsnummer.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from stdnum import exceptions as stdnum_errors
from stdnum.nl import brin as stdnum_brin
from stdnum.nl import bsn as stdnum_bsn

from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p
from vogscreen.intake.columns import REQUIRED, canonical
from vogscreen.intake.problems import Problem
from vogscreen.intake.reading import Table

_SECRET_FIELDS = frozenset({"bsn", "birth_date"})


class StaffRow(NamedTuple):
    """One valid row. ``bsn`` and ``birth_date`` are kept out of ``repr`` (and so out of any
    log line that shows a row by accident).

    A named tuple rather than a frozen dataclass: a first load builds one per row, and a
    tuple is built about six times faster (0.3 against 2 µs).
    """

    line: int
    bsn: str
    birth_date: dt.date
    surname: str
    prefix: str | None = None
    initials: str | None = None
    first_names: str | None = None
    personeelsnummer: str | None = None
    brin: str | None = None
    function: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    vog_date: dt.date | None = None

    def __repr__(self) -> str:
        shown = (
            f"{name}={value!r}"
            for name, value in zip(self._fields, self, strict=True)
            if name not in _SECRET_FIELDS
        )
        return f"StaffRow({', '.join(shown)})"


@dataclass
class Validated:
    rows: list[StaffRow]
    problems: list[Problem]
    row_count: int


_MAX_LENGTH = {
    "achternaam": 200,
    "tussenvoegsel": 50,
    "voorletters": 50,
    "voornamen": 200,
    "personeelsnummer": 50,
    "functie": 200,
}
# The shape nearly every date has; see _date_from_text.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_PATTERNS = (
    # A database export may add a midnight time: 1980-05-17 00:00:00.
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), (3, 2, 1)),
)
# A personeelsnummer is shown in reports, pages and e-mail subjects, so it may not be a
# BSN or a date in disguise: these separators are ignored when it is compared with a BSN.
_NUMBER_SEPARATORS = str.maketrans("", "", ".-/ ")
_DATE_SHAPES = (
    re.compile(r"(?P<d>\d{1,2})[-./](?P<m>\d{1,2})[-./](?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serials below this (1927) are far more likely a year or a stray number than a date.
_SERIAL_FROM = 10_000
# Line breaks and the other C0 controls (not tab), DEL, and what str.splitlines() also
# breaks on: in a value they could end up as a header line of an email or a report.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
# Excel writes every delimiter in the first 16 rows of a sheet, but may leave out those of
# the empty cells at the end of a later row: only such a row may be shorter than the header.
_EXCEL_FULL_ROWS = 16
# How many of the header's names a missing_column message lists.
_DESCRIBED_NAMES = 30
_OLDEST_BIRTH_DATE = dt.date(1900, 1, 1)
_YOUNGEST_AGE_YEARS = 12


class _RowProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


def _text(cell: Cell) -> str:
    if type(cell) is str:  # every CSV cell: skip the checks for the other kinds
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell).strip()


def parse_bsn(cell: Cell) -> str:
    if isinstance(cell, float) and not cell.is_integer():
        raise _RowProblem(p.BSN_INVALID, "the BSN is not a whole number")
    return _bsn_from_text(_text(cell))


def _bsn_from_text(raw: str) -> str:
    if raw.isascii() and raw.isdigit():
        digits = raw  # the usual case, which none of the clean-ups below would change
    else:
        if "e+" in raw.lower():
            raise _RowProblem(
                p.BSN_INVALID,
                "the BSN is in scientific notation (digits were lost in a spreadsheet); "
                "format the column as text and export again",
            )
        digits = raw.replace(" ", "").replace(".", "").replace("-", "")
        if not (digits.isascii() and digits.isdigit()):
            raise _RowProblem(p.BSN_INVALID, "the BSN contains characters other than digits")
    if len(digits) == 8:  # a spreadsheet dropped the leading zero
        digits = "0" + digits
    if len(digits) != 9:
        raise _RowProblem(p.BSN_INVALID, f"the BSN has {len(digits)} digits instead of 9")
    # stdnum's own 11-check on the digits we already cleaned (its is_valid cleans again).
    if stdnum_bsn.checksum(digits) != 0 or digits == "000000000":
        raise _RowProblem(p.BSN_INVALID, "the BSN fails the 11-check (elfproef)")
    return digits


def parse_date(cell: Cell, *, secret: bool = False) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    # A date cell that lost its format in XLSX arrives as an Excel serial number.
    if (
        isinstance(cell, int | float)
        and not isinstance(cell, bool)
        and _SERIAL_FROM <= cell < 2_958_466
    ):
        return _EXCEL_EPOCH + dt.timedelta(days=int(cell))
    raw = _text(cell)
    if not raw:
        return None
    return _birth_date_from_text(raw) if secret else _date_from_plain_text(raw)


def has_control_character(text: str) -> bool:
    # isprintable() is a fast pass for the usual value; a tab or an NBSP fails it harmlessly.
    return not text.isprintable() and _CONTROL.search(text) is not None


def _birth_date_from_text(raw: str) -> dt.date:
    # Not cached: birth dates hardly repeat, so a cache would only push the other dates out.
    return _date_from_text(raw)


@functools.lru_cache(maxsize=16_384)
def _date_from_plain_text(raw: str) -> dt.date:
    """Start and VOG dates repeat a lot within a file: parse each text once."""
    return _date_from_text(raw)


def _date_from_text(raw: str) -> dt.date:
    # The C parser reads the usual YYYY-MM-DD several times faster than the regexes. Only
    # that exact shape: Python 3.11's fromisoformat also takes 20240101 and week dates,
    # which the format does not allow.
    if _ISO_DATE.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass  # a day that does not exist: the regexes below word that problem
    # Never the text itself: any date could be a birth date in the wrong column.
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            try:
                return dt.date(int(match[y]), int(match[m]), int(match[d]))
            except ValueError:
                raise _RowProblem(p.DATE_INVALID, "the value is not a date that exists") from None
    raise _RowProblem(p.DATE_INVALID, "the value is not a date (use YYYY-MM-DD or DD-MM-YYYY)")


def parse_brin(cell: Cell) -> str | None:
    raw = _text(cell)
    if not raw:
        return None
    return _brin_from_text(raw)


@functools.lru_cache(maxsize=4096)
def _brin_from_text(raw: str) -> str:
    """A board has a handful of schools: check each distinct code once."""
    try:
        return str(stdnum_brin.validate(raw))
    except stdnum_errors.ValidationError:
        raise _RowProblem(
            p.BRIN_INVALID,
            f"{p.quoted(raw)} is not a BRIN code "
            "(2 digits and 2 letters, optionally 2 more digits)",
        ) from None


def personeelsnummer_problem(number: str, bsn: str | None) -> _RowProblem | None:
    """Why ``number`` cannot be a personeelsnummer, or None.

    Refused: anything shaped like a date; the row's own BSN, however written; and a number
    written the way a BSN is (``725.763.863``, ``7257 63 863``: 9 digits, or 8 that lost the
    leading zero, with separators) that passes the 11-check. Plain 8 or 9 digits are common
    real personeelsnummers and one in eleven passes the 11-check by chance: refusing those
    would reject whole files of some HR systems, so they pass unless they are the row's BSN.
    """
    for shape in _DATE_SHAPES:
        match = shape.fullmatch(number)
        if match and 1 <= int(match["m"]) <= 12 and 1 <= int(match["d"]) <= 31:
            return _RowProblem(
                p.PERSONEELSNUMMER_LIKE_DATE,
                "the personeelsnummer looks like a date (a birth date in the wrong column?); "
                "reports and e-mails show the personeelsnummer, so give the number from the "
                "HR system, or leave it empty",
            )
    digits = number.translate(_NUMBER_SEPARATORS)
    if digits.isascii() and digits.isdigit() and len(digits) in (8, 9):
        padded = digits.zfill(9)
        written_as_bsn = digits != number and stdnum_bsn.is_valid(padded)
        if padded == bsn or written_as_bsn:
            return _RowProblem(
                p.PERSONEELSNUMMER_LIKE_BSN,
                "the personeelsnummer is a BSN, or looks like one (it passes the 11-check); "
                "reports and e-mails show the personeelsnummer, so give the number from the "
                "HR system, or leave it empty",
            )
    return None


def _optional_text(cell: Cell) -> str | None:
    return _text(cell) or None


def _birth_date(cell: Cell) -> dt.date | None:
    return parse_date(cell, secret=True)


_TextParser = Callable[[str], object]
_CellParser = Callable[[Cell], object]

# Per canonical column: the StaffRow field it fills, how its text is parsed when the cell is
# a str (stripped, never empty: an empty cell is missing or None) and how any other kind of
# cell is; a text parser of None keeps the text itself. The order is the order problems are
# reported in, within a row.
_PARSERS: tuple[tuple[str, str, _TextParser | None, _CellParser], ...] = (
    ("bsn", "bsn", _bsn_from_text, parse_bsn),
    ("geboortedatum", "birth_date", _birth_date_from_text, _birth_date),
    ("achternaam", "surname", None, _optional_text),
    ("tussenvoegsel", "prefix", None, _optional_text),
    ("voorletters", "initials", None, _optional_text),
    ("voornamen", "first_names", None, _optional_text),
    ("personeelsnummer", "personeelsnummer", None, _optional_text),
    ("functie", "function", None, _optional_text),
    ("brin", "brin", _brin_from_text, parse_brin),
    ("datum_in_dienst", "start_date", _date_from_plain_text, parse_date),
    ("datum_uit_dienst", "end_date", _date_from_plain_text, parse_date),
    ("vog_datum", "vog_date", _date_from_plain_text, parse_date),
)
# StaffRow's fields after ``line``: a row's values are collected in this order and passed
# positionally, which is cheaper than a dict per row.
_ROW_FIELDS = list(StaffRow._fields[1:])
_BSN, _BIRTH_DATE, _PERSONEELSNUMMER, _START_DATE, _END_DATE, _VOG_DATE = (
    _ROW_FIELDS.index(name)
    for name in ("bsn", "birth_date", "personeelsnummer", "start_date", "end_date", "vog_date")
)


class _Field(NamedTuple):
    """One column of the file as a row is validated: resolved once per file."""

    column: str
    value_index: int
    position: int
    label: str
    required: bool
    limit: int | None
    from_text: _TextParser | None
    from_cell: _CellParser


def _described(header: list[str]) -> str:
    """What the header holds, for a missing column; never values that could be secret."""
    if any(p.could_be_secret(name) or has_control_character(name) for name in header):
        return (
            "the first line holds values, not column names: a title above the header, "
            "or no header row at all?"
        )
    names = [p.excerpt(name) for name in header if name]
    if len(names) > _DESCRIBED_NAMES:
        names[_DESCRIBED_NAMES:] = [f"and {len(names) - _DESCRIBED_NAMES} more"]
    return f"the header has: {', '.join(names) or 'nothing'}"


class _Columns:
    """Where each canonical column sits in the file's header."""

    def __init__(self, header: list[str], header_line: int) -> None:
        self.index: dict[str, int] = {}
        self.label: dict[str, str] = {}
        self.problems: list[Problem] = []
        for position, name in enumerate(header):
            column = canonical(name)
            if column is None:
                continue
            if has_control_character(name):
                self.problems.append(_control_character(header_line, column, column))
                continue
            if column in self.index:
                first = self.label[column]
                self.problems.append(
                    Problem(
                        header_line,
                        name,
                        p.DUPLICATE_COLUMN,
                        f"columns {p.quoted(first)} and {p.quoted(name)} both stand for "
                        f"{column}; keep one",
                    )
                )
                continue
            self.index[column] = position
            self.label[column] = name
        self.plan = [
            _Field(
                column,
                _ROW_FIELDS.index(name),
                self.index[column],
                self.label[column],
                column in REQUIRED,
                _MAX_LENGTH.get(column),
                from_text,
                from_cell,
            )
            for column, name, from_text, from_cell in _PARSERS
            if column in self.index
        ]
        for column in REQUIRED:
            if column not in self.index:
                self.problems.append(
                    Problem(
                        header_line,
                        column,
                        p.MISSING_COLUMN,
                        f"the required column {column!r} is missing ({_described(header)})",
                    )
                )


def _control_character(line: int, label: str, column: str) -> Problem:
    return Problem(
        line,
        label,
        p.CONTROL_CHARACTER,
        f"{column} contains a line break or another control character; a value must be "
        "one line of plain text",
    )


def _row_length(line: int, cells: list[Cell], width: int, code: str) -> Problem:
    return Problem(
        line,
        None,
        code,
        f"the row has {len(cells)} values but the header has {width} columns "
        "(a cut-off line, or a delimiter missing)",
    )


def validate_table(table: Table, *, today: dt.date) -> Validated:
    columns = _Columns(table.header, table.header_line)
    problems = list(columns.problems)
    width = len(table.header)
    rows: list[StaffRow] = []
    seen_bsn: dict[str, tuple[int, str | None]] = {}
    seen_number: dict[str, int] = {}
    row_count = 0
    structural = bool(problems)
    # Excel leaves out the delimiters of empty cells at the end of rows after the 16th (see
    # _EXCEL_FULL_ROWS); a short row is wrong when it lacks a required column (short_row),
    # and otherwise when Excel cannot have cut it (row_length).
    required_width = 0 if structural else 1 + max(columns.index[name] for name in REQUIRED)
    for line, cells in table.rows:
        if not any(map(_text, cells)):
            continue  # blank lines, as spreadsheets leave them
        row_count += 1
        if structural:
            continue
        row_problems: list[Problem] = []
        if table.kind == "csv" and len(cells) < required_width:
            row_problems.append(_row_length(line, cells, width, p.SHORT_ROW))
        elif table.kind == "csv" and len(cells) < width and not _cut_by_excel(cells, line, table):
            row_problems.append(_row_length(line, cells, width, p.ROW_LENGTH))
        elif len(cells) > width and any(map(_text, cells[width:])):
            row_problems.append(
                Problem(
                    line,
                    None,
                    p.LONG_ROW,
                    f"the row has values beyond the {width} columns of the header "
                    "(a delimiter inside a value that is not quoted?)",
                )
            )
        if row_problems:
            problems.extend(row_problems)
            continue
        row = _validate_row(line, cells, columns, today, row_problems)
        if row is not None:
            first = seen_bsn.get(row.bsn)
            if first is not None:
                row_problems.append(
                    Problem(
                        line,
                        columns.label["bsn"],
                        p.DUPLICATE_BSN,
                        f"the same BSN as line {first[0]}{p.named(first[1])}; "
                        "a person may appear once",
                    )
                )
            else:
                seen_bsn[row.bsn] = (line, row.personeelsnummer)
            if row.personeelsnummer:
                earlier = seen_number.setdefault(row.personeelsnummer, line)
                if earlier != line:
                    row_problems.append(
                        Problem(
                            line,
                            columns.label["personeelsnummer"],
                            p.DUPLICATE_PERSONEELSNUMMER,
                            f"the personeelsnummer{p.named(row.personeelsnummer, ' {}')} "
                            f"is also on line {earlier}, for another person",
                        )
                    )
        if row_problems:
            problems.extend(row_problems)
        elif row is not None:
            rows.append(row)
    if row_count == 0 and not structural:
        problems.append(
            Problem(table.header_line, None, p.NO_ROWS, "the file has a header but no rows")
        )
    return Validated(rows=rows, problems=problems, row_count=row_count)


def _cut_by_excel(cells: list[Cell], line: int, table: Table) -> bool:
    """Whether a short row can be one whose empty cells at the end Excel left out: it lies
    after the 16th row of the sheet, and ends in a value (Excel leaves out every empty one)."""
    last = cells[-1] if cells else None
    return line - table.header_line >= _EXCEL_FULL_ROWS and bool(_text(last))


def _validate_row(
    line: int,
    cells: list[Cell],
    columns: _Columns,
    today: dt.date,
    problems: list[Problem],
) -> StaffRow | None:
    values: list[Any] = [None] * len(_ROW_FIELDS)
    width = len(cells)
    for column, value_index, position, label, required, limit, from_text, from_cell in columns.plan:
        cell = cells[position] if position < width else None
        if type(cell) is str and has_control_character(cell):
            problems.append(_control_character(line, label, column))
            continue
        # The text of a cell is taken once; a CSV cell is always a str, so that is the fast
        # path, and other kinds (XLSX numbers and dates) go to the parsers for whole cells.
        text = cell.strip() if type(cell) is str else _text(cell)
        if not text:
            if required:
                problems.append(Problem(line, label, p.MISSING_VALUE, f"{column} is empty"))
            continue
        if from_text is None:
            values[value_index] = text
            if limit and len(text) > limit:
                problems.append(
                    Problem(line, label, p.VALUE_TOO_LONG, f"{column} is longer than {limit}")
                )
            continue
        try:
            values[value_index] = from_text(text) if type(cell) is str else from_cell(cell)
        except _RowProblem as problem:
            problems.append(Problem(line, label, problem.code, problem.message))

    number = values[_PERSONEELSNUMMER]
    if number is not None:
        refused = personeelsnummer_problem(number, values[_BSN])
        if refused is not None:
            label = columns.label["personeelsnummer"]
            problems.append(Problem(line, label, refused.code, refused.message))
    birth = values[_BIRTH_DATE]
    if birth is not None:
        label = columns.label["geboortedatum"]
        if birth > today:
            problems.append(
                Problem(line, label, p.DATE_IN_FUTURE, "the birth date lies in the future")
            )
        elif birth < _OLDEST_BIRTH_DATE or birth.year > today.year - _YOUNGEST_AGE_YEARS:
            problems.append(
                Problem(line, label, p.DATE_IMPLAUSIBLE, "the birth date is not plausible")
            )
    vog = values[_VOG_DATE]
    if vog is not None and vog > today:
        problems.append(
            Problem(
                line,
                columns.label["vog_datum"],
                p.DATE_IN_FUTURE,
                "the VOG date lies in the future",
            )
        )
    start, end = values[_START_DATE], values[_END_DATE]
    if start is not None and end is not None and end < start:
        problems.append(
            Problem(
                line,
                columns.label["datum_uit_dienst"],
                p.DATE_ORDER,
                "datum_uit_dienst is before datum_in_dienst",
            )
        )
    if problems:
        return None
    return StaffRow(line, *values)
