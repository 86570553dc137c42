"""Turning subscription actions into rows: the subscription table and the authority outbox.

Everything here runs inside the caller's transaction, so employments and the outbox rows
they cause are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from vogscreen.database import chunks, insert_ignore
from vogscreen.models import AuthorityOperation, Employment, Subscription, table
from vogscreen.plan import (
    ENDED,
    ENDING,
    FAILED,
    PENDING,
    PersonState,
    SubscriptionAction,
    plan_subscriptions,
)


def idempotency_key(operation: str, person_id: int, generation: int) -> str:
    """Deterministic: a retried apply produces the same key, and the authority dedups it."""
    return f"{operation}:{person_id}:{generation}"


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


def load_states(session: Session, person_ids: Collection[int]) -> list[PersonState]:
    ids = sorted(set(person_ids))
    employed: set[int] = set()
    subscriptions: dict[int, tuple[str, int]] = {}
    unsent: dict[int, int] = {}
    for chunk in chunks(ids):
        employed.update(
            session.scalars(
                select(Employment.person_id)
                .where(Employment.person_id.in_(chunk), Employment.ended_at.is_(None))
                .distinct()
            )
        )
        for person_id, status, generation in session.execute(
            select(Subscription.person_id, Subscription.status, Subscription.generation).where(
                Subscription.person_id.in_(chunk)
            )
        ):
            subscriptions[person_id] = (status, generation)
        for person_id, outbox_id in session.execute(
            select(AuthorityOperation.person_id, AuthorityOperation.id).where(
                AuthorityOperation.person_id.in_(chunk),
                AuthorityOperation.operation == "subscribe",
                AuthorityOperation.status == "pending",
                AuthorityOperation.attempts == 0,
            )
        ):
            unsent[person_id] = outbox_id
    return [
        PersonState(
            person_id=person_id,
            employed=person_id in employed,
            status=subscriptions[person_id][0] if person_id in subscriptions else None,
            generation=subscriptions[person_id][1] if person_id in subscriptions else 0,
            unsent_subscribe=unsent.get(person_id),
        )
        for person_id in ids
    ]


def carry_out(
    session: Session, actions: Sequence[SubscriptionAction], now: dt.datetime
) -> SubscriptionChanges:
    changes = SubscriptionChanges()
    subscribe = [action for action in actions if action.kind == "subscribe"]
    unsubscribe = [action for action in actions if action.kind == "unsubscribe"]
    cancel = [action for action in actions if action.kind == "cancel"]
    close = [action for action in actions if action.kind == "close"]
    if subscribe:
        first_time = [a for a in subscribe if a.generation == 1]
        again = [a for a in subscribe if a.generation > 1]
        if first_time:
            insert_ignore(
                session,
                table(Subscription),
                [
                    {
                        "person_id": a.person_id,
                        "status": PENDING,
                        "generation": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for a in first_time
                ],
                "person_id",
            )
        if again:
            _set_subscriptions(
                session,
                [{"p": a.person_id, "g": a.generation, "s": PENDING} for a in again],
                now,
                ref=None,
            )
        changes.subscribe = len(subscribe)
        changes.subscribed_people = [a.person_id for a in subscribe]
    if unsubscribe:
        _set_subscriptions(
            session,
            [{"p": a.person_id, "g": a.generation, "s": ENDING} for a in unsubscribe],
            now,
        )
        changes.unsubscribe = len(unsubscribe)
    _queue(session, "subscribe", subscribe, now)
    _queue(session, "unsubscribe", unsubscribe, now)
    if cancel:
        operations = table(AuthorityOperation)
        session.execute(
            update(operations)
            .where(operations.c.id == bindparam("oid"), operations.c.attempts == 0)
            .values(status="cancelled", done_at=now),
            [{"oid": a.outbox_id} for a in cancel],
        )
        changes.cancelled = len(cancel)
    if cancel or close:
        _set_subscriptions(
            session,
            [{"p": a.person_id, "g": a.generation, "s": ENDED} for a in [*cancel, *close]],
            now,
        )
        changes.closed = len(close)
    return changes


def _set_subscriptions(
    session: Session, rows: list[dict[str, Any]], now: dt.datetime, **extra: Any
) -> None:
    values: dict[str, Any] = {
        "status": bindparam("s"),
        "generation": bindparam("g"),
        "updated_at": now,
    }
    if "ref" in extra:
        values["authority_ref"] = extra["ref"]
        values["error"] = None
    session.execute(
        update(table(Subscription))
        .where(table(Subscription).c.person_id == bindparam("p"))
        .values(values),
        rows,
    )


def _queue(
    session: Session, operation: str, actions: Sequence[SubscriptionAction], now: dt.datetime
) -> None:
    if not actions:
        return
    insert_ignore(
        session,
        table(AuthorityOperation),
        [
            {
                "person_id": a.person_id,
                "operation": operation,
                "generation": a.generation,
                "idempotency_key": idempotency_key(operation, a.person_id, a.generation),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for a in actions
        ],
        "idempotency_key",
    )


def sync_people(
    session: Session, person_ids: Collection[int], now: dt.datetime
) -> SubscriptionChanges:
    """Bring these people's subscriptions in line with their current employments."""
    if not person_ids:
        return SubscriptionChanges()
    return carry_out(session, plan_subscriptions(load_states(session, person_ids)), now)


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
            or_(Subscription.id.is_(None), Subscription.status.in_((ENDED, ENDING))),
        )
        .distinct()
    )
    surplus = select(Subscription.person_id).where(
        and_(Subscription.status.in_((PENDING, "active", FAILED)), ~current)
    )
    return sorted(set(session.scalars(lacking)) | set(session.scalars(surplus)))
