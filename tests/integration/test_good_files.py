"""Every file of the good corpus is taken, whatever spreadsheet quirk it carries.

The corpus lives in tests/corpus/good/ and is written by tests/corpus/make_corpus.py; its
MANIFEST.toml gives the rows and surnames each file must yield.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.corpus.cases import LEADING_ZERO_BSN, STAFF, XLSX_STAFF, staff
from tests.corpus.good_cases import FORMULA_LIKE
from vogscreen.intake import problems as p
from vogscreen.pipeline.intake import upload
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Person, StaffListRow

GOOD = Path(__file__).parents[1] / "corpus" / "good"
MANIFEST: dict[str, dict[str, Any]] = tomllib.loads(
    (GOOD / "MANIFEST.toml").read_text(encoding="utf-8")
)


def count(app: App, model: type) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def stored_rows(app: App, by: str = "personeelsnummer") -> list[StaffListRow]:
    with app.sessions() as session:
        order = getattr(StaffListRow, by)
        return list(session.scalars(select(StaffListRow).order_by(order)))


def test_every_good_file_is_in_the_manifest() -> None:
    files = {path.name for path in GOOD.iterdir() if path.name != "MANIFEST.toml"}
    assert files == set(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_a_good_file_is_accepted_with_every_row_and_every_name_intact(
    app: App, board: str, name: str
) -> None:
    entry = MANIFEST[name]

    report = upload(app, board, GOOD / name)

    assert report.problems == []
    assert report.status == "accepted"
    assert report.counts["rows"] == report.counts["new"] == entry["rows"]
    assert count(app, Person) == entry["rows"]
    assert sorted(row.surname for row in stored_rows(app)) == entry["surnames"]


@pytest.mark.parametrize(
    "name",
    [
        "number_and_date_cells.xlsx",
        "serial_number_dates.xlsx",
        "text_cells_below_blank_rows.xlsx",
        "wrong_dimension.xlsx",
        "dutch_dates.csv",
    ],
)
def test_dates_arrive_as_the_same_days_whatever_form_the_file_gives_them(
    app: App, board: str, name: str
) -> None:
    upload(app, board, GOOD / name)

    expected = {e.personeelsnummer: (e.start_date, e.vog_date) for e in STAFF}
    stored = {row.personeelsnummer: (row.start_date, row.vog_date) for row in stored_rows(app)}
    assert stored == expected


def test_an_eight_digit_bsn_number_cell_gets_its_leading_zero_back(
    app: App, board: str, tmp_path: Path
) -> None:
    upload(app, board, GOOD / "number_and_date_cells.xlsx")
    with app.sessions() as session:
        indexes = set(session.scalars(select(Person.bsn_index)))
    assert app.vault.blind_index(LEADING_ZERO_BSN) in indexes

    # The same people as CSV with nine-digit BSNs are the same persons, not new ones.
    again = tmp_path / "staff.csv"
    again.write_text(staff(XLSX_STAFF), encoding="utf-8")
    report = upload(app, board, again)
    assert report.status == "accepted"
    assert count(app, Person) == len(XLSX_STAFF)


def test_the_leading_zero_person_is_checked_against_their_known_birth_date(
    app: App, board: str, tmp_path: Path
) -> None:
    upload(app, board, GOOD / "number_and_date_cells.xlsx")
    person = XLSX_STAFF[0]
    other = tmp_path / "staff.csv"
    changed = replace(person, birth_date=person.birth_date + dt.timedelta(days=1))
    other.write_text(staff([changed, *XLSX_STAFF[1:]]), encoding="utf-8")

    report = upload(app, board, other)

    assert report.status == "rejected"
    assert [(problem.line, problem.code) for problem in report.problems] == [
        (2, p.BIRTH_DATE_MISMATCH)
    ]


def test_values_that_look_like_formulas_are_stored_exactly_as_given(app: App, board: str) -> None:
    upload(app, board, GOOD / "formula_like_values.csv")

    attribute = {
        "achternaam": "surname",
        "tussenvoegsel": "prefix",
        "voornamen": "first_names",
        "personeelsnummer": "personeelsnummer",
        "functie": "function",
    }
    # The rows are stored in file order (by id), so line n is the (n - 1)th row.
    rows = dict(enumerate(stored_rows(app, by="id"), start=2))
    for line, values in FORMULA_LIKE.items():
        for column, value in values.items():
            assert getattr(rows[line], attribute[column]) == value


def test_a_line_break_typed_inside_a_quoted_value_is_refused_with_its_line(
    app: App, board: str
) -> None:
    # A line break in a value could become a header line of an email (issue 10, item 3).
    report = upload(app, board, Path(__file__).parents[1] / "corpus" / "bad" / "multiline_cell.csv")

    assert [(problem.line, problem.code) for problem in report.problems] == [
        (5, p.CONTROL_CHARACTER)
    ]
    assert stored_rows(app) == []


def test_rows_after_blank_lines_keep_their_line_numbers(
    app: App, board: str, tmp_path: Path
) -> None:
    source = GOOD / "excel_trailing_empty_columns.csv"
    report = upload(app, board, source)
    # A blank ;;; line sits after the third row (line 5): it is skipped, not a row.
    assert report.counts["rows"] == 10
    assert len(stored_rows(app)) == 10

    # A problem on the row after it is reported on the line the board sees: 6.
    lines = source.read_bytes().split(b"\r\n")
    lines[5] = lines[5].replace(b"699470675", b"699470676")
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\r\n".join(lines))
    report = upload(app, board, broken, dry_run=True)
    assert [(problem.line, problem.code) for problem in report.problems] == [(6, p.BSN_INVALID)]
