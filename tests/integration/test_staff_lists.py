"""A board's lists over time: an older file after a newer one, supersedes, history, dry runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select
from structlog.testing import capture_logs

from tests.conftest import Cli
from tests.corpus.formats import xlsx, xlsx_cells
from tests.reconcile_helpers import FAST, hand_in
from tests.texts import en
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.reconcile import confirm, reject
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent, Board, Employment, StaffList
from vogscreen.testing import HEADER, FakeEmployee, fake_employees, staff_csv


def saved_xlsx(path: Path, staff: list[FakeEmployee], saved_at: dt.datetime) -> Path:
    """An XLSX export of ``staff`` whose document properties say it was saved at ``saved_at``."""
    stamp = saved_at.strftime("%Y-%m-%dT%H:%M:%SZ").encode()

    def patch(name: str, data: bytes) -> bytes:
        if name != "docProps/core.xml":
            return data
        return data.replace(b"2026-01-05T09:00:00Z", stamp)

    path.write_bytes(xlsx([list(HEADER), *map(xlsx_cells, staff)], patch=patch))
    return path


def statuses(app: App) -> dict[int, str]:
    with app.sessions() as session:
        return dict(session.execute(select(StaffList.id, StaffList.status)).all())


def audited(app: App, action: str) -> list[tuple[str | None, dict[str, object]]]:
    with app.sessions() as session:
        return [
            (entity_id, details)
            for entity_id, details in session.execute(
                select(AuditEvent.entity_id, AuditEvent.details)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


def a_pending_list_with_new_hires_and_leavers(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> tuple[list[FakeEmployee], list[FakeEmployee], int]:
    """List 1 applied (20 staff); list 2 pending: 3 new hires, 2 leavers. Both XLSX."""
    old = fake_employees(20)
    saved_xlsx(tmp_path / "april.xlsx", old, dt.datetime(2026, 4, 30, 16, 0))
    assert upload(app, board, tmp_path / "april.xlsx").status == "accepted"
    reconcile(app, mock, retry=FAST)
    new = [*old[2:], *fake_employees(3, seed=7)]
    path = saved_xlsx(tmp_path / "may.xlsx", new, dt.datetime(2026, 5, 29, 16, 0))
    pending = upload(app, board, path)
    assert pending.status == "accepted" and pending.id is not None
    return old, new, pending.id


def test_an_older_export_after_a_pending_list_is_held_and_the_pending_list_still_applies(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    old, _, pending = a_pending_list_with_new_hires_and_leavers(app, board, mock, tmp_path)
    # Last month's export again, with one correction made since: another file, an older date.
    stale = [dataclasses.replace(old[5], function="directeur"), *old[:5], *old[6:]]
    path = saved_xlsx(tmp_path / "april-again.xlsx", stale, dt.datetime(2026, 4, 30, 17, 0))
    report = upload(app, board, path)
    assert report.status == "held" and report.hold == "older_file"
    assert report.reason is not None and str(pending) in en(report.reason)
    summary = reconcile(app, mock, retry=FAST)
    assert [(r.staff_list, r.outcome) for r in summary.apply.boards] == [(pending, "applied")]
    assert len(mock.list_subscriptions().items) == 21  # 20 - 2 leavers + 3 new hires
    assert statuses(app)[report.id] == "held"  # type: ignore[index]
    assert [entity for entity, _ in audited(app, "staff_list.held")] == [str(report.id)]


def test_a_file_identical_to_an_earlier_list_is_held_and_handing_it_in_again_changes_nothing(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(20)
    first = tmp_path / "first.csv"
    first.write_text(staff_csv(staff))
    assert upload(app, board, first).status == "accepted"
    reconcile(app, mock, retry=FAST)
    second = tmp_path / "second.csv"
    second.write_text(staff_csv([*staff, *fake_employees(3, seed=7)]))
    pending = upload(app, board, second)
    again = tmp_path / "first-again.csv"
    again.write_bytes(first.read_bytes())
    held = upload(app, board, again)
    assert held.status == "held" and held.hold == "older_file"
    assert held.reason is not None and "the same file as staff list" in en(held.reason)
    assert upload(app, board, again).status == "unchanged"  # the same old file twice
    # The newer file again is not older than anything: it is taken.
    newer_again = upload(app, board, second)
    assert newer_again.status == "accepted" and newer_again.supersedes == [pending.id]
    reconcile(app, mock, retry=FAST)
    assert len(mock.list_subscriptions().items) == 23
    assert statuses(app)[pending.id] == "superseded"  # type: ignore[index]


def test_an_older_list_held_can_be_rejected_or_confirmed_like_a_removal_hold(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    old, _, pending = a_pending_list_with_new_hires_and_leavers(app, board, mock, tmp_path)
    path = saved_xlsx(tmp_path / "april-again.xlsx", old[:-1], dt.datetime(2026, 4, 30, 17, 0))
    held = upload(app, board, path)
    assert held.status == "held" and held.id is not None
    reject(app, held.id)
    assert statuses(app)[held.id] == "discarded"
    reconcile(app, mock, retry=FAST)
    assert statuses(app)[pending] == "applied"

    older = saved_xlsx(tmp_path / "april-3.xlsx", old[:-2], dt.datetime(2026, 4, 30, 18, 0))
    held = upload(app, board, older)
    assert held.status == "held" and held.hold == "older_file" and held.id is not None
    confirm(app, held.id)  # the operator knows better: the old file is what the board meant
    summary = reconcile(app, mock, retry=FAST)
    assert [(r.staff_list, r.outcome) for r in summary.apply.boards] == [(held.id, "applied")]
    assert len(mock.list_subscriptions().items) == 18


def test_a_list_that_undoes_a_pending_list_is_reported_and_every_supersede_is_visible(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, run: Cli
) -> None:
    old, _, pending = a_pending_list_with_new_hires_and_leavers(app, board, mock, tmp_path)
    # A newer export that drops the pending list's 3 new hires and brings back its 2 leavers.
    path = saved_xlsx(tmp_path / "june.xlsx", old, dt.datetime(2026, 5, 31, 8, 0))
    report = upload(app, board, path)
    assert report.status == "accepted"
    assert report.supersedes == [pending]
    assert report.undoes == {"staff_list": pending, "people": 5}
    assert report.as_dict()["supersedes"] == [pending]
    assert audited(app, "staff_list.accepted")[-1][1]["supersedes"] == [pending]
    result = run("reconcile", "--json")
    assert result.exit_code == 0, result.output
    (board_result,) = json.loads(result.stdout)["boards"]
    assert board_result["staff_list"] == report.id and board_result["superseded"] == [pending]
    assert audited(app, "staff_list.superseded") == [
        (str(pending), {"by": report.id, "board": board})
    ]


def test_the_reconcile_output_names_a_superseded_list(
    app: App, board: str, tmp_path: Path, run: Cli
) -> None:
    staff = fake_employees(10)
    first = hand_in(app, board, staff, tmp_path)
    hand_in(app, board, [*staff, *fake_employees(2, seed=9)], tmp_path)
    result = run("reconcile", "--dry-run")
    assert f"Staff list {first.id} of board {board} is superseded" in result.output


def test_staff_history_lists_every_list_with_its_status_counts_and_who_handed_it_in(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, run: Cli
) -> None:
    old, _, pending = a_pending_list_with_new_hires_and_leavers(app, board, mock, tmp_path)
    path = saved_xlsx(tmp_path / "april-again.xlsx", old[:-1], dt.datetime(2026, 4, 30, 17, 0))
    held = upload(app, board, path, received_by="hr@testscholen.nl")
    broken = tmp_path / "broken.csv"
    broken.write_text("bsn;achternaam\n123;X\n")
    upload(app, board, broken)
    result = run("staff", "history", board, "--json")
    assert result.exit_code == 0, result.output
    lists = json.loads(result.stdout)
    assert [(item["id"], item["status"]) for item in lists] == [
        (1, "applied"),
        (pending, "pending"),
        (held.id, "held"),
        (held.id + 1, "rejected"),  # type: ignore[operator]
    ]
    assert lists[1]["counts"] == {"rows": 21, "new": 3, "leaving": 2, "changed": 0, "unchanged": 18}
    assert lists[2]["received_by"] == "hr@testscholen.nl"
    assert lists[2]["hold"] == "older_file" and lists[2]["reason"]
    assert lists[0]["received_by"] == "test-operator"
    text = run("staff", "history", board).output
    assert "older_file" in text and "hr@testscholen.nl" in text and "rejected" in text
    shown = run("staff", "show", board).output
    assert "held" in shown and "older_file" in shown


def test_a_dry_run_of_a_list_that_would_be_held_names_no_list_to_confirm(
    app: App, board: str, tmp_path: Path, run: Cli
) -> None:
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, None)
    path = tmp_path / "short.csv"
    path.write_text(staff_csv(staff[:10]))
    result = run("staff", "upload", board, str(path), "--dry-run")
    assert result.exit_code == 3
    assert "Would hold" in result.output
    assert "None" not in result.output


def test_a_dry_run_of_reconcile_logs_nothing_as_applied(
    app: App, board: str, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(5), tmp_path)
    with capture_logs() as logs:
        reconcile(app, None, dry_run=True)
    events = [entry["event"] for entry in logs]
    assert "staff_list.applied" not in events and "reconcile.done" not in events
    assert "reconcile.planned" in events


def test_a_file_for_another_board_is_held_and_its_people_are_not_subscribed_for_this_one(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    from vogscreen.pipeline.boards import add_board

    theirs = fake_employees(6, seed=41, brin="21QZ")
    hand_in(app, board, theirs, tmp_path)
    reconcile(app, mock, retry=FAST)
    add_board(app, "10003", "Stichting Verkeerd", ["hr@verkeerd.nl"])

    same_file = tmp_path / "their-export.csv"
    same_file.write_text(staff_csv(theirs))
    copy = upload(app, "10003", same_file)
    assert (copy.status, copy.hold) == ("held", "other_board")
    their_school = hand_in(app, "10003", theirs[:4], tmp_path)  # another file, their BRIN
    assert (their_school.status, their_school.hold) == ("held", "other_board")
    assert "21QZ" in en(their_school.reason)
    reconcile(app, mock, retry=FAST)
    with app.sessions() as session:
        held = session.scalars(select(StaffList.status).where(StaffList.id == their_school.id))
        assert held.one() == "held"
        wrong = select(Employment.id).join(Board).where(Board.number == "10003")
        assert session.scalars(wrong).all() == []  # nobody employed under the wrong board

    # Its own schools, and a teacher who really works at both boards, under its own BRIN.
    own = [*fake_employees(3, seed=42, brin="30RS"), dataclasses.replace(theirs[0], brin="30RS")]
    accepted = hand_in(app, "10003", own, tmp_path)
    assert accepted.status == "accepted", accepted.reason
    # A school that really moved to this board: the operator confirms, and it applies.
    moved = hand_in(app, "10003", [*own, *theirs[1:3]], tmp_path)
    assert moved.hold == "other_board"
    confirm(app, moved.id)  # type: ignore[arg-type]
    summary = reconcile(app, mock, retry=FAST)
    assert any(result.board == "10003" for result in summary.apply.boards)


def test_an_xlsx_saved_after_its_upload_has_its_saved_date_ignored_and_the_report_says_so(
    app: App, board: str, tmp_path: Path
) -> None:
    path = saved_xlsx(tmp_path / "toekomst.xlsx", fake_employees(20), dt.datetime(2036, 1, 1))

    report = upload(app, board, path)

    assert report.status == "accepted" and report.saved_at is None
    shown = report.as_dict()
    assert shown["saved_at"] is None
    assert shown["saved_at_ignored"] == "2036-01-01T00:00:00+00:00"
    with app.sessions() as session:
        stored = session.scalars(select(StaffList.report)).one()
    assert stored["saved_at"] is None and stored["saved_at_ignored"].startswith("2036-01-01")


def test_a_correct_xlsx_after_one_with_a_future_saved_date_is_not_held_as_older(
    app: App, board: str, tmp_path: Path
) -> None:
    staff = fake_employees(20)
    future = saved_xlsx(tmp_path / "toekomst.xlsx", staff, dt.datetime(2036, 1, 1))
    assert upload(app, board, future).status == "accepted"
    later = [*staff, *fake_employees(2, seed=7)]
    today = saved_xlsx(tmp_path / "juni.xlsx", later, dt.datetime(2026, 6, 1, 8, 30))

    report = upload(app, board, today)

    assert report.status == "accepted" and report.hold is None
    assert report.saved_at == dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC)


def test_a_saved_date_a_few_hours_ahead_of_our_clock_is_still_trusted(
    app: App, board: str, tmp_path: Path
) -> None:
    path = saved_xlsx(tmp_path / "scheef.xlsx", fake_employees(5), dt.datetime(2026, 6, 1, 15, 0))

    report = upload(app, board, path)

    assert report.saved_at == dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)
    assert report.as_dict()["saved_at_ignored"] is None


def test_a_future_saved_date_stored_before_it_was_checked_holds_no_later_list(
    app: App, board: str, tmp_path: Path
) -> None:
    staff = fake_employees(20)
    future = saved_xlsx(tmp_path / "toekomst.xlsx", staff, dt.datetime(2036, 1, 1))
    first = upload(app, board, future)
    with app.sessions() as session, session.begin():
        stored = session.get(StaffList, first.id)
        assert stored is not None
        stored.report = {**stored.report, "saved_at": "2036-01-01T00:00:00+00:00"}
    later = [*staff, *fake_employees(2, seed=7)]
    today = saved_xlsx(tmp_path / "juni.xlsx", later, dt.datetime(2026, 6, 1, 8, 30))

    report = upload(app, board, today)

    assert report.status == "accepted" and report.hold is None
