"""Reconciliation end to end on the mock authority: plan, guard, apply, drain, validate."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.reconcile_helpers import (
    FAST,
    FlakyAuthority,
    count_rows,
    days,
    hand_in,
    misconfigured,
    subscription_states,
    unavailable,
)
from tests.texts import en
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.errors import AuthorityMisconfigured, StateConflict
from vogscreen.pipeline.authority_check import validate
from vogscreen.pipeline.boards import add_board, update_board
from vogscreen.pipeline.reconcile import ReconcileSummary, apply_pending, confirm, reject
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.ports.authority import ScreeningAuthority
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import (
    AuditEvent,
    AuthorityOperation,
    Employment,
    Person,
    StaffList,
    Subscription,
)
from vogscreen.testing import FakeClock, fake_employees


def run(app: App, authority: ScreeningAuthority, **kwargs: Any) -> ReconcileSummary:
    return reconcile(app, authority, retry=FAST, **kwargs)


def person_ids(app: App) -> dict[str, int]:
    """personeelsnummer -> person id, for the persons on current employments."""
    with app.sessions() as session:
        return dict(
            session.execute(
                select(Employment.personeelsnummer, Employment.person_id).where(
                    Employment.ended_at.is_(None)
                )
            ).all()
        )


def test_joiners_are_subscribed_and_confirmed_by_the_authority(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(20), tmp_path)
    summary = run(app, mock)
    assert summary.drain.subscribed == 20
    assert set(subscription_states(app).values()) == {"active"}
    assert len(mock.list_subscriptions().items) == 20
    assert all(count == 1 for count in mock.applied_counts().values())


def test_leavers_are_unsubscribed_and_changes_update_the_employment(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(20)
    hand_in(app, board, staff, tmp_path)
    run(app, mock)
    leaver = staff[3]
    changed = dataclasses.replace(staff[5], function="directeur")
    joiner = fake_employees(1, seed=99)[0]
    next_list = [e for e in staff if e not in (leaver, staff[5])] + [changed, joiner]
    report = hand_in(app, board, next_list, tmp_path)
    assert report.counts == {"rows": 20, "new": 1, "leaving": 1, "changed": 1, "unchanged": 18}
    summary = run(app, mock)
    assert (summary.drain.subscribed, summary.drain.unsubscribed) == (1, 1)
    with app.sessions() as session:
        functions = dict(
            session.execute(
                select(Employment.personeelsnummer, Employment.function).where(
                    Employment.ended_at.is_(None)
                )
            ).all()
        )
    assert leaver.personeelsnummer not in functions
    assert functions[changed.personeelsnummer] == "directeur"
    assert len(mock.list_subscriptions().items) == 20
    states = subscription_states(app)
    assert sorted(states.values()).count("ended") == 1


def test_a_person_at_two_boards_stays_subscribed_until_the_last_employment_ends(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    add_board(app, "54321", "Stichting Tweede", ["hr@tweede.nl"])
    staff_a = fake_employees(10, seed=1)
    staff_b = fake_employees(10, seed=2)
    both = dataclasses.replace(staff_a[0], personeelsnummer="B-1")
    hand_in(app, board, staff_a, tmp_path)
    hand_in(app, "54321", [*staff_b, both], tmp_path)
    run(app, mock)
    assert len(mock.list_subscriptions().items) == 20  # 21 employments, 20 persons
    shared = person_ids(app)[both.personeelsnummer]

    hand_in(app, board, staff_a[1:], tmp_path)  # leaves board A only
    summary = run(app, mock)
    assert summary.drain.unsubscribed == 0
    assert subscription_states(app)[shared] == "active"

    hand_in(app, "54321", staff_b, tmp_path)  # and now board B as well
    summary = run(app, mock)
    assert summary.drain.unsubscribed == 1
    assert subscription_states(app)[shared] == "ended"


def test_a_row_with_a_past_end_date_counts_as_leaving_and_a_future_one_ends_on_its_day(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    staff = fake_employees(10)
    hand_in(app, board, staff, tmp_path)
    run(app, mock)
    today = app.today()
    staff[0] = dataclasses.replace(staff[0], end_date=today - days(1))
    staff[1] = dataclasses.replace(staff[1], end_date=today + days(3))
    report = hand_in(app, board, staff, tmp_path)
    assert report.counts["leaving"] == 1
    assert run(app, mock).drain.unsubscribed == 1
    clock.advance(days=4)
    summary = run(app, mock)
    assert summary.apply.lapsed == 1
    assert summary.drain.unsubscribed == 1
    assert len(mock.list_subscriptions().items) == 8


def test_the_removal_guard_holds_a_list_that_would_end_too_many(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    run(app, mock)
    report = hand_in(app, board, staff[:30], tmp_path)  # a truncated export: 10 of 40 gone
    assert report.status == "held"
    assert report.reason is not None and "10 of the board's 40" in en(report.reason)
    summary = run(app, mock)
    assert summary.drain.sent == 0
    assert len(mock.list_subscriptions().items) == 40

    assert report.id is not None
    confirm(app, report.id)
    summary = run(app, mock)
    assert summary.drain.unsubscribed == 10
    assert len(mock.list_subscriptions().items) == 30


def test_a_held_list_can_be_rejected_and_nothing_changes(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    run(app, mock)
    report = hand_in(app, board, staff[:10], tmp_path)
    assert report.status == "held" and report.id is not None
    reject(app, report.id)
    run(app, mock)
    assert len(mock.list_subscriptions().items) == 40
    with app.sessions() as session:
        assert session.get(StaffList, report.id).status == "discarded"  # type: ignore[union-attr]
    with pytest.raises(StateConflict):
        confirm(app, report.id)


def test_below_either_threshold_a_list_is_not_held(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(100)
    hand_in(app, board, staff, tmp_path)
    run(app, mock)
    assert hand_in(app, board, staff[:90], tmp_path).status == "accepted"  # 10% is not > 10%
    run(app, mock)
    update_board(app, board, removal_threshold_count=20)
    assert hand_in(app, board, staff[:72], tmp_path).status == "accepted"  # 18 is not > 20


def test_a_list_older_than_the_last_applied_one_is_never_applied_over_it(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    run(app, mock)
    held = hand_in(app, board, staff[:5], tmp_path)
    assert held.status == "held" and held.id is not None
    newer = hand_in(app, board, [*staff, *fake_employees(2, seed=5)], tmp_path)
    assert newer.status == "accepted"
    run(app, mock)
    with pytest.raises(StateConflict, match="newer staff list"):
        confirm(app, held.id)
    with app.sessions() as session:
        assert session.get(StaffList, held.id).status == "superseded"  # type: ignore[union-attr]
    run(app, mock)
    assert len(mock.list_subscriptions().items) == 42


def test_a_dry_run_writes_nothing_and_sends_nothing(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(15), tmp_path)
    tables = (Employment, Subscription, AuthorityOperation, AuditEvent, Person)
    before = {model: count_rows(app, model) for model in tables}
    summary = reconcile(app, None, dry_run=True)
    assert summary.apply.boards[0].counts["new"] == 15
    assert summary.apply.subscriptions.subscribe == 15
    assert {model: count_rows(app, model) for model in tables} == before
    with app.sessions() as session:
        assert session.scalars(select(StaffList.status)).all() == ["pending"]
    assert mock.applied_counts() == {}


def test_a_second_reconcile_with_nothing_new_makes_no_authority_write(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(15), tmp_path)
    flaky = FlakyAuthority(mock)
    run(app, flaky)
    writes = flaky.writes
    summary = run(app, flaky)
    assert flaky.writes == writes
    assert summary.drain.sent == 0


def test_a_crash_between_apply_and_drain_loses_nothing(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(12), tmp_path)
    apply_pending(app)  # ... and the process dies before draining
    assert set(subscription_states(app).values()) == {"pending"}
    summary = run(app, mock)
    assert summary.drain.subscribed == 12
    assert set(subscription_states(app).values()) == {"active"}


def test_a_transient_failure_leaves_the_batch_queued_for_the_next_run(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    hand_in(app, board, fake_employees(12), tmp_path)
    flaky = FlakyAuthority(mock)
    flaky.failures = [unavailable(), unavailable()]  # both attempts of the retry policy
    summary = run(app, flaky)
    assert summary.drain.deferred == 12
    assert summary.drain.stopped
    assert set(subscription_states(app).values()) == {"pending"}
    assert run(app, flaky).drain.sent == 0  # backing off
    clock.advance(minutes=2)
    assert run(app, flaky).drain.subscribed == 12
    assert all(count == 1 for count in mock.applied_counts().values())


def test_one_retry_with_retry_after_is_enough_when_the_authority_recovers(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(3), tmp_path)
    flaky = FlakyAuthority(mock)
    flaky.failures = [unavailable(retry_after=0.0)]
    assert run(app, flaky).drain.subscribed == 3


def test_a_refused_item_is_recorded_and_never_blocks_the_others(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(10)
    staff[4] = dataclasses.replace(staff[4], bsn="999990019")  # the mock's unknown range
    hand_in(app, board, staff, tmp_path)
    summary = run(app, mock)
    assert (summary.drain.subscribed, summary.drain.rejected) == (9, 1)
    states = subscription_states(app)
    assert sorted(states.values()).count("failed") == 1
    with app.sessions() as session:
        operation = session.scalars(
            select(AuthorityOperation).where(AuthorityOperation.status == "rejected")
        ).one()
    assert operation.error_code == "unknown_bsn"
    assert run(app, mock).drain.sent == 0  # not resent nightly


def test_a_misconfigured_authority_stops_the_run_and_keeps_everything_queued(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(5), tmp_path)
    flaky = FlakyAuthority(mock)
    flaky.failures = [misconfigured()]
    with pytest.raises(AuthorityMisconfigured):
        run(app, flaky)
    assert set(subscription_states(app).values()) == {"pending"}
    assert run(app, mock).drain.subscribed == 5


def test_someone_who_leaves_before_the_subscribe_was_sent_is_never_sent(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(10)
    hand_in(app, board, staff, tmp_path)
    apply_pending(app)
    hand_in(app, board, staff[:9], tmp_path)
    apply_pending(app)
    summary = run(app, mock)
    assert (summary.drain.subscribed, summary.drain.unsubscribed) == (9, 0)
    assert len(mock.applied_counts()) == 9


def test_someone_who_leaves_and_comes_back_is_subscribed_again_with_fresh_keys(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = fake_employees(10)
    hand_in(app, board, staff, tmp_path)
    run(app, mock)
    hand_in(app, board, staff[1:], tmp_path)
    run(app, mock)
    # Byte for byte the first file again: held as an older file until an operator confirms.
    again = hand_in(app, board, staff, tmp_path)
    assert again.status == "held" and again.hold == "older_file" and again.id is not None
    confirm(app, again.id)
    summary = run(app, mock)
    assert summary.drain.subscribed == 1
    assert len(mock.list_subscriptions().items) == 10
    keys = mock.applied_counts()
    assert len(keys) == 12 and set(keys.values()) == {1}


def test_validate_reports_no_drift_after_reconcile_and_repairs_drift(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(25), tmp_path)
    run(app, mock)
    assert validate(app, mock).as_dict() | {} == {
        "authority": 25,
        "ours": 25,
        "missing": 0,
        "unknown": 0,
        "resubscribed": 0,
        "cancelled": 0,
    }
    # The authority loses five subscriptions and holds one we never asked for.
    lost = [item.subscription_ref for item in mock.list_subscriptions().items[:5]]
    from vogscreen.ports.authority import SubscribeItem, UnsubscribeItem

    mock.unsubscribe([UnsubscribeItem(f"lost-{ref}", ref) for ref in lost])
    stranger = fake_employees(1, seed=77)[0]
    mock.subscribe([SubscribeItem("stranger", stranger.bsn, stranger.birth_date)])
    drift = validate(app, mock)
    assert (drift.authority, drift.missing, drift.unknown) == (21, 5, 1)
    repaired = validate(app, mock, repair=True)
    assert (repaired.resubscribed, repaired.cancelled) == (5, 1)
    after = validate(app, mock)
    assert (after.authority, after.ours, after.missing, after.unknown) == (25, 25, 0, 0)


def test_statistics_are_refreshed_on_postgresql_after_a_large_apply(app: App) -> None:
    from sqlalchemy import text

    from vogscreen.pipeline.reconcile import refresh_statistics

    refresh_statistics(app)  # a no-op on SQLite
    if app.engine.dialect.name == "postgresql":
        with app.engine.connect() as connection:
            analysed = connection.execute(
                text(
                    "SELECT last_analyze FROM pg_stat_user_tables "
                    "WHERE relname = 'authority_outbox'"
                )
            ).scalar()
        assert analysed is not None
