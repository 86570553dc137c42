"""The authority outbox: claiming due operations, marking them in flight, recording answers.

Every batch-sized change is one statement for the whole batch (see
:class:`vogscreen.store.bulk.Rows`), built once per dialect. Commit points are the
caller's: :func:`mark_in_flight` is committed before a batch is sent, the ``record_*``
functions after its answers came back.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, String, Text, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Update

from vogscreen.domain.statuses import Operation, OutboxStatus, SubscriptionStatus
from vogscreen.store.bulk import Rows, dialect_of
from vogscreen.store.models import AuthorityOperation, Person, Subscription, table


@dataclass(frozen=True, slots=True)
class Claimed:
    """One operation of a claimed batch."""

    id: int
    person_id: int
    operation: Operation
    generation: int
    idempotency_key: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """The authority's answer to one operation, as its outbox row records it."""

    id: int
    status: OutboxStatus
    attempts: int
    code: str
    error: str | None
    ref: str | None


def _due(now: dt.datetime) -> tuple[Any, ...]:
    return (
        AuthorityOperation.status == OutboxStatus.PENDING,
        or_(
            AuthorityOperation.next_attempt_at.is_(None), AuthorityOperation.next_attempt_at <= now
        ),
    )


def count_due(session: Session, now: dt.datetime) -> int:
    return int(session.scalar(select(func.count()).where(*_due(now))) or 0)


def claim_batch(session: Session, now: dt.datetime, limit: int, after: int) -> list[Claimed]:
    """Up to ``limit`` due operations with ids above ``after``, one per person, in queue order.

    On PostgreSQL the rows are locked (``FOR UPDATE SKIP LOCKED``) until the transaction
    ends: several workers drain in parallel, each takes rows no other holds.
    """
    query = _due_in_order(now, limit, after)
    if dialect_of(session) == "postgresql":
        query = query.with_for_update(skip_locked=True, of=AuthorityOperation)
    # One operation per person per batch, in queue order: an unsubscribe of generation n
    # must reach the authority before the subscribe of generation n + 1.
    seen: set[int] = set()
    batch = []
    # Unpacked in the order _due_in_order selects them: a Row's attributes cost four times
    # as much, on batches of a thousand.
    for row_id, person_id, operation, generation, key, attempts in session.execute(query):
        if person_id not in seen:
            seen.add(person_id)
            batch.append(
                Claimed(row_id, person_id, Operation(operation), generation, key, attempts)
            )
    return batch


def _due_in_order(now: dt.datetime, limit: int, after: int) -> Select[int, int, str, int, str, int]:
    earlier = aliased(AuthorityOperation)
    # An operation waits while an earlier one for the same person is unfinished: an
    # unsubscribe needs the reference its subscribe brings back.
    waits = (
        select(earlier.id)
        .where(
            earlier.person_id == AuthorityOperation.person_id,
            earlier.status == OutboxStatus.PENDING,
            earlier.id < AuthorityOperation.id,
        )
        .exists()
    )
    return (
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


def identities(session: Session, person_ids: Collection[int]) -> dict[int, tuple[bytes, dt.date]]:
    """Each person's encrypted BSN and birth date, for their subscribe."""
    return {
        person.id: (person.bsn_cipher, person.birth_date)
        for person in session.execute(
            select(Person.id, Person.bsn_cipher, Person.birth_date).where(
                Person.id.in_(list(person_ids))
            )
        )
    }


def references_brought(
    session: Session, person_ids: Sequence[int]
) -> dict[tuple[int, int], str | None]:
    """The authority's reference of each (person, generation) whose subscribe it confirmed."""
    brought: dict[tuple[int, int], str | None] = {}
    for person, generation, ref in session.execute(
        select(
            AuthorityOperation.person_id,
            AuthorityOperation.generation,
            AuthorityOperation.subscription_ref,
        ).where(
            AuthorityOperation.person_id.in_(person_ids),
            AuthorityOperation.operation == Operation.SUBSCRIBE,
            AuthorityOperation.status == OutboxStatus.DONE,
            AuthorityOperation.subscription_ref.is_not(None),
        )
    ):
        brought[(person, generation)] = ref
    # Rows written before the outbox kept references: the subscription's, if still its cycle.
    for person, generation, ref in session.execute(
        select(Subscription.person_id, Subscription.generation, Subscription.authority_ref).where(
            Subscription.person_id.in_(person_ids), Subscription.authority_ref.is_not(None)
        )
    ):
        brought.setdefault((person, generation), ref)
    return brought


_IN_FLIGHT = Rows("in_flight", id=Integer())


def mark_in_flight(
    session: Session, ids: Sequence[int], now: dt.datetime, due: dt.datetime
) -> None:
    """Count an attempt for each operation, stamp it sent, and make it due again at ``due``
    (should no answer be recorded by then). One statement for the batch."""
    dialect = dialect_of(session)
    session.execute(
        _mark_in_flight_statement(dialect),
        {"now": now, "due": due, **_IN_FLIGHT.bind(dialect, [(i,) for i in ids])},
    )


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


def defer(session: Session, due: Sequence[tuple[int, dt.datetime | None]]) -> None:
    """Make operations (id, when) due again at that time; None: at once."""
    if not due:
        return
    session.execute(
        update(table(AuthorityOperation))
        .where(table(AuthorityOperation).c.id == bindparam("oid"))
        .values(next_attempt_at=bindparam("at")),
        [{"oid": oid, "at": at} for oid, at in due],
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
_FAILED = Rows("refusals", person_id=Integer(), generation=Integer(), error=Text())
_ENDED = Rows("endings", person_id=Integer(), generation=Integer())


def record_outcomes(session: Session, outcomes: Sequence[Outcome], now: dt.datetime) -> None:
    """Each answered operation done or rejected, with its code, error and reference."""
    rows = [(o.id, o.status, o.attempts, o.code, o.error, o.ref) for o in outcomes]
    _execute(session, _OUTCOME, _record_outcomes, rows, now)


def adopt_references(
    session: Session, adopted: Sequence[tuple[int, int, str | None]], now: dt.datetime
) -> None:
    """(person, generation, reference): the subscription keeps the reference the authority
    brought back, and a pending one becomes active."""
    _execute(session, _ADOPTED, _adopt_references, adopted, now)


def fail_subscriptions(
    session: Session, failed: Sequence[tuple[int, int, str]], now: dt.datetime
) -> None:
    """(person, generation, error): a pending subscription the authority refused fails."""
    _execute(session, _FAILED, _fail_subscriptions, failed, now)


def end_subscriptions(session: Session, ended: Sequence[tuple[int, int]], now: dt.datetime) -> None:
    """(person, generation): an ending subscription the authority ended is ended."""
    _execute(session, _ENDED, _end_subscriptions, ended, now)


def _execute(
    session: Session,
    rows: Rows,
    statement: Callable[[str], Update],
    values: Sequence[Sequence[Any]],
    now: dt.datetime,
) -> None:
    if values:
        dialect = dialect_of(session)
        session.execute(statement(dialect), {"now": now, **rows.bind(dialect, values)})


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
