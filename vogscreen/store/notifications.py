"""The notification outbox: one email per (case, kind), queued with its case.

Reading what to send takes no locks; each message is then locked on its own (on
PostgreSQL with SKIP LOCKED, so workers share the queue), and marked in the same
transaction once the server has answered.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Connection, Row, Select, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import NotificationStatus
from vogscreen.store.models import Board, Case, Employment, Hit, Notification, Person, table


def _due(now: dt.datetime | BindParameter[dt.datetime]) -> tuple[Any, ...]:
    return (
        Notification.status == NotificationStatus.PENDING,
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
    )


def count_due(session: Session, now: dt.datetime) -> int:
    return int(session.scalar(select(func.count()).where(*_due(now))) or 0)


# The lock by primary key repeats the due check, so a candidate read before another worker
# sent or put it off is skipped.
BATCH = 100
_CANDIDATES = (
    select(
        Notification.id,
        Notification.kind,
        Notification.message_id,
        Case.reference,
        Case.deadline,
        Case.opened_at,
        Board.name.label("board_name"),
        Board.recipients,
        Employment.personeelsnummer,
        Person.surname,
        Person.prefix,
        Person.initials,
        Person.first_names,
    )
    .join(Case, Case.id == Notification.case_id)
    .join(Board, Board.id == Case.board_id)
    .join(Hit, Hit.id == Case.hit_id)
    .outerjoin(Employment, Employment.id == Case.employment_id)
    .outerjoin(Person, Person.id == Hit.person_id)
    .where(Notification.id > bindparam("after"), *_due(bindparam("now")))
    .order_by(Notification.id)
    .limit(BATCH)
)
_MARK = update(table(Notification)).where(table(Notification).c.id == bindparam("notification_id"))


def candidates(connection: Connection, *, after: int, now: dt.datetime) -> Sequence[Row[Any]]:
    """The next :data:`BATCH` due messages after id ``after``, with everything they say:
    case, board and recipients, personeelsnummer and name. Read without locks."""
    return connection.execute(_CANDIDATES, {"after": after, "now": now}).all()


@functools.cache
def _lock(dialect: str) -> Select[int]:
    lock = select(Notification.attempts).where(
        Notification.id == bindparam("notification_id"), *_due(bindparam("now"))
    )
    if dialect == "postgresql":
        lock = lock.with_for_update(skip_locked=True)
    return lock


def lock(connection: Connection, notification_id: int, now: dt.datetime) -> int | None:
    """Lock one message for sending; its attempts so far, or None when it is no longer
    due (sent, failed or put off meanwhile) or another worker holds it."""
    return connection.scalar(
        _lock(connection.dialect.name), {"notification_id": notification_id, "now": now}
    )


def mark_sent(
    connection: Connection,
    notification_id: int,
    *,
    attempts: int,
    now: dt.datetime,
    error: str | None,
) -> None:
    _mark(
        connection,
        notification_id,
        attempts=attempts,
        status=NotificationStatus.SENT,
        sent_at=now,
        error=error,
    )


def put_off(
    connection: Connection,
    notification_id: int,
    *,
    attempts: int,
    next_attempt_at: dt.datetime,
    error: str,
) -> None:
    """Leave the message pending, to be tried again from ``next_attempt_at``."""
    _mark(
        connection,
        notification_id,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        error=error,
    )


def mark_failed(connection: Connection, notification_id: int, *, attempts: int, error: str) -> None:
    _mark(
        connection,
        notification_id,
        attempts=attempts,
        status=NotificationStatus.FAILED,
        error=error,
        sent_at=None,
    )


def _mark(connection: Connection, notification_id: int, **values: Any) -> None:
    connection.execute(_MARK, {"notification_id": notification_id, **values})
