"""Cases and the notifications they queue: one case per (hit, board).

Cases and notifications are never deleted. Everything here runs in the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Row, bindparam, func, insert, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import CaseStatus, NotificationKind, NotificationStatus
from vogscreen.store import audit
from vogscreen.store.bulk import chunks, insert_ignore
from vogscreen.store.models import Board, Case, Employment, Hit, Notification, Person, table


def case_reference(board_number: str, hit_id: int) -> str:
    """Built from the hit's id, which is never handed out again: hits are never deleted
    (retention only unlinks them from a purged person), and SQLite reuses only the id of
    a deleted highest row. Cases and notifications are never deleted either."""
    return f"VS-{board_number}-{hit_id:06d}"


def new_message_id() -> str:
    """Drawn once, when the notification is queued, and kept on its row: a resent message
    carries the same Message-ID and is recognisable as the same. Never built from row ids,
    which a database may hand out again: a mail server or a reader that has seen the id
    before would take a new message for a duplicate."""
    return f"<{uuid.uuid4().hex}@vogscreen.invalid>"


def queue_notifications(
    session: Session, notifications: list[dict[str, Any]], now: dt.datetime
) -> None:
    """Queue many notifications (``case_id``, ``board_id``, ``kind`` and ``dedup_key``
    each); one already queued under its dedup key is left alone."""
    insert_ignore(
        session,
        table(Notification),
        [
            {
                **notification,
                "status": NotificationStatus.PENDING,
                "attempts": 0,
                "message_id": new_message_id(),
                "created_at": now,
            }
            for notification in notifications
        ],
        "dedup_key",
    )


@dataclass(frozen=True)
class Opening:
    """A case to open: a hit at a board with a current employment of the person."""

    hit_id: int
    board_id: int
    board_number: str
    employment_id: int
    followup_weeks: int


def open_cases(session: Session, openings: Sequence[Opening], now: dt.datetime) -> int:
    """Open a case per opening with its notification and audit record, in bulk.

    The hits are new (stored in this transaction), so none of these cases exists yet.
    """
    if not openings:
        return 0
    opened = _insert_cases(session, openings, now)
    queue_notifications(
        session,
        [
            {
                "case_id": case.id,
                "board_id": case.board_id,
                "kind": NotificationKind.HIT,
                "dedup_key": f"hit:{case.hit_id}:{case.board_id}",
            }
            for case in opened
        ],
        now,
    )
    audit.record_many(
        session,
        now,
        [
            {
                "action": "case.opened",
                "entity": "case",
                "entity_id": case.reference,
                "board_id": case.board_id,
                "details": {},
            }
            for case in opened
        ],
    )
    return len(opened)


def _insert_cases(
    session: Session, openings: Sequence[Opening], now: dt.datetime
) -> Sequence[Row[int, int, int, str]]:
    """Insert the cases in one statement; their id, board, hit and reference."""
    cases = table(Case)
    return session.execute(
        insert(cases).returning(cases.c.id, cases.c.board_id, cases.c.hit_id, cases.c.reference),
        [
            {
                "reference": case_reference(opening.board_number, opening.hit_id),
                "hit_id": opening.hit_id,
                "board_id": opening.board_id,
                "employment_id": opening.employment_id,
                "status": CaseStatus.OPEN,
                "opened_at": now,
                "deadline": (now + dt.timedelta(weeks=opening.followup_weeks)).date(),
            }
            for opening in openings
        ],
    ).all()


def close(
    session: Session,
    cases: Sequence[Case],
    outcome: str,
    who: str,
    now: dt.datetime,
    *,
    vog_date: dt.date | None = None,
    note: str | None = None,
) -> None:
    """Resolve ``cases`` with ``outcome``, each with its audit record (and, when given, the
    date of the new VOG and a note, on the case and in the record)."""
    extra: dict[str, Any] = {}
    if vog_date is not None:
        extra["vog_date"] = vog_date.isoformat()
    if note is not None:
        extra["note"] = note
    for case in cases:
        case.status = CaseStatus.RESOLVED
        case.outcome = outcome
        case.resolved_by = who
        case.resolved_at = now
        if vog_date is not None:
            case.vog_date = vog_date
        if note is not None:
            case.note = note
        audit.record(
            session,
            at=now,
            actor=who,
            action="case.resolved",
            entity="case",
            entity_id=case.reference,
            board_id=case.board_id,
            outcome=outcome,
            **extra,
        )


def case_for_update(session: Session, reference: str) -> Case | None:
    """The case with this reference, locked until the transaction ends."""
    return session.scalar(select(Case).where(Case.reference == reference).with_for_update())


def hit_raised_at(session: Session, case: Case) -> dt.datetime:
    """When the authority raised the case's hit."""
    raised: dt.datetime = session.execute(
        select(Hit.raised_at).where(Hit.id == case.hit_id)
    ).scalar_one()
    return raised


def case_counts(session: Session, board_id: int, today: dt.date) -> tuple[int, int]:
    """The board's open cases, and how many of them are past their deadline."""
    row = session.execute(
        select(
            func.count(),
            func.count(sql_case((Case.deadline < today, 1))),
        ).where(Case.board_id == board_id, Case.status == CaseStatus.OPEN)
    ).one()
    return int(row[0]), int(row[1])


def open_cases_of_employments(session: Session, employment_ids: Sequence[int]) -> list[Case]:
    """The open cases of these employments, in case order."""
    cases: list[Case] = []
    for chunk in chunks(employment_ids):
        cases.extend(
            session.scalars(
                select(Case)
                .where(Case.status == CaseStatus.OPEN, Case.employment_id.in_(chunk))
                .order_by(Case.id)
            )
        )
    return cases


def open_cases_of_board(
    session: Session, board_id: int
) -> Sequence[Row[Case, int | None, dt.datetime]]:
    """The board's open cases, each with its hit's person (``person_id``) and
    ``raised_at``."""
    return session.execute(
        select(Case, Hit.person_id, Hit.raised_at)
        .join(Hit, Hit.id == Case.hit_id)
        .where(Case.board_id == board_id, Case.status == CaseStatus.OPEN)
    ).all()


def open_since(session: Session, opened_before: dt.datetime) -> list[Case]:
    """The cases still open that were opened at or before ``opened_before``."""
    return list(
        session.scalars(
            select(Case).where(Case.status == CaseStatus.OPEN, Case.opened_at <= opened_before)
        )
    )


def queue_reminder(session: Session, case: Case, number: int, now: dt.datetime) -> bool:
    """Queue the case's ``number``-th reminder unless it was queued before; True when
    this queued it."""
    dedup_key = f"reminder:{case.id}:{number}"
    before = session.scalar(select(Notification.id).where(Notification.dedup_key == dedup_key))
    if before is not None:
        return False
    queue_notifications(
        session,
        [
            {
                "case_id": case.id,
                "board_id": case.board_id,
                "kind": NotificationKind.REMINDER,
                "dedup_key": dedup_key,
            }
        ],
        now,
    )
    case.last_reminder_at = now
    return True


def case_rows(
    session: Session, *, board_number: str | None = None, only_open: bool = False
) -> Sequence[Row[Case, str, str | None, Person | None, dt.datetime]]:
    """Cases in order, each with its board's number, the employment's personeelsnummer,
    the person (None once purged) and when the hit was raised."""
    query = (
        select(Case, Board.number, Employment.personeelsnummer, Person, Hit.raised_at)
        .join(Board, Board.id == Case.board_id)
        .join(Hit, Hit.id == Case.hit_id)
        .outerjoin(Employment, Employment.id == Case.employment_id)
        .outerjoin(Person, Person.id == Hit.person_id)
        .order_by(Case.id)
    )
    if board_number is not None:
        query = query.where(Board.number == board_number)
    if only_open:
        query = query.where(Case.status == CaseStatus.OPEN)
    return session.execute(query).all()


_OPEN_CASE_PEOPLE = (
    select(Hit.person_id)
    .join(Case, Case.hit_id == Hit.id)
    .where(Case.board_id == bindparam("board", type_=Integer()), Case.status == CaseStatus.OPEN)
)


def people_with_open_cases(session: Session, board_id: int) -> list[int]:
    """The persons with an open case at the board, in id order."""
    return sorted(
        {
            person
            for person in session.scalars(_OPEN_CASE_PEOPLE, {"board": board_id})
            if person is not None
        }
    )
