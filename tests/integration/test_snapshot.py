"""Staff lists as a chain of rows: a new list stores its changes, and every list keeps its rows.

The apply compares only the people whose rows changed since the last applied list; these
tests hold it to the answer of comparing everything, through superseded, held and
discarded lists and through end dates that pass.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.corpus.formats import xlsx, xlsx_cells
from tests.reconcile_helpers import FAST, days, hand_in
from tests.texts import every_language
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.errors import StateConflict
from vogscreen.intake import problems as p
from vogscreen.pipeline import intake as service
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.reconcile import reject
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.staff import current_staff
from vogscreen.runtime.bootstrap import App
from vogscreen.store import staff_lists as snapshot
from vogscreen.store.models import AuditEvent, Board, Employment, StaffList, StaffListRow
from vogscreen.testing import HEADER, FakeClock, FakeEmployee, fake_employees, staff_csv


def list_rows(app: App, board: str, staff_list: int) -> set[tuple[str | None, str | None]]:
    """(personeelsnummer, function) of every row of one list."""
    with app.sessions() as session:
        board_id = session.scalar(select(Board.id).where(Board.number == board))
        assert board_id is not None
        return set(
            session.execute(
                select(StaffListRow.personeelsnummer, StaffListRow.function).where(
                    snapshot.members(staff_list, board_id)
                )
            ).all()
        )


def current(app: App) -> set[tuple[str | None, str | None, str | None]]:
    with app.sessions() as session:
        return set(
            session.execute(
                select(Employment.personeelsnummer, Employment.function, Employment.brin).where(
                    Employment.ended_at.is_(None)
                )
            ).all()
        )


def expected(staff: list[FakeEmployee], app: App) -> set[tuple[str | None, str | None, str]]:
    """What comparing the whole list with nothing would make current."""
    return {
        (e.personeelsnummer, e.function, e.brin)
        for e in staff
        if e.end_date is None or e.end_date >= app.today()
    }


def test_a_new_list_stores_only_its_changes_and_every_list_keeps_its_rows(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(20)
    first = hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    changed = dataclasses.replace(staff[5], function="directeur")
    joiner = fake_employees(1, seed=99)[0]
    second_staff = [e for e in staff if e not in (staff[3], staff[5])] + [changed, joiner]
    second = hand_in(app, board, second_staff, tmp_path)
    assert second.counts == {"rows": 20, "new": 1, "leaving": 1, "changed": 1, "unchanged": 18}
    assert first.id is not None and second.id is not None

    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StaffListRow)) == 22
    assert stored_counts(app, second.id) == (2, 18, 2)

    functions = {(e.personeelsnummer, e.function) for e in staff}
    assert list_rows(app, board, first.id) == functions
    assert list_rows(app, board, second.id) == {
        (e.personeelsnummer, e.function) for e in second_staff
    }
    shown = current_staff(app, board)
    assert shown.staff_list_id == second.id
    assert {(m.personeelsnummer, m.function) for m in shown.members} == list_rows(
        app, board, second.id
    )

    reconcile(app, mock, retry=FAST)
    assert current(app) == expected(second_staff, app)


def test_applying_only_the_changes_ends_where_comparing_everything_would(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    rng = random.Random(7)
    staff = fake_employees(60)
    newcomers = iter(fake_employees(200, seed=42))
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    assert current(app) == expected(staff, app)
    for day in range(8):
        for _ in range(rng.randint(1, 3)):  # leavers, dropped from the list
            staff.pop(rng.randrange(len(staff)))
        for _ in range(rng.randint(1, 3)):  # joiners
            staff.insert(rng.randrange(len(staff)), next(newcomers))
        for _ in range(rng.randint(1, 3)):  # changes
            at = rng.randrange(len(staff))
            staff[at] = dataclasses.replace(staff[at], function=f"functie {day}", brin="34CD")
        # One leaves on a date that passes two days later, without another list.
        at = rng.randrange(len(staff))
        staff[at] = dataclasses.replace(staff[at], end_date=app.today() + days(2))
        if day % 3 == 1:
            # A list that is overtaken before it is applied.
            overtaken = [*staff[1:], next(newcomers)]
            assert hand_in(app, board, overtaken, tmp_path).status == "accepted"
        assert hand_in(app, board, staff, tmp_path).status == "accepted"
        reconcile(app, mock, retry=FAST)
        assert current(app) == expected(staff, app), f"day {day}"
        clock.advance(days=3)
        reconcile(app, mock, retry=FAST)  # the passed end dates end their employments
        assert current(app) == expected(staff, app), f"day {day}, three days later"
    assert len(mock.list_subscriptions().items) == len(expected(staff, app))


def test_a_list_after_a_discarded_held_list_holds_exactly_its_own_rows(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    held = hand_in(app, board, staff[:10], tmp_path)
    assert held.status == "held" and held.id is not None
    reject(app, held.id)
    # Stored against the discarded list (the chain's newest), it must still be itself.
    later = hand_in(app, board, staff[:39], tmp_path)
    assert later.status == "accepted" and later.id is not None
    assert later.counts["leaving"] == 1 and later.counts["unchanged"] == 39
    assert list_rows(app, board, later.id) == {(e.personeelsnummer, e.function) for e in staff[:39]}
    reconcile(app, mock, retry=FAST)
    assert current(app) == expected(staff[:39], app)


def test_a_changed_row_with_the_bsn_or_number_of_an_unchanged_one_is_a_duplicate(
    app: App, board: str, tmp_path: Path
) -> None:
    staff = fake_employees(10)
    hand_in(app, board, staff, tmp_path)
    twin = dataclasses.replace(staff[2], personeelsnummer="P-NEW", function="conciërge")
    stranger = dataclasses.replace(
        fake_employees(1, seed=5)[0], personeelsnummer=staff[4].personeelsnummer
    )
    report = hand_in(app, board, [*staff, twin, stranger], tmp_path)
    assert report.status == "rejected"
    found = {
        (problem.line, problem.code): every_language(problem.message) for problem in report.problems
    }
    # staff[2] is on line 4 and carried over unchanged; the twin (line 12) repeats its BSN.
    assert "line 4" in found[(12, p.DUPLICATE_BSN)]
    # staff[4] on line 6, also unchanged, has the personeelsnummer of the stranger (13).
    assert "line 6" in found[(13, p.DUPLICATE_PERSONEELSNUMMER)]
    assert all(e.bsn not in message for e in staff for message in found.values())


def stored_counts(app: App, staff_list: int | None) -> tuple[int, int, int]:
    with app.sessions() as session:
        details = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == "staff_list.accepted", AuditEvent.entity_id == str(staff_list)
            )
        ).one()
    return details["rows_stored"], details["rows_carried"], details["rows_dropped"]


def test_an_xlsx_list_carries_its_unchanged_rows_too(app: App, board: str, tmp_path: Path) -> None:
    staff = fake_employees(12)
    header = list(HEADER)
    first = tmp_path / "one.xlsx"
    first.write_bytes(xlsx([header, *map(xlsx_cells, staff)]))
    assert upload(app, board, first).status == "accepted"
    staff[4] = dataclasses.replace(staff[4], vog_date=app.today())
    second = tmp_path / "two.xlsx"
    second.write_bytes(xlsx([header, *map(xlsx_cells, staff)]))
    report = upload(app, board, second)
    assert report.status == "accepted"
    assert stored_counts(app, report.id) == (1, 11, 1)
    # The same rows as CSV are another file with other cells: nothing is carried over.
    third = tmp_path / "three.csv"
    third.write_text(staff_csv(staff))
    report = upload(app, board, third)
    assert stored_counts(app, report.id) == (12, 0, 12)


def test_a_list_stored_meanwhile_makes_the_other_upload_refuse_rather_than_fork_the_chain(
    app: App, board: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = fake_employees(10)
    hand_in(app, board, staff, tmp_path)
    real_store = service._write

    def another_upload_first(*args: object, **kwargs: object) -> int:
        monkeypatch.setattr(service, "_write", real_store)
        hand_in(app, board, staff[:9], tmp_path)  # checked and stored in between
        return real_store(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_write", another_upload_first)
    with pytest.raises(StateConflict, match="hand this file in again"):
        hand_in(app, board, staff[1:], tmp_path)
    # The list stored in between is the board's newest, whole and alone.
    with app.sessions() as session:
        newest = session.scalar(select(func.max(StaffList.id)))
    assert newest is not None
    assert list_rows(app, board, newest) == {(e.personeelsnummer, e.function) for e in staff[:9]}


def test_a_first_list_starts_everyone_except_those_whose_end_date_has_passed(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(12)
    staff[3] = dataclasses.replace(staff[3], end_date=app.today() - days(1))
    staff[7] = dataclasses.replace(staff[7], end_date=app.today())  # still works today
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    assert current(app) == expected(staff, app)
    assert len(current(app)) == 11
