"""Turning subscription actions into rows: the subscription table and the authority outbox.

Everything here runs inside the caller's transaction, so employments and the outbox rows
they cause are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    exists,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import Insert, Update

from vogscreen.domain.plan import PersonState, SubscriptionAction, plan_subscriptions
from vogscreen.domain.statuses import Operation, OutboxStatus, PlanAction, SubscriptionStatus
from vogscreen.store.bulk import Rows, chunks, dialect_of, insert_ignore_from
from vogscreen.store.models import AuthorityOperation, Employment, Subscription, table


def new_idempotency_key(operation: Operation) -> str:
    """A key drawn once, when the operation is queued, and replayed from its row ever after.

    Never built from row ids: SQLite hands the highest id out again once its row is
    deleted (retention purges people), and a restored backup hands out ids the authority
    has already seen. The authority answers a key it knows with its recorded answer, so a
    reused key would make a newcomer look subscribed. An apply that rolls back sent
    nothing, so a fresh key on the retry loses nothing either.
    """
    return f"{operation}:{uuid.uuid4().hex}"


@dataclass
class SubscriptionChanges:
    subscribe: int = 0
    unsubscribe: int = 0
    cancelled: int = 0
    closed: int = 0
    subscribed_people: list[int] = field(default_factory=list, repr=False)

    def add(self, other: SubscriptionChanges) -> None:
        self.subscribe += other.subscribe
        self.unsubscribe += other.unsubscribe
        self.cancelled += other.cancelled
        self.closed += other.closed

    def as_dict(self) -> dict[str, int]:
        return {
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "cancelled": self.cancelled,
            "closed": self.closed,
        }


_PEOPLE = Rows("people", person_id=Integer(), generation=Integer())
_CANCELLED = Rows("cancelling", id=Integer())
_QUEUED = Rows("queued", person_id=Integer(), generation=Integer(), key=String())


# Built once, with the ids as one expanding parameter: building an IN of thousands of
# literal parameters per call cost more than running it.
_IDS: BindParameter[int] = bindparam("ids", expanding=True)
_EMPLOYED = (
    select(Employment.person_id)
    .where(Employment.person_id.in_(_IDS), Employment.ended_at.is_(None))
    .distinct()
)
_STATES = select(Subscription.person_id, Subscription.status, Subscription.generation).where(
    Subscription.person_id.in_(_IDS)
)
# Never sent: a subscribe that has left in a batch may have been applied (its answer
# lost in a crash), so only one that never left may be cancelled.
_UNSENT = select(AuthorityOperation.person_id, AuthorityOperation.id).where(
    AuthorityOperation.person_id.in_(_IDS),
    AuthorityOperation.operation == Operation.SUBSCRIBE,
    AuthorityOperation.status == OutboxStatus.PENDING,
    AuthorityOperation.sent_at.is_(None),
)


def load_states(
    session: Session, person_ids: Collection[int], employed_known: Collection[int] = ()
) -> list[PersonState]:
    ids = sorted(set(person_ids))
    employed = set(employed_known)
    for chunk in chunks([person for person in ids if person not in employed]):
        employed.update(session.scalars(_EMPLOYED, {"ids": list(chunk)}))
    subscriptions: dict[int, tuple[str, int]] = {}
    unsent: dict[int, int] = {}
    for chunk in chunks(ids):
        parameters = {"ids": list(chunk)}
        for person_id, status, generation in session.execute(_STATES, parameters):
            subscriptions[person_id] = (status, generation)
        for person_id, outbox_id in session.execute(_UNSENT, parameters):
            unsent[person_id] = outbox_id
    return [
        PersonState(
            person_id=person_id,
            employed=person_id in employed,
            status=SubscriptionStatus(subscriptions[person_id][0])
            if person_id in subscriptions
            else None,
            generation=subscriptions[person_id][1] if person_id in subscriptions else 0,
            unsent_subscribe=unsent.get(person_id),
        )
        for person_id in ids
    ]


def carry_out(
    session: Session, actions: Sequence[SubscriptionAction], now: dt.datetime
) -> SubscriptionChanges:
    """Write what the planner decided: subscriptions and their outbox rows."""
    changes = SubscriptionChanges()
    subscribe = [action for action in actions if action.kind == PlanAction.SUBSCRIBE]
    unsubscribe = [action for action in actions if action.kind == PlanAction.UNSUBSCRIBE]
    cancel = [action for action in actions if action.kind == PlanAction.CANCEL]
    close = [action for action in actions if action.kind == PlanAction.CLOSE]
    if cancel:
        cancel, too_late = _cancel_unsent(session, cancel, now)
        unsubscribe += too_late
        changes.cancelled = len(cancel)
    if subscribe:
        _subscribe(session, subscribe, now)
        changes.subscribe = len(subscribe)
        changes.subscribed_people = [a.person_id for a in subscribe]
    if unsubscribe:
        _set_subscriptions(session, unsubscribe, SubscriptionStatus.ENDING, now)
        changes.unsubscribe = len(unsubscribe)
    _queue(session, Operation.SUBSCRIBE, subscribe, now)
    _queue(session, Operation.UNSUBSCRIBE, unsubscribe, now)
    if cancel or close:
        _set_subscriptions(session, [*cancel, *close], SubscriptionStatus.ENDED, now)
        changes.closed = len(close)
    return changes


def _cancel_unsent(
    session: Session, cancel: Sequence[SubscriptionAction], now: dt.datetime
) -> tuple[list[SubscriptionAction], list[SubscriptionAction]]:
    """Cancel subscribes that have not left: the actions cancelled, and unsubscribes for
    those too late to cancel.

    Only a subscribe that has not left can be cancelled. One that a drain took since the
    states were read (another worker) may have been applied: it is ended instead.
    """
    dialect = dialect_of(session)
    cancelled = set(
        session.scalars(
            _cancel(dialect),
            {"now": now, **_CANCELLED.bind(dialect, [(a.outbox_id,) for a in cancel])},
        )
    )
    too_late = [
        SubscriptionAction(PlanAction.UNSUBSCRIBE, a.person_id, a.generation)
        for a in cancel
        if a.outbox_id not in cancelled
    ]
    return [a for a in cancel if a.outbox_id in cancelled], too_late


def _subscribe(session: Session, subscribe: Sequence[SubscriptionAction], now: dt.datetime) -> None:
    """Pending subscriptions: new rows for first-timers, the next cycle for the others."""
    dialect = dialect_of(session)
    first_time = [a for a in subscribe if a.generation == 1]
    again = [a for a in subscribe if a.generation > 1]
    if first_time:
        session.execute(
            _subscribe_first_time(dialect),
            {"now": now, **_PEOPLE.bind(dialect, [(a.person_id, 1) for a in first_time])},
        )
    if again:
        _set_subscriptions(session, again, SubscriptionStatus.PENDING, now, forget_ref=True)


@functools.cache
def _subscribe_first_time(dialect: str) -> Insert:
    subs = table(Subscription)
    people = _PEOPLE.table(dialect)
    now = bindparam("now", type_=subs.c.created_at.type)
    return insert_ignore_from(
        dialect,
        subs,
        select(
            people.c.person_id,
            literal(SubscriptionStatus.PENDING, subs.c.status.type).label("status"),
            people.c.generation,
            now.label("created_at"),
            now.label("updated_at"),
        ),
        "person_id",
    )


@functools.cache
def _cancel(dialect: str) -> Update:
    ops = table(AuthorityOperation)
    cancelled = _CANCELLED.table(dialect)
    return (
        update(ops)
        .where(ops.c.id == cancelled.c.id, ops.c.sent_at.is_(None))
        .values(status=OutboxStatus.CANCELLED, done_at=bindparam("now", type_=ops.c.done_at.type))
        .returning(ops.c.id)
    )


def _set_subscriptions(
    session: Session,
    actions: Sequence[SubscriptionAction],
    status: SubscriptionStatus,
    now: dt.datetime,
    *,
    forget_ref: bool = False,
) -> None:
    dialect = dialect_of(session)
    session.execute(
        _set_subscriptions_statement(dialect, forget_ref),
        {
            "to": status,
            "now": now,
            **_PEOPLE.bind(dialect, [(a.person_id, a.generation) for a in actions]),
        },
    )


@functools.cache
def _set_subscriptions_statement(dialect: str, forget_ref: bool) -> Update:
    subs = table(Subscription)
    people = _PEOPLE.table(dialect)
    values: dict[str, Any] = {
        "status": bindparam("to", type_=subs.c.status.type),
        "generation": people.c.generation,
        "updated_at": bindparam("now", type_=subs.c.updated_at.type),
    }
    if forget_ref:
        values["authority_ref"] = None
        values["error"] = None
    return update(subs).where(subs.c.person_id == people.c.person_id).values(values)


def _queue(
    session: Session,
    operation: Operation,
    actions: Sequence[SubscriptionAction],
    now: dt.datetime,
) -> None:
    if not actions:
        return
    dialect = dialect_of(session)
    rows = [(a.person_id, a.generation, new_idempotency_key(operation)) for a in actions]
    session.execute(
        _queue_statement(dialect), {"op": operation, "now": now, **_QUEUED.bind(dialect, rows)}
    )


@functools.cache
def _queue_statement(dialect: str) -> Insert:
    ops = table(AuthorityOperation)
    queued = _QUEUED.table(dialect)
    return insert_ignore_from(
        dialect,
        ops,
        select(
            queued.c.person_id,
            bindparam("op", type_=ops.c.operation.type).label("operation"),
            queued.c.generation,
            queued.c.key.label("idempotency_key"),
            literal(OutboxStatus.PENDING, ops.c.status.type).label("status"),
            literal(0, Integer()).label("attempts"),
            bindparam("now", type_=ops.c.created_at.type).label("created_at"),
        ),
        "person_id",
        "operation",
        "generation",
    )


def sync_people(
    session: Session,
    person_ids: Collection[int],
    now: dt.datetime,
    *,
    employed: Collection[int] = (),
) -> SubscriptionChanges:
    """Bring these people's subscriptions in line with their current employments.

    ``employed`` are among them and known to have a current employment (one just started),
    so the database is not asked about them.
    """
    if not person_ids:
        return SubscriptionChanges()
    states = load_states(session, person_ids, employed)
    return carry_out(session, plan_subscriptions(states), now)


def drifted_people(session: Session) -> list[int]:
    """Everyone whose subscription does not match their employments, found set-based."""
    current = exists().where(
        Employment.person_id == Subscription.person_id, Employment.ended_at.is_(None)
    )
    lacking = (
        select(Employment.person_id)
        .outerjoin(Subscription, Subscription.person_id == Employment.person_id)
        .where(
            Employment.ended_at.is_(None),
            or_(
                Subscription.id.is_(None),
                Subscription.status.in_((SubscriptionStatus.ENDED, SubscriptionStatus.ENDING)),
            ),
        )
        .distinct()
    )
    surplus = select(Subscription.person_id).where(
        and_(
            Subscription.status.in_(
                (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE, SubscriptionStatus.FAILED)
            ),
            ~current,
        )
    )
    return sorted(set(session.scalars(lacking)) | set(session.scalars(surplus)))


def active_references(session: Session) -> dict[str, int]:
    """The authority's reference of each active subscription, and whose it is."""
    return {
        ref: person_id
        for ref, person_id in session.execute(
            select(Subscription.authority_ref, Subscription.person_id).where(
                Subscription.status == SubscriptionStatus.ACTIVE,
                Subscription.authority_ref.is_not(None),
            )
        )
        if ref is not None
    }


def mark_ended(session: Session, person_ids: Sequence[int]) -> None:
    """Mark these people's subscriptions ended (lost at the authority): the planner then
    subscribes them again, with a fresh generation."""
    for people in chunks(person_ids):
        subs = table(Subscription)
        session.execute(
            update(subs).where(subs.c.person_id.in_(people)).values(status=SubscriptionStatus.ENDED)
        )
