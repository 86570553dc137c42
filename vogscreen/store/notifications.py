"""The notification outbox: one email per (case, kind), queued with its case, and the
letters about a board's own data (a rejected or held list, a person the authority
refused), which have no case: they name their staff list or employment instead.

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
from vogscreen.store.bulk import insert_ignore
from vogscreen.store.cases import new_message_id
from vogscreen.store.models import (
    Board,
    Case,
    Employment,
    Hit,
    Notification,
    Person,
    StaffList,
    table,
)


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
        Notification.details,
        Notification.staff_list_id,
        StaffList.received_at.label("list_received_at"),
        Board.number.label("board_number"),
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
    # A letter without a case (case_id IS NULL) has its board, list or employment on the
    # notification itself; a case's letter has the board and employment of its case.
    .join(Board, Board.id == Notification.board_id)
    .outerjoin(Case, Case.id == Notification.case_id)
    .outerjoin(Hit, Hit.id == Case.hit_id)
    .outerjoin(StaffList, StaffList.id == Notification.staff_list_id)
    .outerjoin(
        Employment, Employment.id == func.coalesce(Case.employment_id, Notification.employment_id)
    )
    .outerjoin(Person, Person.id == func.coalesce(Hit.person_id, Employment.person_id))
    .where(Notification.id > bindparam("after"), *_due(bindparam("now")))
    .order_by(Notification.id)
    .limit(BATCH)
)
_MARK = update(table(Notification)).where(table(Notification).c.id == bindparam("notification_id"))


def candidates(connection: Connection, *, after: int, now: dt.datetime) -> Sequence[Row[Any]]:
    """The next :data:`BATCH` due messages after id ``after``, with everything they say:
    case (None for a letter without one), staff list, board and recipients,
    personeelsnummer and name. Read without locks."""
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


def queue_letters(session: Session, letters: list[dict[str, Any]], now: dt.datetime) -> int:
    """Queue letters without a case (``board_id``, ``kind``, ``dedup_key`` each, and
    ``staff_list_id``, ``employment_id``, ``details`` as they apply); one already queued
    under its dedup key is left alone. How many were queued now."""
    rows = [
        {
            "case_id": None,
            "staff_list_id": None,
            "employment_id": None,
            "details": {},
            **letter,
            "status": NotificationStatus.PENDING,
            "attempts": 0,
            "message_id": new_message_id(),
            "created_at": now,
        }
        for letter in letters
    ]
    return len(insert_ignore(session, table(Notification), rows, "dedup_key", returning="id"))


def current_employments(
    session: Session, person_ids: Sequence[int]
) -> Sequence[Row[int, int, int]]:
    """``(person_id, employment_id, board_id)`` of each current employment of these people."""
    if not person_ids:
        return []
    return session.execute(
        select(Employment.person_id, Employment.id, Employment.board_id)
        .where(Employment.person_id.in_(sorted(set(person_ids))), Employment.ended_at.is_(None))
        .order_by(Employment.person_id, Employment.board_id)
    ).all()
