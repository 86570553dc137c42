"""A board's reports read back in Dutch or English: a rejected list's problems with their
hints, a held list's reason, and the problems as a spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest

from tests.reconcile_helpers import FAST, hand_in
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.errors import NotFound
from vogscreen.intake import problems as p
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.reports import problems_csv, stored_report
from vogscreen.runtime.bootstrap import App
from vogscreen.store import list_records as records
from vogscreen.store.boards import board_by_number
from vogscreen.store.database import transaction
from vogscreen.testing import fake_employees, staff_csv


def _rejected_file(tmp_path: Path) -> Path:
    staff = fake_employees(3, seed=5)
    staff[0] = dataclasses.replace(staff[0], bsn="123456780")  # fails the 11-check
    staff[2] = dataclasses.replace(staff[2], surname="")
    path = tmp_path / "fouten.csv"
    path.write_text(staff_csv(staff))
    return path


def test_a_rejected_list_reads_back_as_it_was_reported_in_either_language(
    app: App, board: str, tmp_path: Path
) -> None:
    report = upload(app, board, _rejected_file(tmp_path))
    assert report.status == "rejected" and report.id is not None

    for language in ("nl", "en"):
        handed_in = report.as_dict(language)
        stored = stored_report(app, board, report.id, language)
        assert handed_in["language"] == stored["language"] == language
        assert stored["problems"] == handed_in["problems"]
        assert (stored["status"], stored["outcome"]) == ("rejected", "rejected")
        assert stored["received_by"] == "test-operator" and stored["file"] == "fouten.csv"
    dutch = stored_report(app, board, report.id)
    english = stored_report(app, board, report.id, "en")
    assert [(x["line"], x["column"], x["code"]) for x in dutch["problems"]] == [
        (2, "bsn", p.BSN_INVALID),
        (4, "achternaam", p.MISSING_VALUE),
    ]
    assert dutch["problems"][0]["message"] == "het BSN voldoet niet aan de elfproef"
    assert english["problems"][0]["message"] == "the BSN fails the 11-check (elfproef)"
    assert dutch["problems"][1]["message"] == "achternaam is leeg"
    assert dutch["problems"][0]["hint"].startswith("Controleer het BSN")
    assert english["problems"][0]["hint"].startswith("Check the BSN")
    assert "123456780" not in json.dumps([dutch, english])


def test_a_held_lists_reason_and_what_to_do_read_back_in_either_language(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    held = hand_in(app, board, staff[:30], tmp_path)
    assert held.status == "held" and held.id is not None

    dutch = stored_report(app, board, held.id)
    english = stored_report(app, board, held.id, "en")
    assert (dutch["status"], dutch["outcome"], dutch["hold"]) == ("held", "held", "removals")
    assert dutch["reason"] == held.as_dict("nl")["reason"]
    assert dutch["reason"].startswith("de lijst zou 10 van de 40 huidige dienstverbanden")
    assert english["reason"].startswith("it would end 10 of the board's 40")
    assert dutch["hold_hint"].startswith("Controleer of het bestand compleet is")
    assert dutch["counts"]["leaving"] == 10 and dutch["problems"] == []


def test_another_boards_list_is_not_found_exactly_as_a_list_that_does_not_exist(
    app: App, board: str, tmp_path: Path
) -> None:
    add_board(app, "23456", "Stichting Ander", ["hr@ander.nl"])
    theirs = upload(app, "23456", _rejected_file(tmp_path))
    assert theirs.id is not None

    with pytest.raises(NotFound) as other_board:
        stored_report(app, board, theirs.id)
    with pytest.raises(NotFound) as missing:
        stored_report(app, board, theirs.id + 1000)
    with pytest.raises(NotFound) as no_board:
        stored_report(app, "99999", theirs.id)
    assert str(other_board.value) == f"board {board} has no staff list {theirs.id}"
    assert str(missing.value) == f"board {board} has no staff list {theirs.id + 1000}"
    assert str(no_board.value) == f"board 99999 has no staff list {theirs.id}"
    assert stored_report(app, "23456", theirs.id)["board"] == "23456"


def test_a_list_rejected_before_messages_were_stored_as_text_still_reads_back(
    app: App, board: str
) -> None:
    with transaction(app.sessions) as session:
        found = board_by_number(session, board)
        assert found is not None
        staff_list_id = records.add_rejected(
            session,
            board_id=found.id,
            sha256="0" * 64,
            filename="oud.csv",
            row_count=1,
            problems=[{"line": 2, "column": "bsn", "code": p.BSN_INVALID, "message": "100% wrong"}],
            received_at=app.now(),
            received_by="operator",
        )
    for language in ("nl", "en"):
        (problem,) = stored_report(app, board, staff_list_id, language)["problems"]
        assert problem["message"] == "100% wrong"
        assert problem["hint"] == p.HINTS[p.BSN_INVALID].render(language)


def test_the_problems_csv_has_dutch_columns_and_escapes_what_a_spreadsheet_would_run() -> None:
    document = {
        "language": "nl",
        "problems": [
            {
                "line": 3,
                "column": '=HYPERLINK("http://x")',
                "code": "brin_invalid",
                "message": "@SUM(1+1) is geen BRIN-code",
                "hint": "-1; of +1",
            },
            {"line": None, "column": None, "code": "empty_file", "message": "leeg", "hint": None},
        ],
    }
    text = problems_csv(document)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows == [
        ["regel", "kolom", "code", "probleem", "oplossing"],
        [
            "3",
            '\'=HYPERLINK("http://x")',
            "brin_invalid",
            "'@SUM(1+1) is geen BRIN-code",
            "'-1; of +1",
        ],
        ["", "", "empty_file", "leeg", ""],
    ]
    english = problems_csv({**document, "language": "en"})
    assert english.lstrip("\ufeff").startswith("line;column;code;problem;how to fix it\r\n")


def test_the_problems_csv_of_a_stored_report_lists_every_problem_in_order(
    app: App, board: str, tmp_path: Path
) -> None:
    report = upload(app, board, _rejected_file(tmp_path))
    assert report.id is not None
    rows = list(
        csv.DictReader(
            io.StringIO(problems_csv(stored_report(app, board, report.id)).lstrip("\ufeff")),
            delimiter=";",
        )
    )
    assert [(row["regel"], row["kolom"], row["code"]) for row in rows] == [
        ("2", "bsn", p.BSN_INVALID),
        ("4", "achternaam", p.MISSING_VALUE),
    ]
    assert rows[0]["probleem"] == "het BSN voldoet niet aan de elfproef"
    assert rows[1]["oplossing"].startswith("Vul deze waarde in")


def test_a_report_in_a_language_there_is_none_of_is_refused(
    app: App, board: str, tmp_path: Path
) -> None:
    report = upload(app, board, _rejected_file(tmp_path))
    assert report.id is not None
    with pytest.raises(ValueError, match="language"):
        report.as_dict("de")
    with pytest.raises(ValueError, match="language"):
        stored_report(app, board, report.id, "de")
