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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.domain.language import msg
from vogscreen.domain.statuses import CaseOutcome, CaseStatus
from vogscreen.intake.cells import has_control_character
from vogscreen.pipeline.boards import check_board_number
from vogscreen.runtime.bootstrap import App
from vogscreen.store import cases
from vogscreen.store.database import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vogscreen.store.models import Case

log = structlog.get_logger(__name__)

OUTCOMES = tuple(outcome.value for outcome in CaseOutcome)
MAX_NOTE = 2000


def free_text(text: str, limit: int) -> str | None:
    """A note or a reason as a board typed it: line ends as ``\n``, no other control
    character (a NUL, an escape sequence), at most ``limit`` characters; None when empty."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if has_control_character(text.replace("\n", " ")):
        raise InvalidInput(msg("The text may not contain control characters."))
    if len(text) > limit:
        raise InvalidInput(msg("The text is at most %(n)s characters.", n=limit))
    return text or None


def resolve(
    app: App,
    reference: str,
    outcome: str,
    who: str | None = None,
    *,
    vog_date: dt.date | None = None,
    note: str | None = None,
    board_id: int | None = None,
) -> Case:
    """Resolve an open case by hand, with the date of the new VOG and a note when given.

    ``board_id`` limits it to one board's cases: another board's case is not found, as
    one that does not exist. A new VOG cannot date from before the hit.
    """
    if outcome not in OUTCOMES:
        raise InvalidInput(f"the outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    note = free_text(note, MAX_NOTE) if note is not None else None
    if vog_date is not None and vog_date > app.today():
        raise InvalidInput(msg("The date of the new VOG lies in the future."))
    with transaction(app.sessions) as session:
        case = cases.case_for_update(session, reference)
        if case is None or (board_id is not None and case.board_id != board_id):
            raise NotFound(f"there is no case {reference}")
        if case.status != CaseStatus.OPEN:
            raise StateConflict(
                msg(
                    "Case %(case)s is already resolved (%(outcome)s).",
                    case=reference,
                    outcome=case.outcome,
                )
            )
        if vog_date is not None and vog_date < cases.hit_raised_at(session, case).date():
            raise InvalidInput(
                msg(
                    "The new VOG (%(date)s) cannot date from before the hit.",
                    date=vog_date.isoformat(),
                )
            )
        cases.close(
            session,
            [case],
            outcome,
            who or app.settings.actor,
            app.now(),
            vog_date=vog_date,
            note=note,
        )
        return case


def close_for_ended_employments(
    session: Session, ended: Mapping[int, int], now: dt.datetime
) -> int:
    """Close the open cases of employments that ended, as *employment ended*.

    ``ended`` maps each ended employment to the staff list that ended it: the one that
    dropped the person, or the one whose ``datum_uit_dienst`` has passed.
    """
    closing = cases.open_cases_of_employments(session, list(ended))
    by_list: dict[int, list[Case]] = {}
    for case in closing:
        assert case.employment_id is not None
        by_list.setdefault(ended[case.employment_id], []).append(case)
    for staff_list_id, listed_cases in by_list.items():
        cases.close(
            session, listed_cases, CaseOutcome.EMPLOYMENT_ENDED, f"staff list {staff_list_id}", now
        )
    return len(closing)


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
    rows = cases.open_cases_of_board(session, board_id)
    who = f"staff list {staff_list_id}"
    ended = [case for case, person, _ in rows if person not in listed]
    renewed = [
        case
        for case, person, raised_at in rows
        if person in listed and (vog := listed[person]) is not None and vog > raised_at.date()
    ]
    cases.close(session, ended, CaseOutcome.EMPLOYMENT_ENDED, who, now)
    cases.close(session, renewed, CaseOutcome.NEW_VOG, who, now)
    return len(ended) + len(renewed)


def remind(app: App) -> int:
    """Queue a reminder for every case open a whole period longer than its last one."""
    now = app.now()
    period = dt.timedelta(days=app.settings.reminder_days)
    queued = 0
    with transaction(app.sessions) as session:
        for case in cases.open_since(session, now - period):
            number = (now - case.opened_at) // period
            if cases.queue_reminder(session, case, number, now):
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
    raised_at: dt.datetime | None = None
    vog_date: dt.date | None = None
    note: str | None = None

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
            "raised_at": self.raised_at.isoformat() if self.raised_at else None,
            "vog_date": self.vog_date.isoformat() if self.vog_date else None,
            "note": self.note,
        }


def list_cases(app: App, *, board: str | None = None, only_open: bool = False) -> list[CaseView]:
    from vogscreen.pipeline.staff import display_name

    board_number = check_board_number(board) if board is not None else None
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
                raised_at=raised_at,
                vog_date=case.vog_date,
                note=case.note,
            )
            for case, number, personeelsnummer, person, raised_at in cases.case_rows(
                session, board_number=board_number, only_open=only_open
            )
        ]
