"""Row-by-row validation of a staff list.

:func:`validate_table` walks every row and collects *every* problem rather than stopping at
the first, so a board can fix its file in one go. Cell text that could be a BSN or a date
is never echoed (:func:`problems.quoted`); rows are named by line number and
personeelsnummer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from vogscreen.domain.language import msg
from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p
from vogscreen.intake.cells import (
    RowProblem,
    birth_date_from_text,
    brin_from_text,
    bsn_from_text,
    date_from_plain_text,
    has_control_character,
    optional_text,
    parse_birth_date,
    parse_brin,
    parse_bsn,
    parse_date,
    personeelsnummer_problem,
    text_of,
)
from vogscreen.intake.columns import REQUIRED, canonical, missing_column
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
# Excel writes every delimiter in the first 16 rows of a sheet, but may leave out those of
# the empty cells at the end of a later row: only such a row may be shorter than the header.
_EXCEL_FULL_ROWS = 16
_OLDEST_BIRTH_DATE = dt.date(1900, 1, 1)
_YOUNGEST_AGE_YEARS = 12


_TextParser = Callable[[str], object]
_CellParser = Callable[[Cell], object]

# Per canonical column: the StaffRow field it fills, how its text is parsed when the cell is
# a str (stripped, never empty: an empty cell is missing or None) and how any other kind of
# cell is; a text parser of None keeps the text itself. The order is the order problems are
# reported in, within a row.
_PARSERS: tuple[tuple[str, str, _TextParser | None, _CellParser], ...] = (
    ("bsn", "bsn", bsn_from_text, parse_bsn),
    ("geboortedatum", "birth_date", birth_date_from_text, parse_birth_date),
    ("achternaam", "surname", None, optional_text),
    ("tussenvoegsel", "prefix", None, optional_text),
    ("voorletters", "initials", None, optional_text),
    ("voornamen", "first_names", None, optional_text),
    ("personeelsnummer", "personeelsnummer", None, optional_text),
    ("functie", "function", None, optional_text),
    ("brin", "brin", brin_from_text, parse_brin),
    ("datum_in_dienst", "start_date", date_from_plain_text, parse_date),
    ("datum_uit_dienst", "end_date", date_from_plain_text, parse_date),
    ("vog_datum", "vog_date", date_from_plain_text, parse_date),
)
# StaffRow's fields after ``line``: a row's values are collected in this order and passed
# positionally, which is cheaper than a dict per row.
_ROW_FIELDS = [name for name in StaffRow._fields if name != "line"]
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
                        msg(
                            "columns %(first)s and %(second)s both stand for %(column)s",
                            first=repr(p.excerpt(first)),
                            second=repr(p.excerpt(name)),
                            column=column,
                        ),
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
                    Problem(header_line, column, p.MISSING_COLUMN, missing_column(column, header))
                )


def _control_character(line: int, label: str, column: str) -> Problem:
    return Problem(
        line,
        label,
        p.CONTROL_CHARACTER,
        msg(
            "%(column)s contains a line break or another control character; a value must "
            "be one line of plain text",
            column=column,
        ),
    )


def _row_length(line: int, cells: list[Cell], width: int, code: str) -> Problem:
    return Problem(
        line,
        None,
        code,
        msg(
            "the row has %(values)s values but the header has %(width)s columns "
            "(a cut-off line, or a delimiter missing)",
            values=len(cells),
            width=width,
        ),
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
        if not any(map(text_of, cells)):
            continue  # blank lines, as spreadsheets leave them
        row_count += 1
        if structural:
            continue
        row_problems: list[Problem] = []
        if table.kind == "csv" and len(cells) < required_width:
            row_problems.append(_row_length(line, cells, width, p.SHORT_ROW))
        elif table.kind == "csv" and len(cells) < width and not _cut_by_excel(cells, line, table):
            row_problems.append(_row_length(line, cells, width, p.ROW_LENGTH))
        elif len(cells) > width and any(map(text_of, cells[width:])):
            row_problems.append(
                Problem(
                    line,
                    None,
                    p.LONG_ROW,
                    msg(
                        "the row has values beyond the %(width)s columns of the header "
                        "(a delimiter inside a value that is not quoted?)",
                        width=width,
                    ),
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
                        p.duplicate_bsn(first[0], first[1]),
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
                            p.duplicate_personeelsnummer(row.personeelsnummer, earlier),
                        )
                    )
        if row_problems:
            problems.extend(row_problems)
        elif row is not None:
            rows.append(row)
    if row_count == 0 and not structural:
        problems.append(
            Problem(table.header_line, None, p.NO_ROWS, msg("the file has a header but no rows"))
        )
    return Validated(rows=rows, problems=problems, row_count=row_count)


def _cut_by_excel(cells: list[Cell], line: int, table: Table) -> bool:
    """Whether a short row can be one whose empty cells at the end Excel left out: it lies
    after the 16th row of the sheet, and ends in a value (Excel leaves out every empty one)."""
    last = cells[-1] if cells else None
    return line - table.header_line >= _EXCEL_FULL_ROWS and bool(text_of(last))


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
        text = cell.strip() if type(cell) is str else text_of(cell)
        if not text:
            if required:
                problems.append(
                    Problem(line, label, p.MISSING_VALUE, msg("%(column)s is empty", column=column))
                )
            continue
        if from_text is None:
            values[value_index] = text
            if limit and len(text) > limit:
                problems.append(
                    Problem(
                        line,
                        label,
                        p.VALUE_TOO_LONG,
                        msg(
                            "%(column)s is longer than %(limit)s characters",
                            column=column,
                            limit=limit,
                        ),
                    )
                )
            continue
        try:
            values[value_index] = from_text(text) if type(cell) is str else from_cell(cell)
        except RowProblem as problem:
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
                Problem(line, label, p.DATE_IN_FUTURE, msg("the birth date lies in the future"))
            )
        elif birth < _OLDEST_BIRTH_DATE or birth.year > today.year - _YOUNGEST_AGE_YEARS:
            problems.append(
                Problem(line, label, p.DATE_IMPLAUSIBLE, msg("the birth date is not plausible"))
            )
    vog = values[_VOG_DATE]
    if vog is not None and vog > today:
        problems.append(
            Problem(
                line,
                columns.label["vog_datum"],
                p.DATE_IN_FUTURE,
                msg("the VOG date lies in the future"),
            )
        )
    start, end = values[_START_DATE], values[_END_DATE]
    if start is not None and end is not None and end < start:
        problems.append(
            Problem(
                line,
                columns.label["datum_uit_dienst"],
                p.DATE_ORDER,
                msg("datum_uit_dienst is before datum_in_dienst"),
            )
        )
    if problems:
        return None
    return StaffRow(line, *values)
