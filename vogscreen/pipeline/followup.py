"""Case follow-up: one case per (hit, board), open until the board has dealt with it.

A case closes by hand (``vogscreen cases resolve``) or by the board's staff list:
*employment ended* when the employment ends, whether a later list drops the person or the
``datum_uit_dienst`` a list gave passes (:func:`close_for_ended_employments` serves both),
*new VOG* when a later list carries a ``vog_datum`` after the hit. While a case stays open
past the reminder period, the board gets a reminder, then one every period after: never
more than one per period.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.pipeline.boards import check_board_number
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store.bulk import chunks, insert_ignore
from vogscreen.store.database import transaction
from vogscreen.store.models import Board, Case, Employment, Hit, Notification, Person, table

log = structlog.get_logger(__name__)

OPEN = "open"
RESOLVED = "resolved"
OUTCOMES = ("new_vog", "employment_ended", "other")


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


def queue_notification(
    session: Session, *, case_id: int, board_id: int, kind: str, dedup_key: str, now: dt.datetime
) -> None:
    _queue_notifications(
        session,
        [{"case_id": case_id, "board_id": board_id, "kind": kind, "dedup_key": dedup_key}],
        now,
    )


def _queue_notifications(
    session: Session, notifications: list[dict[str, Any]], now: dt.datetime
) -> None:
    """Queue many notifications; one already queued under its dedup key is left alone."""
    insert_ignore(
        session,
        table(Notification),
        [
            {
                **notification,
                "status": "pending",
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
    cases = table(Case)
    opened = session.execute(
        insert(cases).returning(cases.c.id, cases.c.board_id, cases.c.hit_id, cases.c.reference),
        [
            {
                "reference": case_reference(opening.board_number, opening.hit_id),
                "hit_id": opening.hit_id,
                "board_id": opening.board_id,
                "employment_id": opening.employment_id,
                "status": OPEN,
                "opened_at": now,
                "deadline": (now + dt.timedelta(weeks=opening.followup_weeks)).date(),
            }
            for opening in openings
        ],
    ).all()
    _queue_notifications(
        session,
        [
            {
                "case_id": case.id,
                "board_id": case.board_id,
                "kind": "hit",
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


def _close(
    session: Session, cases: Sequence[Case], outcome: str, who: str, now: dt.datetime
) -> None:
    for case in cases:
        case.status = RESOLVED
        case.outcome = outcome
        case.resolved_by = who
        case.resolved_at = now
        audit.record(
            session,
            at=now,
            actor=who,
            action="case.resolved",
            entity="case",
            entity_id=case.reference,
            board_id=case.board_id,
            outcome=outcome,
        )


def resolve(app: App, reference: str, outcome: str, who: str | None = None) -> Case:
    if outcome not in OUTCOMES:
        raise InvalidInput(f"the outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    with transaction(app.sessions) as session:
        case = session.scalar(select(Case).where(Case.reference == reference).with_for_update())
        if case is None:
            raise NotFound(f"there is no case {reference}")
        if case.status != OPEN:
            raise StateConflict(f"case {reference} is already resolved ({case.outcome})")
        _close(session, [case], outcome, who or app.settings.actor, app.now())
        return case


def close_for_ended_employments(
    session: Session, ended: Mapping[int, int], now: dt.datetime
) -> int:
    """Close the open cases of employments that ended, as *employment ended*.

    ``ended`` maps each ended employment to the staff list that ended it: the one that
    dropped the person, or the one whose ``datum_uit_dienst`` has passed.
    """
    cases: list[Case] = []
    for chunk in chunks(list(ended)):
        cases.extend(
            session.scalars(
                select(Case)
                .where(Case.status == OPEN, Case.employment_id.in_(chunk))
                .order_by(Case.id)
            )
        )
    by_list: dict[int, list[Case]] = {}
    for case in cases:
        assert case.employment_id is not None
        by_list.setdefault(ended[case.employment_id], []).append(case)
    for staff_list_id, closing in by_list.items():
        _close(session, closing, "employment_ended", f"staff list {staff_list_id}", now)
    return len(cases)


def close_by_staff_list(
    session: Session,
    *,
    board_id: int,
    staff_list_id: int,
    listed: dict[int, dt.date | None],
    now: dt.datetime,
) -> int:
    """Close the board's open cases that its newly applied list settles.

    ``listed`` maps each person on the list (and still employed) to the list's VOG date.
    """
    rows = session.execute(
        select(Case, Hit.person_id, Hit.raised_at)
        .join(Hit, Hit.id == Case.hit_id)
        .where(Case.board_id == board_id, Case.status == OPEN)
    ).all()
    who = f"staff list {staff_list_id}"
    ended = [case for case, person, _ in rows if person not in listed]
    renewed = [
        case
        for case, person, raised_at in rows
        if person in listed and (vog := listed[person]) is not None and vog > raised_at.date()
    ]
    _close(session, ended, "employment_ended", who, now)
    _close(session, renewed, "new_vog", who, now)
    return len(ended) + len(renewed)


def remind(app: App) -> int:
    """Queue a reminder for every case open a whole period longer than its last one."""
    now = app.now()
    period = dt.timedelta(days=app.settings.reminder_days)
    queued = 0
    with transaction(app.sessions) as session:
        for case in session.scalars(
            select(Case).where(Case.status == OPEN, Case.opened_at <= now - period)
        ):
            number = (now - case.opened_at) // period
            before = session.scalar(
                select(Notification.id).where(
                    Notification.dedup_key == f"reminder:{case.id}:{number}"
                )
            )
            if before is not None:
                continue
            queue_notification(
                session,
                case_id=case.id,
                board_id=case.board_id,
                kind="reminder",
                dedup_key=f"reminder:{case.id}:{number}",
                now=now,
            )
            case.last_reminder_at = now
            queued += 1
    if queued:
        log.info("cases.reminders_queued", reminders=queued)
    return queued


@dataclass(frozen=True)
class CaseView:
    reference: str
    board: str
    personeelsnummer: str | None
    name: str
    status: str
    opened_at: dt.datetime
    deadline: dt.date
    outcome: str | None
    resolved_by: str | None
    resolved_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "board": self.board,
            "personeelsnummer": self.personeelsnummer,
            "name": self.name,
            "status": self.status,
            "opened_at": self.opened_at.isoformat(),
            "deadline": self.deadline.isoformat(),
            "outcome": self.outcome,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }


def list_cases(app: App, *, board: str | None = None, only_open: bool = False) -> list[CaseView]:
    from vogscreen.pipeline.staff import display_name

    query = (
        select(Case, Board.number, Employment.personeelsnummer, Person)
        .join(Board, Board.id == Case.board_id)
        .join(Hit, Hit.id == Case.hit_id)
        .outerjoin(Employment, Employment.id == Case.employment_id)
        .outerjoin(Person, Person.id == Hit.person_id)
        .order_by(Case.id)
    )
    if board is not None:
        query = query.where(Board.number == check_board_number(board))
    if only_open:
        query = query.where(Case.status == OPEN)
    with app.sessions() as session:
        return [
            CaseView(
                reference=case.reference,
                board=number,
                personeelsnummer=personeelsnummer,
                name=display_name(
                    person.surname, person.prefix, person.initials, person.first_names
                )
                if person
                else "",
                status=case.status,
                opened_at=case.opened_at,
                deadline=case.deadline,
                outcome=case.outcome,
                resolved_by=case.resolved_by,
                resolved_at=case.resolved_at,
            )
            for case, number, personeelsnummer, person in session.execute(query)
        ]
