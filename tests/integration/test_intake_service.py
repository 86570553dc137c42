"""Staff-list intake through the service: acceptance, preview, rejection, privacy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from vogscreen.intake import problems as p
from vogscreen.pipeline.intake import upload
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent, Person, StaffList, StaffListRow
from vogscreen.testing import fake_employees, staff_csv


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def count(app: App, model: type) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_valid_list_is_stored_as_a_snapshot_with_its_rows(
    app: App, board: str, tmp_path: Path
) -> None:
    employees = fake_employees(25, seed=7)
    report = upload(app, board, write(tmp_path, "staff.csv", staff_csv(employees)))
    assert report.status == "accepted"
    assert report.counts == {"rows": 25, "new": 25, "leaving": 0, "changed": 0, "unchanged": 0}
    assert report.problems == []
    assert count(app, Person) == 25
    assert count(app, StaffListRow) == 25
    with app.sessions() as session:
        staff_list = session.get(StaffList, report.id)
        assert staff_list is not None
        assert staff_list.status == "pending"
        assert staff_list.received_by == "test-operator"
        assert len(staff_list.sha256) == 64


def test_the_same_file_again_is_recognised_and_changes_nothing(
    app: App, board: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "staff.csv", staff_csv(fake_employees(5)))
    first = upload(app, board, path)
    again = upload(app, board, path)
    assert again.status == "unchanged"
    assert again.id == first.id
    assert count(app, StaffList) == 1


def test_a_dry_run_previews_and_stores_nothing(app: App, board: str, tmp_path: Path) -> None:
    path = write(tmp_path, "staff.csv", staff_csv(fake_employees(5)))
    report = upload(app, board, path, dry_run=True)
    assert report.status == "accepted"
    assert report.id is None
    assert report.counts["new"] == 5
    assert count(app, Person) == 0
    assert count(app, StaffList) == 0
    assert count(app, AuditEvent) == 1  # only the board.added of the fixture


def test_one_invalid_row_rejects_the_whole_file_and_stores_no_rows(
    app: App, board: str, tmp_path: Path
) -> None:
    employees = fake_employees(10)
    text = staff_csv(employees).replace(employees[4].bsn, "123456789")
    report = upload(app, board, write(tmp_path, "staff.csv", text))
    assert report.status == "rejected"
    assert [(problem.line, problem.code) for problem in report.problems] == [(6, p.BSN_INVALID)]
    assert count(app, Person) == 0
    assert count(app, StaffListRow) == 0
    with app.sessions() as session:
        rejected = session.scalars(select(StaffList)).one()
    assert rejected.status == "rejected"
    assert rejected.report["problems"][0]["code"] == p.BSN_INVALID


def test_every_problem_is_reported_not_only_the_first(app: App, board: str, tmp_path: Path) -> None:
    employees = fake_employees(6)
    lines = staff_csv(employees).splitlines()
    lines[1] = lines[1].replace(employees[0].bsn, "12345")
    lines[3] = lines[3].replace(employees[2].birth_date.isoformat(), "31-02-1980")
    lines[5] = lines[5].replace("12AB", "XYZ")
    report = upload(app, board, write(tmp_path, "staff.csv", "\r\n".join(lines) + "\r\n"))
    assert [(problem.line, problem.code) for problem in report.problems] == [
        (2, p.BSN_INVALID),
        (4, p.DATE_INVALID),
        (6, p.BRIN_INVALID),
    ]


def test_the_preview_counts_new_leaving_changed_and_unchanged(
    app: App, board: str, tmp_path: Path
) -> None:
    employees = fake_employees(10)
    upload(app, board, write(tmp_path, "one.csv", staff_csv(employees)))
    # Until reconciliation applies a list there are no current employments, so every row
    # of a second list is still new against the board's (empty) current staff.
    report = upload(app, board, write(tmp_path, "two.csv", staff_csv(employees[:8])), dry_run=True)
    assert report.counts["new"] == 8


def test_a_known_bsn_with_another_birth_date_is_rejected(
    app: App, board: str, tmp_path: Path
) -> None:
    employees = fake_employees(3)
    upload(app, board, write(tmp_path, "one.csv", staff_csv(employees)))
    changed = staff_csv(employees).replace(
        employees[1].birth_date.isoformat(),
        (employees[1].birth_date + dt.timedelta(days=1)).isoformat(),
    )
    report = upload(app, board, write(tmp_path, "two.csv", changed))
    assert report.status == "rejected"
    assert [(problem.line, problem.code) for problem in report.problems] == [
        (3, p.BIRTH_DATE_MISMATCH)
    ]


def test_an_unknown_board_is_rejected(app: App, tmp_path: Path) -> None:
    report = upload(app, "99999", write(tmp_path, "staff.csv", staff_csv(fake_employees(2))))
    assert report.status == "rejected"
    assert [problem.code for problem in report.problems] == [p.UNKNOWN_BOARD]
    assert count(app, StaffList) == 0


def test_no_report_message_contains_a_bsn_or_birth_date(
    app: App, board: str, tmp_path: Path
) -> None:
    employees = fake_employees(4)
    text = staff_csv([*employees, employees[0]])  # a duplicate BSN
    text = text.replace(employees[2].birth_date.isoformat(), "2099-01-01")
    report = upload(app, board, write(tmp_path, "staff.csv", text))
    codes = {problem.code for problem in report.problems}
    assert codes == {p.DUPLICATE_BSN, p.DATE_IN_FUTURE, p.DUPLICATE_PERSONEELSNUMMER}
    rendered = str(report.as_dict())
    for employee in employees:
        assert employee.bsn not in rendered
        assert employee.birth_date.isoformat() not in rendered
    assert "2099" not in rendered
