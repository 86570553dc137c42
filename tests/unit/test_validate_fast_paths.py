"""The fast paths of validation (str cells, ISO dates, positional rows) change nothing a
board sees: the same values, the same problems in the same order, the same words."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.texts import en
from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p
from vogscreen.intake.cells import RowProblem as _RowProblem
from vogscreen.intake.cells import parse_date
from vogscreen.intake.columns import CANONICAL
from vogscreen.intake.reading import Table
from vogscreen.intake.validate import StaffRow, validate_table

TODAY = dt.date(2026, 6, 1)
HEADER = list(CANONICAL)


def table_of(kind: str, *rows: list[Cell]) -> Table:
    return Table(kind=kind, header=HEADER, rows=iter(list(enumerate(rows, start=2))), header_line=1)


def message_of(cell: Cell, *, secret: bool = False) -> str:
    with pytest.raises(_RowProblem) as raised:
        parse_date(cell, secret=secret)
    assert raised.value.code == p.DATE_INVALID
    return en(raised.value.message)


def test_an_iso_date_that_does_not_exist_is_refused_in_the_usual_words() -> None:
    # Never the text itself: a date in any column could be a birth date.
    assert message_of("2023-02-29") == "the value is not a date that exists"
    assert message_of("1980-02-30", secret=True) == "the value is not a date that exists"


@pytest.mark.parametrize(
    "cell", ["20240101", "2024-W01-1", "2024-001", "2024-01-01T00:00:00+01:00", "2024-01-01Z"]
)
def test_forms_pythons_iso_parser_takes_but_the_format_does_not_are_still_refused(
    cell: str,
) -> None:
    assert message_of(cell).endswith("is not a date (use YYYY-MM-DD or DD-MM-YYYY)")


def test_a_secret_date_that_repeats_is_read_the_same_each_time() -> None:
    # Birth dates skip the cache the other dates use: both give the same answer.
    for _ in range(2):
        assert parse_date("17-05-1980", secret=True) == dt.date(1980, 5, 17)
        assert parse_date("17-05-1980") == dt.date(1980, 5, 17)


def test_the_problems_of_a_row_come_in_the_formats_order_then_the_checks_across_columns() -> None:
    too_long = "x" * 201
    validated = validate_table(
        table_of(
            "csv",
            ["1234567", "31-02-1980", " ", "", "", too_long, "P1", "XY06", too_long, "x", "", ""],
            ["111222333", "2030-01-01", "Vos", "", "", "", "P2", "", "", "2024-08-01",
             "2024-07-31", "2027-01-01"],
        ),
        today=TODAY,
    )  # fmt: skip
    assert [(problem.line, problem.column, problem.code) for problem in validated.problems] == [
        (2, "bsn", p.BSN_INVALID),
        (2, "geboortedatum", p.DATE_INVALID),
        (2, "achternaam", p.MISSING_VALUE),
        (2, "voornamen", p.VALUE_TOO_LONG),
        (2, "functie", p.VALUE_TOO_LONG),
        (2, "brin", p.BRIN_INVALID),
        (2, "datum_in_dienst", p.DATE_INVALID),
        (3, "geboortedatum", p.DATE_IN_FUTURE),
        (3, "vog_datum", p.DATE_IN_FUTURE),
        (3, "datum_uit_dienst", p.DATE_ORDER),
    ]
    assert validated.rows == []


def test_a_workbook_row_of_numbers_and_dates_gives_the_row_its_text_would() -> None:
    as_text: list[Cell] = [
        "012345672", "1980-05-17", "Vos", "de", "J.", "Jan", "1042", "06XY", "leraar",
        "2020-08-01", "", "2020-07-01",
    ]  # fmt: skip
    as_cells: list[Cell] = [
        12345672.0, dt.datetime(1980, 5, 17), "Vos", "de", "J.", "Jan", 1042, "06xy", "leraar",
        44_044, None, dt.date(2020, 7, 1),
    ]  # fmt: skip
    from_text = validate_table(table_of("csv", as_text), today=TODAY)
    from_cells = validate_table(table_of("xlsx", as_cells), today=TODAY)
    assert from_text.problems == from_cells.problems == []
    assert from_text.rows == from_cells.rows
    assert from_cells.rows[0].personeelsnummer == "1042"
    assert from_cells.rows[0].end_date is None


def test_a_row_shows_no_bsn_or_birth_date_when_printed() -> None:
    row = StaffRow(2, "123456782", dt.date(1980, 5, 17), "Jansen", personeelsnummer="P1")
    assert "123456782" not in repr(row) and "1980" not in repr(row) and "1980" not in str(row)
    assert "personeelsnummer='P1'" in repr(row) and "Jansen" in repr(row)


def test_a_row_ends_with_the_terms_an_employment_is_compared_on() -> None:
    from vogscreen.domain.terms import TERM_COLUMNS

    assert StaffRow._fields[7:] == TERM_COLUMNS
