"""A personeelsnummer is shown in reports, pages, CSV exports and e-mail subjects, so one that
is really a BSN or a date is refused, and no message quotes one that could be either."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from tests.texts import every_language
from vogscreen.domain.terms import Cell
from vogscreen.intake import problems as p
from vogscreen.intake.reading import Table
from vogscreen.intake.validate import validate_table
from vogscreen.pipeline.intake import upload
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import HEADER, fake_employees, staff_csv

TODAY = dt.date(2026, 6, 1)
STAFF = fake_employees(3, seed=57)
NUMBER = HEADER.index("personeelsnummer")
OTHER_BSN = "725763863"  # passes the 11-check; nobody's in this file


def table_of(*rows: list[Cell]) -> Table:
    return Table("csv", list(HEADER), iter(list(enumerate(rows, start=2))), 1)


def with_number(index: int, number: str) -> list[Cell]:
    cells: list[Cell] = list(STAFF[index].cells())
    cells[NUMBER] = number
    return cells


def codes_for(number: str, index: int = 1) -> list[str]:
    rows = [with_number(i, number) if i == index else list(e.cells()) for i, e in enumerate(STAFF)]
    return [problem.code for problem in validate_table(table_of(*rows), today=TODAY).problems]


@pytest.mark.parametrize(
    "number", ["725.763.863", "725 763 863", "725-763-863", "725/763/863", "1234.56.72"]
)
def test_a_personeelsnummer_written_as_a_bsn_that_passes_the_11_check_is_refused(
    number: str,
) -> None:
    assert codes_for(number) == [p.PERSONEELSNUMMER_LIKE_BSN]


@pytest.mark.parametrize("number", [OTHER_BSN, "12345672"])
def test_plain_digits_that_pass_the_11_check_by_chance_are_a_real_personeelsnummer(
    number: str,
) -> None:
    # One in eleven plain numbers passes: refusing them would reject whole files of HR
    # systems that number their staff with 8 or 9 digits.
    assert codes_for(number) == []


def test_a_personeelsnummer_that_is_the_persons_own_bsn_is_refused() -> None:
    own = STAFF[1].bsn
    assert codes_for(own) == [p.PERSONEELSNUMMER_LIKE_BSN]
    assert codes_for(f"{own[:3]}.{own[3:6]}.{own[6:]}") == [p.PERSONEELSNUMMER_LIKE_BSN]


@pytest.mark.parametrize(
    "number",
    ["12-03-1979", "1-3-1979", "12.03.1980", "12/03/1980", "1979-03-12", "1979.03.12", "1979/3/12"],
)
def test_a_personeelsnummer_shaped_like_a_date_is_refused(number: str) -> None:
    assert codes_for(number) == [p.PERSONEELSNUMMER_LIKE_DATE]


@pytest.mark.parametrize(
    "number", ["12345678", "19790312", "P12345672", "AB-1234", "2024-0042", "12-34", "725763864"]
)
def test_an_ordinary_personeelsnummer_is_accepted_even_when_it_is_eight_plain_digits(
    number: str,
) -> None:
    assert codes_for(number) == []


def test_a_duplicate_message_quotes_a_personeelsnummer_only_when_it_cannot_be_secret() -> None:
    rows = [with_number(0, "AB-7"), with_number(1, "AB-7"), with_number(2, "P0012345")]
    same_person = dataclasses.replace(STAFF[2], personeelsnummer="P0012346")
    same_number = dataclasses.replace(fake_employees(1, seed=58)[0], personeelsnummer="P0012345")
    validated = validate_table(
        table_of(*rows, same_person.cells(), same_number.cells()), today=TODAY
    )

    messages = {
        (problem.line, problem.code): every_language(problem.message)
        for problem in validated.problems
    }
    assert set(messages) == {
        (3, p.DUPLICATE_PERSONEELSNUMMER),
        (5, p.DUPLICATE_BSN),
        (6, p.DUPLICATE_PERSONEELSNUMMER),
    }
    assert "'AB-7'" in messages[3, p.DUPLICATE_PERSONEELSNUMMER]
    assert "line 2" in messages[3, p.DUPLICATE_PERSONEELSNUMMER]
    for message in (messages[5, p.DUPLICATE_BSN], messages[6, p.DUPLICATE_PERSONEELSNUMMER]):
        assert "0012345" not in message and "line 4" in message


def test_a_list_with_a_bsn_or_a_date_as_personeelsnummer_is_rejected_without_quoting_it(
    app: App, board: str, tmp_path: Path
) -> None:
    rows = [
        dataclasses.replace(STAFF[0], personeelsnummer="725.763.863"),
        dataclasses.replace(STAFF[1], personeelsnummer=STAFF[1].bsn),
        dataclasses.replace(STAFF[2], personeelsnummer="12-03-1979"),
    ]
    path = tmp_path / "personeel.csv"
    path.write_text(staff_csv(rows), encoding="utf-8")

    report = upload(app, board, path)

    assert report.status == "rejected"
    assert [(problem.line, problem.code) for problem in report.problems] == [
        (2, p.PERSONEELSNUMMER_LIKE_BSN),
        (3, p.PERSONEELSNUMMER_LIKE_BSN),
        (4, p.PERSONEELSNUMMER_LIKE_DATE),
    ]
    rendered = json.dumps(report.as_dict())
    for secret in ("725.763.863", "725763863", STAFF[1].bsn, "12-03-1979", "1979"):
        assert secret not in rendered


def test_a_duplicate_of_a_carried_row_does_not_quote_a_personeelsnummer_that_could_be_secret(
    app: App, board: str, tmp_path: Path
) -> None:
    # Stored before personeelsnummers were checked: it is carried over, never checked again.
    first = tmp_path / "eerste.csv"
    first.write_text(staff_csv(STAFF), encoding="utf-8")
    assert upload(app, board, first).status == "accepted"
    again = dataclasses.replace(
        STAFF[0], surname="Anders", personeelsnummer=STAFF[1].personeelsnummer
    )
    second = tmp_path / "tweede.csv"
    second.write_text(staff_csv([again, *STAFF[1:]]), encoding="utf-8")

    report = upload(app, board, second)

    assert [problem.code for problem in report.problems] == [p.DUPLICATE_PERSONEELSNUMMER]
    assert STAFF[1].personeelsnummer[1:] not in every_language(report.problems[0].message)
    assert "[redacted]" not in every_language(report.problems[0].message)
