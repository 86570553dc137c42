"""Retention: everyone without a current employment for the period is forgotten."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import func, select

from tests.reconcile_helpers import FAST, days, hand_in, subscription_states
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.retention import purge
from vogscreen.pipeline.staff import current_staff
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Person, StaffListRow
from vogscreen.testing import FakeClock, FakeEmployee, fake_employees


def persons(app: App) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def rows_of_newest(app: App) -> int:
    with app.sessions() as session:
        query = select(func.count()).where(StaffListRow.removed_in_list_id.is_(None))
        return int(session.scalar(query) or 0)


def a_leaver_the_board_keeps_sending(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> list[FakeEmployee]:
    """Six staff; the last leaves by a past datum_uit_dienst and stays on every list."""
    staff = fake_employees(6)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    staff[5] = dataclasses.replace(staff[5], end_date=app.today() - days(1))
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    assert len(mock.list_subscriptions().items) == 5
    clock.advance(days=200)
    return staff


def test_retention_purges_a_leaver_whose_row_the_board_keeps_sending(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    staff = a_leaver_the_board_keeps_sending(app, board, mock, tmp_path, clock)
    # A later list: one change elsewhere, the leaver's row carried over as it was.
    staff[0] = dataclasses.replace(staff[0], vog_date=app.today() - days(1))
    hand_in(app, board, staff, tmp_path)
    counts = purge(app)
    assert counts["persons"] == 1 and persons(app) == 5
    assert rows_of_newest(app) == 5
    # The list the leaver is still on is applied after the purge; the chain stays whole.
    summary = reconcile(app, mock, retry=FAST)
    assert [r.outcome for r in summary.apply.boards] == ["applied"]
    assert len(current_staff(app, board).members) == 5
    assert len(mock.list_subscriptions().items) == 5
    assert purge(app)["persons"] == 0
    # The next list still names the leaver, ended: a new person, never employed, kept for
    # the period, then forgotten again.
    staff[1] = dataclasses.replace(staff[1], vog_date=app.today() - days(1))
    assert hand_in(app, board, staff, tmp_path).status == "accepted"
    reconcile(app, mock, retry=FAST)
    assert persons(app) == 6 and purge(app)["persons"] == 0
    clock.advance(days=200)
    assert purge(app)["persons"] == 1 and persons(app) == 5


def test_a_purged_person_named_again_comes_back_as_a_new_person_and_is_subscribed_again(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    staff = a_leaver_the_board_keeps_sending(app, board, mock, tmp_path, clock)
    assert purge(app)["persons"] == 1
    # Rehired: the row without datum_uit_dienst.
    staff[5] = dataclasses.replace(staff[5], end_date=None, function="directeur")
    report = hand_in(app, board, staff, tmp_path)
    assert report.counts["new"] == 1
    reconcile(app, mock, retry=FAST)
    assert persons(app) == 6
    assert sorted(subscription_states(app).values()) == ["active"] * 6


def test_the_authority_subscribes_a_purged_person_who_comes_back(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    staff = a_leaver_the_board_keeps_sending(app, board, mock, tmp_path, clock)
    assert purge(app)["persons"] == 1
    staff[5] = dataclasses.replace(staff[5], end_date=None, function="directeur")
    assert hand_in(app, board, staff, tmp_path).status == "accepted"
    reconcile(app, mock, retry=FAST)
    assert len(mock.list_subscriptions().items) == 6


def test_retention_keeps_the_rows_a_list_still_waiting_to_be_applied_needs(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    staff = fake_employees(8)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    report = hand_in(app, board, staff[:6], tmp_path)  # two leave; nobody reconciles...
    assert report.counts["leaving"] == 2
    clock.advance(days=200)  # ...for longer than the retention period (a worker down)
    purge(app)
    summary = reconcile(app, mock, retry=FAST)
    assert summary.apply.boards[0].counts["leaving"] == 2
    assert sorted(subscription_states(app).values()) == ["active"] * 6 + ["ended"] * 2


def test_a_portal_preview_nobody_came_back_for_is_removed_by_retention_after_its_hour(
    app: App, board: str
) -> None:
    import os
    import time

    from vogscreen.domain.statuses import LoginMethod
    from vogscreen.pipeline import previews
    from vogscreen.pipeline.login import Principal

    who = Principal(1, board, "Stichting Testscholen", LoginMethod.EMAIL_LINK, "hr@t.nl")
    fresh = previews.keep(app, who, "vers.csv", b"bsn;geboortedatum\n")
    old = previews.keep(app, who, "oud.csv", b"bsn;geboortedatum\n")
    folder = Path(app.settings.var_dir) / "portal-previews"
    an_hour_ago = time.time() - previews.KEPT_SECONDS - 1
    os.utime(folder / f"{old}.bin", (an_hour_ago, an_hour_ago))
    assert purge(app)["portal_previews"] == 1
    assert sorted(path.name for path in folder.iterdir()) == [f"{fresh}.bin"]
    assert previews.take(app, who, fresh) is not None
    assert previews.take(app, who, old) is None


def test_login_links_sessions_and_requests_are_forgotten_a_day_after_they_end(
    app: App, board: str, clock: FakeClock
) -> None:
    from vogscreen.pipeline.login import request_link
    from vogscreen.store.models import LoginLink, LoginRequest

    request_link(app, "hr@testscholen.nl", "127.0.0.1")
    request_link(app, "onbekend@example.nl", "127.0.0.1")
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginLink)) == 1
    assert purge(app)["portal_logins"] == 0  # the link is still valid
    clock.advance(days=2)
    assert purge(app)["portal_logins"] == 3  # the expired link and both requests
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginLink)) == 0
        assert session.scalar(select(func.count()).select_from(LoginRequest)) == 0
