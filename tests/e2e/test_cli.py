"""The operator CLI, through the real command object and the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import Cli
from vogscreen.testing import fake_employees, staff_csv


def test_the_console_script_is_installed_and_helpful() -> None:
    result = subprocess.run(
        ["vogscreen", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "PATH": str(Path(__import__("sys").executable).parent) + ":" + os.environ["PATH"],
        },
    )
    assert result.returncode == 0
    for command in ("board", "staff", "status", "db"):
        assert command in result.stdout


def test_a_board_is_added_listed_shown_and_changed(run: Cli) -> None:
    added = run("board", "add", "23456", "--name", "Stichting Zuid", "--notify", "hr@zuid.nl")
    assert added.exit_code == 0, added.output
    assert "23456" in run("board", "list").output
    changed = run(
        "board",
        "set",
        "23456",
        "--add-notify",
        "p&o@zuid.nl",
        "--removal-percent",
        "20",
        "--removal-count",
        "8",
    )
    assert changed.exit_code == 0, changed.output
    shown = run("board", "show", "23456").output
    assert "p&o@zuid.nl" in shown
    assert "20%" in shown
    assert "8 employments" in shown


def test_a_malformed_address_or_board_number_is_refused_with_exit_2(run: Cli) -> None:
    bad_address = run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@@zuid")
    assert bad_address.exit_code == 2
    assert "not a valid email address" in bad_address.output
    bad_number = run("board", "add", "2345", "--name", "Zuid", "--notify", "hr@zuid.nl")
    assert bad_number.exit_code == 2
    assert "5-digit" in bad_number.output
    two_lines = run("board", "add", "23456", "--name", "Zuid\r\nBcc: x@x.nl", "--notify", "a@b.nl")
    assert two_lines.exit_code == 2
    assert "control character" in two_lines.output
    assert "No boards yet" in run("board", "list").output


def test_showing_an_unknown_board_fails_with_a_clear_message(run: Cli) -> None:
    result = run("board", "show", "54321")
    assert result.exit_code == 1
    assert "there is no board 54321" in result.output


def test_upload_accepts_and_writes_the_report_json(run: Cli, tmp_path: Path) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    employees = fake_employees(6)
    path = tmp_path / "staff.csv"
    path.write_text(staff_csv(employees))
    report_path = tmp_path / "report.json"
    result = run("staff", "upload", "23456", str(path), "--report-json", str(report_path))
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["status"] == "accepted"
    assert isinstance(report["id"], int)
    assert report["counts"] == {"rows": 6, "new": 6, "leaving": 0, "changed": 0, "unchanged": 0}
    assert report["problems"] == []
    again = run("staff", "upload", "23456", str(path), "--report-json", str(report_path))
    assert again.exit_code == 0
    assert json.loads(report_path.read_text())["status"] == "unchanged"


def test_upload_rejects_with_exit_1_and_every_problem_in_the_report(
    run: Cli, tmp_path: Path
) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    employees = fake_employees(4)
    text = staff_csv(employees).replace(employees[0].bsn, "000000000").replace("12AB", "1", 1)
    path = tmp_path / "staff.csv"
    path.write_text(text)
    report_path = tmp_path / "report.json"
    result = run("staff", "upload", "23456", str(path), "--report-json", str(report_path))
    assert result.exit_code == 1
    report = json.loads(report_path.read_text())
    assert report["status"] == "rejected"
    assert [(p["line"], p["column"], p["code"]) for p in report["problems"]] == [
        (2, "bsn", "bsn_invalid"),
        (2, "brin", "brin_invalid"),
    ]
    assert all(p["message"] for p in report["problems"])
    assert set(report["counts"]) == {"rows", "new", "leaving", "changed", "unchanged"}


def test_upload_reports_in_dutch_unless_english_is_asked_for(run: Cli, tmp_path: Path) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    employees = fake_employees(2)
    path = tmp_path / "staff.csv"
    path.write_text(staff_csv(employees).replace(employees[0].bsn, "000000000"))
    dutch_json, english_json = tmp_path / "nl.json", tmp_path / "en.json"

    dutch = run("staff", "upload", "23456", str(path), "--report-json", str(dutch_json))
    english = run(
        "staff", "upload", "23456", str(path), "--report-json", str(english_json), "--lang", "en"
    )

    assert dutch.exit_code == english.exit_code == 1
    nl, en = json.loads(dutch_json.read_text()), json.loads(english_json.read_text())
    assert (nl["language"], en["language"]) == ("nl", "en")
    assert (
        [(p["line"], p["column"], p["code"]) for p in nl["problems"]]
        == [(p["line"], p["column"], p["code"]) for p in en["problems"]]
        == [(2, "bsn", "bsn_invalid")]
    )
    assert nl["problems"][0]["message"] == "het BSN voldoet niet aan de elfproef"
    assert en["problems"][0]["message"] == "the BSN fails the 11-check (elfproef)"
    assert nl["problems"][0]["hint"].startswith("Controleer het BSN")
    assert "Afgewezen:" in dutch.output and "Er is niets opgeslagen." in dutch.output
    assert "het BSN voldoet niet aan de elfproef" in " ".join(dutch.output.split())
    assert "Rejected" in english.output and "Nothing was stored." in english.output
    assert "000000000" not in dutch.output + english.output


def test_upload_refuses_a_language_it_has_no_report_in(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(staff_csv(fake_employees(1)))
    assert run("staff", "upload", "23456", str(path), "--lang", "de").exit_code == 2


def test_upload_to_an_unknown_board_exits_1(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(staff_csv(fake_employees(2)))
    result = run("staff", "upload", "99999", str(path))
    assert result.exit_code == 1
    assert "unknown_board" in result.output


def test_upload_with_a_missing_file_is_a_usage_error(run: Cli, tmp_path: Path) -> None:
    result = run("staff", "upload", "23456", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2


def test_a_dry_run_upload_stores_nothing(run: Cli, tmp_path: Path) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    path = tmp_path / "staff.csv"
    path.write_text(staff_csv(fake_employees(3)))
    result = run("staff", "upload", "23456", str(path), "--dry-run", "--lang", "en")
    assert result.exit_code == 0
    assert "Would accept" in result.output
    dutch = run("staff", "upload", "23456", str(path), "--dry-run")
    assert dutch.exit_code == 0
    assert "Zou worden geaccepteerd:" in dutch.output and "proefrun" in dutch.output
    status = json.loads(run("status", "--json").stdout)
    assert status["boards"][0]["staff"] == 0


def test_status_json_counts_the_staff_of_the_latest_accepted_list(run: Cli, tmp_path: Path) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    run("board", "add", "34567", "--name", "Noord", "--notify", "hr@noord.nl")
    path = tmp_path / "staff.csv"
    path.write_text(staff_csv(fake_employees(7)))
    run("staff", "upload", "23456", str(path))
    status = json.loads(run("status", "--json").stdout)
    boards = {board["number"]: board for board in status["boards"]}
    assert boards["23456"]["name"] == "Zuid"
    assert boards["23456"]["staff"] == 7
    assert boards["34567"]["staff"] == 0


def test_staff_show_never_shows_a_bsn_or_birth_date_and_escapes_formulas_in_csv(
    run: Cli, tmp_path: Path
) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    employees = fake_employees(3)
    text = (
        staff_csv(employees)
        .replace("leerkracht", '=HYPERLINK("x")')
        .replace("onderwijsassistent", '=HYPERLINK("x")')
        .replace("directeur", '=HYPERLINK("x")')
        .replace("conciërge", '=HYPERLINK("x")')
        .replace("intern begeleider", '=HYPERLINK("x")')
    )
    path = tmp_path / "staff.csv"
    path.write_text(text)
    assert run("staff", "upload", "23456", str(path)).exit_code == 0
    export = tmp_path / "export.csv"
    shown = run("staff", "show", "23456", "--csv", str(export))
    assert shown.exit_code == 0
    for employee in employees:
        assert employee.bsn not in shown.output
        assert employee.birth_date.isoformat() not in shown.output
        assert employee.personeelsnummer in shown.output
    written = export.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in written
    assert ";=HYPERLINK" not in written


def test_db_upgrade_reports_the_schema_state(run: Cli) -> None:
    first = run("db", "upgrade")
    assert first.exit_code == 0
    assert "up to date" in first.output or "Upgraded" in first.output
    assert "up to date" in run("db", "upgrade").output
