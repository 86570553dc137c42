"""Draining the authority outbox: sending queued subscribe/unsubscribe operations.

Batches go through the adapter; each item's result is recorded on its own outbox row and
on the person's subscription. Errors are handled by kind:

* transient (:class:`AuthorityUnavailable`): retried with tenacity, honouring Retry-After;
  when it still fails the batch stays pending, with a later ``next_attempt_at``, and the
  drain stops: the authority is down, and the next run picks up where this one left off;
* a refused item: recorded on that item (``rejected``), the others go on;
* configuration (:class:`AuthorityMisconfigured`): raised, the run stops.

An operation sent but not recorded (a crash in between) is sent again with the same
idempotency key, which the authority deduplicates.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import Integer, String, Text, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Update

from vogscreen.domain.errors import AuthorityMisconfigured, AuthorityUnavailable
from vogscreen.domain.retry import RetryPolicy, backoff, default_retry_policy
from vogscreen.domain.statuses import SubscriptionStatus
from vogscreen.ports.authority import ItemResult, ScreeningAuthority, SubscribeItem, UnsubscribeItem
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store.bulk import Rows, dialect_of
from vogscreen.store.database import transaction
from vogscreen.store.models import AuthorityOperation, Person, Subscription, table

log = structlog.get_logger(__name__)

BATCH_SIZE = 1000


@dataclass
class DrainSummary:
    sent: int = 0
    subscribed: int = 0
    unsubscribed: int = 0
    rejected: int = 0
    deferred: int = 0
    batches: int = 0
    stopped: str | None = None
    rejections: list[tuple[int, str]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "subscribed": self.subscribed,
            "unsubscribed": self.unsubscribed,
            "rejected": self.rejected,
            "deferred": self.deferred,
            "stopped": self.stopped,
        }


def count_due(app: App) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).where(*_due(app.now()))) or 0)


def _due(now: dt.datetime) -> tuple[Any, ...]:
    return (
        AuthorityOperation.status == "pending",
        or_(
            AuthorityOperation.next_attempt_at.is_(None), AuthorityOperation.next_attempt_at <= now
        ),
    )


def _claim(session: Session, now: dt.datetime, limit: int, after: int) -> list[Any]:
    earlier = aliased(AuthorityOperation)
    # An operation waits while an earlier one for the same person is unfinished: an
    # unsubscribe needs the reference its subscribe brings back.
    waits = (
        select(earlier.id)
        .where(
            earlier.person_id == AuthorityOperation.person_id,
            earlier.status == "pending",
            earlier.id < AuthorityOperation.id,
        )
        .exists()
    )
    query = (
        select(
            AuthorityOperation.id,
            AuthorityOperation.person_id,
            AuthorityOperation.operation,
            AuthorityOperation.generation,
            AuthorityOperation.idempotency_key,
            AuthorityOperation.attempts,
        )
        # Keyset paging: each batch starts after the last one (by primary key), so a
        # drain of n rows reads each once instead of sorting every pending row n/1000 times.
        .where(AuthorityOperation.id > after, *_due(now), ~waits)
        .order_by(AuthorityOperation.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several workers drain in parallel; each takes rows no other holds.
        query = query.with_for_update(skip_locked=True, of=AuthorityOperation)
    rows = session.execute(query).all()
    # One operation per person per batch, in queue order: an unsubscribe of generation n
    # must reach the authority before the subscribe of generation n + 1.
    seen: set[int] = set()
    batch = []
    for row in rows:
        if row.person_id not in seen:
            seen.add(row.person_id)
            batch.append(row)
    return batch


def drain(
    app: App,
    authority: ScreeningAuthority,
    *,
    batch_size: int = BATCH_SIZE,
    retry: RetryPolicy = default_retry_policy,
    progress: Callable[[int], None] | None = None,
) -> DrainSummary:
    """Send every due operation, a batch at a time, in three steps per batch.

    1. claim the batch and mark it in flight, and commit: from here on the authority may
       have applied it, so nothing can cancel it;
    2. send it, outside any transaction;
    3. record each item's answer, or put off what got none.

    A crash after step 1 leaves the rows in flight: once :func:`in_flight_lease` has passed
    they are due again and replayed with their idempotency keys, which the authority
    answers from its record.
    """
    summary = DrainSummary()
    after, progressed = 0, False
    while True:
        now = app.now()
        with transaction(app.sessions) as session:
            batch = _claim(session, now, batch_size, after)
            if not batch:
                if after and progressed:
                    # Another pass from the start, for operations that waited on one
                    # sent in this pass (an unsubscribe behind its subscribe).
                    after, progressed = 0, False
                    continue
                break
            after, progressed = max(row.id for row in batch), True
            request = _request(app, session, batch)
            _mark_in_flight(session, batch, now, in_flight_lease(app))
        summary.batches += 1
        answer = _send(authority, request, retry)
        with transaction(app.sessions) as session:
            done = _settle(session, batch, answer, app.now(), summary)
        if answer.misconfigured is not None:
            raise answer.misconfigured
        if progress is not None:
            progress(len(batch))
        if not done:
            break
    if summary.sent or summary.deferred:
        log.info("outbox.drained", **summary.as_dict())
    return summary


def in_flight_lease(app: App) -> dt.timedelta:
    """How long a batch that left may take before its rows are sent again: ten run leases
    (10 minutes by default), well beyond a call's deadline with its retries, so a live
    sender is not doubled by another worker, and a dead one's batch is soon replayed."""
    return dt.timedelta(seconds=10 * app.settings.lease_seconds)


@dataclass
class _Request:
    subscribes: list[SubscribeItem]
    unsubscribes: list[UnsubscribeItem]
    settled: dict[str, ItemResult]  # answered without asking (nothing to end)


@dataclass
class _Answer:
    results: dict[str, ItemResult]
    unavailable: AuthorityUnavailable | None = None
    misconfigured: AuthorityMisconfigured | None = None


def _request(app: App, session: Session, batch: Sequence[Any]) -> _Request:
    subscribes = [row for row in batch if row.operation == "subscribe"]
    unsubscribes, settled = _unsubscribe_items(
        session, [row for row in batch if row.operation == "unsubscribe"]
    )
    items = _subscribe_items(app, session, subscribes) if subscribes else []
    return _Request(items, unsubscribes, settled)


def _send(authority: ScreeningAuthority, request: _Request, retry: RetryPolicy) -> _Answer:
    answer = _Answer(dict(request.settled))
    try:
        if request.subscribes:
            for result in retry()(authority.subscribe, request.subscribes):
                answer.results[result.idempotency_key] = result
        if request.unsubscribes:
            for result in retry()(authority.unsubscribe, request.unsubscribes):
                answer.results[result.idempotency_key] = result
    except AuthorityUnavailable as exc:
        answer.unavailable = exc
    except AuthorityMisconfigured as exc:
        answer.misconfigured = exc
    return answer


def _settle(
    session: Session, batch: Sequence[Any], answer: _Answer, now: dt.datetime, summary: DrainSummary
) -> bool:
    """Record the answers; put off the rows that got none. False: stop draining."""
    _record(session, batch, answer.results, now, summary)
    waiting = [row for row in batch if row.idempotency_key not in answer.results]
    if answer.misconfigured is not None:
        # Refused at the door (401/403, a bad URL): due again as soon as the operator has
        # fixed the settings. Still counted as sent: a refusal proves nothing was applied
        # only if the authority is right about it, so such a row is never cancelled.
        _defer(session, waiting, now, at_once=True)
        return False
    _defer(session, waiting, now)
    summary.deferred += len(waiting)
    if answer.unavailable is not None:
        summary.stopped = f"the authority is unavailable: {answer.unavailable}"
        log.warning("outbox.deferred", operations=len(waiting), error=str(answer.unavailable))
        return False
    return True


def _subscribe_items(app: App, session: Session, rows: Sequence[Any]) -> list[SubscribeItem]:
    people = {
        person.id: person
        for person in session.execute(
            select(Person.id, Person.bsn_cipher, Person.birth_date).where(
                Person.id.in_([row.person_id for row in rows])
            )
        )
    }
    cipher = app.vault.cipher()
    return [
        SubscribeItem(
            idempotency_key=row.idempotency_key,
            bsn=cipher.decrypt(people[row.person_id].bsn_cipher),
            birth_date=people[row.person_id].birth_date,
        )
        for row in rows
    ]


def _unsubscribe_items(
    session: Session, rows: Sequence[Any]
) -> tuple[list[UnsubscribeItem], dict[str, ItemResult]]:
    """Each unsubscribe ends the reference its own generation's subscribe brought back.

    Not the subscription's current reference: that is wiped when the person starts a new
    cycle, and an unsubscribe still in flight then would find none and be settled unsent,
    leaving the old subscription at the authority for ever."""
    if not rows:
        return [], {}
    people = [row.person_id for row in rows]
    brought: dict[tuple[int, int], str | None] = {}
    for person, generation, ref in session.execute(
        select(
            AuthorityOperation.person_id,
            AuthorityOperation.generation,
            AuthorityOperation.subscription_ref,
        ).where(
            AuthorityOperation.person_id.in_(people),
            AuthorityOperation.operation == "subscribe",
            AuthorityOperation.status == "done",
            AuthorityOperation.subscription_ref.is_not(None),
        )
    ):
        brought[(person, generation)] = ref
    # Rows written before the outbox kept references: the subscription's, if still its cycle.
    for person, generation, ref in session.execute(
        select(Subscription.person_id, Subscription.generation, Subscription.authority_ref).where(
            Subscription.person_id.in_(people), Subscription.authority_ref.is_not(None)
        )
    ):
        brought.setdefault((person, generation), ref)
    items, settled = [], {}
    for row in rows:
        ref = brought.get((row.person_id, row.generation))
        if ref:
            items.append(UnsubscribeItem(row.idempotency_key, ref))
        else:
            # Never confirmed by the authority (its subscribe was refused): nothing to end.
            settled[row.idempotency_key] = ItemResult(row.idempotency_key, True, "not_found")
    return items, settled


def _mark_in_flight(
    session: Session, rows: Sequence[Any], now: dt.datetime, lease: dt.timedelta
) -> None:
    """One statement for the batch (see Rows), as the answers are recorded."""
    dialect = dialect_of(session)
    session.execute(
        _mark_in_flight_statement(dialect),
        {"now": now, "due": now + lease, **_IN_FLIGHT.bind(dialect, [(r.id,) for r in rows])},
    )


_IN_FLIGHT = Rows("in_flight", id=Integer())


@functools.cache
def _mark_in_flight_statement(dialect: str) -> Update:
    ops = table(AuthorityOperation)
    batch = _IN_FLIGHT.table(dialect)
    return (
        update(ops)
        .where(ops.c.id == batch.c.id)
        .values(
            attempts=ops.c.attempts + 1,
            sent_at=bindparam("now", type_=ops.c.sent_at.type),
            next_attempt_at=bindparam("due", type_=ops.c.next_attempt_at.type),
        )
    )


def _defer(
    session: Session, rows: Sequence[Any], now: dt.datetime, *, at_once: bool = False
) -> None:
    """Sent without an answer: due again after a back-off, or at once."""
    if not rows:
        return
    session.execute(
        update(table(AuthorityOperation))
        .where(table(AuthorityOperation).c.id == bindparam("oid"))
        .values(next_attempt_at=bindparam("at")),
        [{"oid": r.id, "at": None if at_once else now + backoff(r.attempts + 1)} for r in rows],
    )


def _record(
    session: Session,
    batch: Sequence[Any],
    results: dict[str, ItemResult],
    now: dt.datetime,
    summary: DrainSummary,
) -> None:
    outcome_rows: list[tuple[int, str, int, str, str | None, str | None]] = []
    adopt: list[tuple[int, int, str | None]] = []
    fail: list[tuple[int, int, str]] = []
    end: list[tuple[int, int]] = []
    for row in batch:
        result = results.get(row.idempotency_key)
        if result is None:
            continue
        error = None if result.ok else (result.message or result.code)
        status = "done" if result.ok else "rejected"
        outcome_rows.append(
            (row.id, status, row.attempts + 1, result.code, error, result.subscription_ref)
        )
        key = (row.person_id, row.generation)
        if row.operation == "subscribe" and result.ok:
            adopt.append((*key, result.subscription_ref))
            summary.subscribed += 1
        elif row.operation == "subscribe":
            fail.append((*key, result.code))
            summary.rejected += 1
            summary.rejections.append((row.person_id, result.code))
        elif result.ok:
            end.append(key)
            summary.unsubscribed += 1
        else:
            summary.rejected += 1
            summary.rejections.append((row.person_id, result.code))
    summary.sent += len(outcome_rows)
    # One statement per kind of change for the whole batch (see Rows).
    dialect = dialect_of(session)
    changes = (
        (_OUTCOME, _record_outcomes, outcome_rows),
        (_ADOPTED, _adopt_references, adopt),
        (_FAILED, _fail_subscriptions, fail),
        (_ENDED, _end_subscriptions, end),
    )
    for rows, statement, values in changes:
        if values:
            session.execute(statement(dialect), {"now": now, **rows.bind(dialect, values)})
    if outcome_rows:
        audit.record(
            session,
            at=now,
            actor="vogscreen",
            action="authority.batch",
            entity="authority_outbox",
            sent=len(outcome_rows),
            rejected=sum(1 for r in outcome_rows if r[1] == "rejected"),
        )


_OUTCOME = Rows(
    "outcome",
    id=Integer(),
    status=String(),
    attempts=Integer(),
    code=String(),
    error=Text(),
    ref=String(),
)
_ADOPTED = Rows("adopted", person_id=Integer(), generation=Integer(), ref=String())
_FAILED = Rows("failed", person_id=Integer(), generation=Integer(), error=Text())
_ENDED = Rows("ended", person_id=Integer(), generation=Integer())


@functools.cache
def _record_outcomes(dialect: str) -> Update:
    ops = table(AuthorityOperation)
    outcome = _OUTCOME.table(dialect)
    return (
        update(ops)
        .where(ops.c.id == outcome.c.id)
        .values(
            status=outcome.c.status,
            attempts=outcome.c.attempts,
            error_code=outcome.c.code,
            error=outcome.c.error,
            subscription_ref=outcome.c.ref,
            done_at=bindparam("now", type_=ops.c.done_at.type),
        )
    )


@functools.cache
def _adopt_references(dialect: str) -> Update:
    subs = table(Subscription)
    adopted = _ADOPTED.table(dialect)
    # Keep the reference (even when the person left meanwhile, for the unsubscribe) and
    # activate what was pending.
    pending = subs.c.status == SubscriptionStatus.PENDING
    return (
        update(subs)
        .where(subs.c.person_id == adopted.c.person_id, subs.c.generation == adopted.c.generation)
        .values(
            authority_ref=adopted.c.ref,
            updated_at=bindparam("now", type_=subs.c.updated_at.type),
            status=case((pending, SubscriptionStatus.ACTIVE), else_=subs.c.status),
            error=case((pending, None), else_=subs.c.error),
        )
    )


# The status each change expects goes into the SET clause rather than the WHERE clause:
# with it in the WHERE clause SQLite's planner walks the status index and scans the batch's
# rows for each subscription of that status, which is every pending one on a first load.


@functools.cache
def _fail_subscriptions(dialect: str) -> Update:
    subs = table(Subscription)
    failed = _FAILED.table(dialect)
    pending = subs.c.status == SubscriptionStatus.PENDING
    return (
        update(subs)
        .where(subs.c.person_id == failed.c.person_id, subs.c.generation == failed.c.generation)
        .values(
            status=case((pending, SubscriptionStatus.FAILED), else_=subs.c.status),
            error=case((pending, failed.c.error), else_=subs.c.error),
            updated_at=case(
                (pending, bindparam("now", type_=subs.c.updated_at.type)),
                else_=subs.c.updated_at,
            ),
        )
    )


@functools.cache
def _end_subscriptions(dialect: str) -> Update:
    subs = table(Subscription)
    ended = _ENDED.table(dialect)
    ending = subs.c.status == SubscriptionStatus.ENDING
    return (
        update(subs)
        .where(subs.c.person_id == ended.c.person_id, subs.c.generation == ended.c.generation)
        .values(
            status=case((ending, SubscriptionStatus.ENDED), else_=subs.c.status),
            updated_at=case(
                (ending, bindparam("now", type_=subs.c.updated_at.type)),
                else_=subs.c.updated_at,
            ),
        )
    )
