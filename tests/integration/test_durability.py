"""Nothing sent is ever forgotten, and no key is ever used twice.

An operation that may have reached the authority (its batch left, the answer was lost) is
in flight: it is replayed with its idempotency key, never cancelled. Keys never depend on
a row id that the database may hand out again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.followup_helpers import raise_hit
from tests.reconcile_helpers import FAST, FlakyAuthority, hand_in, unavailable
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.authority_check import validate
from vogscreen.pipeline.authority_sync import drain
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.notify import notify
from vogscreen.pipeline.reconcile import apply_pending
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.retention import purge
from vogscreen.ports.authority import ItemResult, SubscribeItem, UnsubscribeItem
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuthorityOperation, Case, Employment, Hit, Notification
from vogscreen.testing import FakeClock, fake_employees


class Killed(BaseException):
    """The process died: nothing after this point of the run happens."""


class DiesAfterTheAuthorityApplies(FlakyAuthority):
    """The authority applies the batch; the process dies before it hears the answer."""

    def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]:
        self.inner.subscribe(items)
        raise Killed

    def unsubscribe(self, items: Sequence[UnsubscribeItem]) -> list[ItemResult]:
        self.inner.unsubscribe(items)
        raise Killed


class Unreachable(FlakyAuthority):
    """The authority's writes time out: nothing is applied, no answer comes."""

    def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]:
        raise unavailable()

    def unsubscribe(self, items: Sequence[UnsubscribeItem]) -> list[ItemResult]:
        raise unavailable()


def test_a_subscribe_whose_answer_was_lost_is_never_cancelled_when_the_person_leaves(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    staff = fake_employees(8)
    hand_in(app, board, staff, tmp_path)
    apply_pending(app)
    with pytest.raises(Killed):
        drain(app, DiesAfterTheAuthorityApplies(mock), retry=FAST)
    assert len(mock.list_subscriptions().items) == 8  # the authority did apply them

    clock.advance(days=1)
    hand_in(app, board, staff[:6], tmp_path)  # two leave before we heard the answer
    summary = reconcile(app, mock, retry=FAST)

    assert summary.apply.subscriptions.cancelled == 0
    with app.sessions() as session:
        statuses = set(session.scalars(select(AuthorityOperation.status)))
    assert "cancelled" not in statuses
    report = validate(app, mock, retry=FAST)
    assert (report.missing, report.unknown) == (0, 0)
    assert len(mock.list_subscriptions().items) == 6
    assert set(mock.applied_counts().values()) == {1}


def test_a_batch_is_marked_in_flight_and_committed_before_it_leaves(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(3), tmp_path)
    apply_pending(app)
    seen: list[set[str]] = []

    class Peeks(FlakyAuthority):
        def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]:
            # Another connection sees what is committed while the batch is on its way.
            with app.sessions() as session:
                seen.append(
                    {
                        "sent" if row.sent_at is not None else "unsent"
                        for row in session.scalars(select(AuthorityOperation))
                    }
                )
            return super().subscribe(items)

    drain(app, Peeks(mock), retry=FAST)
    assert seen == [{"sent"}]


def test_a_lost_answer_is_replayed_with_its_key_once_the_in_flight_lease_lapses(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(4), tmp_path)
    apply_pending(app)
    with pytest.raises(Killed):
        drain(app, DiesAfterTheAuthorityApplies(mock), retry=FAST)
    # A worker that starts right after the crash leaves the rows to their sender...
    assert drain(app, mock, retry=FAST).sent == 0
    # ...and replays them once the sender's time is up: the authority applies nothing twice.
    clock.advance(minutes=30)
    summary = drain(app, mock, retry=FAST)
    assert (summary.sent, summary.subscribed) == (4, 4)
    assert set(mock.applied_counts().values()) == {1}
    assert validate(app, mock, retry=FAST).missing == 0


def test_a_newcomer_who_gets_a_purged_persons_id_is_really_subscribed(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    staff = fake_employees(6)
    hand_in(app, board, staff[:5], tmp_path)
    reconcile(app, mock, retry=FAST)
    hand_in(app, board, staff[:4], tmp_path)  # the newest person leaves
    reconcile(app, mock, retry=FAST)
    clock.advance(days=200)
    assert purge(app)["persons"] == 1

    hand_in(app, board, [*staff[:4], staff[5]], tmp_path)  # a newcomer joins
    reconcile(app, mock, retry=FAST)

    report = validate(app, mock, retry=FAST)
    assert (report.ours, report.authority, report.missing, report.unknown) == (5, 5, 0, 0)
    with app.sessions() as session:
        keys = list(session.scalars(select(AuthorityOperation.idempotency_key)))
        newcomer = session.scalar(
            select(Employment.person_id).where(
                Employment.personeelsnummer == staff[5].personeelsnummer
            )
        )
    assert newcomer is not None
    assert len(keys) == len(set(keys))
    # Every key the authority ever saw was applied once: none was replayed for a stranger.
    assert set(mock.applied_counts().values()) == {1}


def test_retention_never_deletes_the_rows_that_case_references_and_message_ids_come_from(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    staff = fake_employees(3)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    raise_hit(app, mock, board, staff[2].personeelsnummer)
    poll(app, mock)
    notify(app)
    hand_in(app, board, staff[:2], tmp_path)
    reconcile(app, mock, retry=FAST)
    clock.advance(days=400)
    assert purge(app)["persons"] == 1
    with app.sessions() as session:
        counts = [len(session.scalars(select(m.id)).all()) for m in (Hit, Case, Notification)]
        message_ids = list(session.scalars(select(Notification.message_id)))
    assert counts == [1, 1, 1]
    assert all(len(m) > 40 for m in message_ids)  # random, not hit.<id>.<board>


def test_a_stored_value_no_header_may_carry_fails_its_message_only_and_status_says_so(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from tests.followup_helpers import BOARD_A, two_boards_with_a_shared_teacher
    from vogscreen.pipeline.status import status

    staff_a, _, shared = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)  # the teacher at both boards
    poll(app, mock)
    # Stored before cells were checked for control characters.
    with app.sessions.begin() as session:
        session.execute(
            update(Employment)
            .where(Employment.personeelsnummer == shared.personeelsnummer)
            .values(personeelsnummer="ZZ-0042\r\nBcc: x@example.org")
        )
    summary = notify(app)
    assert (summary.sent, summary.failed) == (1, 1)
    mails = [path.read_text() for path in (app.settings.maildir / "new").iterdir()]
    assert len(mails) == 1 and "Bcc" not in mails[0]
    report = status(app)
    assert not report["healthy"]
    assert any("could not be delivered" in problem for problem in report["problems"])


def test_a_hit_raised_before_we_recorded_its_reference_is_routed_once_we_have_it(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(2), tmp_path)
    apply_pending(app)
    with pytest.raises(Killed):
        drain(app, DiesAfterTheAuthorityApplies(mock), retry=FAST)
    ref = mock.list_subscriptions().items[0].subscription_ref
    mock.raise_hit(ref)  # the authority has the subscription; we do not know its reference
    first = poll(app, mock)
    assert (first.new, first.routed, first.unrouted) == (1, 0, 1)

    clock.advance(minutes=30)
    drain(app, mock, retry=FAST)  # the lost answer is replayed: now we know the reference
    later = poll(app, mock)
    assert (later.routed, later.cases) == (1, 1)
    with app.sessions() as session:
        hit = session.scalars(select(Hit)).one()
        assert hit.routed and hit.person_id is not None
        assert len(session.scalars(select(Case.id)).all()) == 1
    assert notify(app).sent == 1
    assert poll(app, mock).cases == 0  # routed once, never again


def test_a_late_routed_hit_goes_to_the_boards_that_employed_the_person_when_it_came_in(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    staff = fake_employees(1)
    hand_in(app, board, staff, tmp_path)
    apply_pending(app)
    with pytest.raises(Killed):
        drain(app, DiesAfterTheAuthorityApplies(mock), retry=FAST)
    mock.raise_hit(mock.list_subscriptions().items[0].subscription_ref)
    assert poll(app, mock).unrouted == 1  # employed now, but the reference is not ours yet

    clock.advance(days=1)
    hand_in(app, board, [*fake_employees(1, seed=9)], tmp_path)  # then they leave
    clock.advance(minutes=30)
    reconcile(app, mock, retry=FAST)  # the lost answer replayed, then the unsubscribe
    assert poll(app, mock).cases == 1  # the board employed them when the hit came in
    with app.sessions() as session:
        assert session.scalars(select(Hit.routed)).one() is True


def test_an_unsubscribe_in_flight_keeps_its_reference_when_the_person_comes_back_and_leaves(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    staff = fake_employees(8)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    down = Unreachable(mock)
    hand_in(app, board, staff[1:], tmp_path)  # A leaves: the unsubscribe leaves, unanswered
    reconcile(app, down, retry=FAST)
    # (Each file differs from the earlier ones: an identical one would be held as older.)
    staff[3] = dataclasses.replace(staff[3], function="intern begeleider")
    hand_in(app, board, staff, tmp_path)  # A is back: a subscribe waits behind it
    reconcile(app, down, retry=FAST)
    hand_in(app, board, staff[1:], tmp_path)  # and gone again: the unsent subscribe is cancelled
    summary = reconcile(app, down, retry=FAST)
    assert summary.apply.subscriptions.cancelled == 1

    clock.advance(hours=2)
    reconcile(app, mock, retry=FAST)
    report = validate(app, mock, retry=FAST)
    assert (report.authority, report.ours, report.missing, report.unknown) == (7, 7, 0, 0)
    with app.sessions() as session:
        codes = list(
            session.scalars(
                select(AuthorityOperation.error_code).where(
                    AuthorityOperation.operation == "unsubscribe"
                )
            )
        )
    assert codes == ["unsubscribed"]  # really sent with its reference, not settled unsent


def test_a_subscribe_a_drain_took_after_the_plan_was_made_is_ended_not_cancelled(
    app: App, board: str, clock: FakeClock, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from vogscreen.domain.plan import plan_subscriptions
    from vogscreen.store.database import transaction
    from vogscreen.store.subscriptions import carry_out, load_states

    hand_in(app, board, fake_employees(1), tmp_path)
    apply_pending(app)  # a subscribe queued, not sent
    with transaction(app.sessions) as session:
        session.execute(update(Employment).values(ended_at=clock()))
        person = session.scalars(select(Employment.person_id)).one()
        actions = plan_subscriptions(load_states(session, [person]))
        assert [a.kind for a in actions] == ["cancel"]
        # Another worker's drain marks the row in flight before this plan is carried out.
        session.execute(update(AuthorityOperation).values(sent_at=clock()))
        changes = carry_out(session, actions, clock())
    assert (changes.cancelled, changes.unsubscribe) == (0, 1)
    with app.sessions() as session:
        rows = session.execute(select(AuthorityOperation.operation, AuthorityOperation.status))
        assert sorted(rows.all()) == [("subscribe", "pending"), ("unsubscribe", "pending")]


def test_a_hit_on_the_reference_of_a_cycle_still_ending_reaches_the_person_who_came_back(
    app: App, board: str, mock: MockAuthority, clock: FakeClock, tmp_path: Path
) -> None:
    staff = fake_employees(2)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock, retry=FAST)
    ref = {item.subscription_ref for item in mock.list_subscriptions().items}
    down = Unreachable(mock)
    hand_in(app, board, staff[:1], tmp_path)  # one leaves; the unsubscribe gets no answer
    reconcile(app, down, retry=FAST)
    staff[0] = dataclasses.replace(staff[0], function="adjunct-directeur")
    hand_in(app, board, staff, tmp_path)  # and is back: a new cycle, its subscribe waits
    reconcile(app, down, retry=FAST)

    with app.sessions() as session:
        leaver = session.scalar(
            select(Employment.person_id).where(
                Employment.personeelsnummer == staff[1].personeelsnummer
            )
        )
        old_ref = session.scalar(
            select(AuthorityOperation.subscription_ref).where(
                AuthorityOperation.person_id == leaver,
                AuthorityOperation.operation == "subscribe",
            )
        )
    assert old_ref in ref
    mock.raise_hit(old_ref)  # the authority still screens them under the old reference
    polled = poll(app, mock)
    assert (polled.routed, polled.cases) == (1, 1)
