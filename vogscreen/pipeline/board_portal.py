"""What a board does for itself in the portal (the API and the pages): each function takes
the number of the caller's board and works on that board's data only.

Another board's list, case or token raises :class:`~vogscreen.domain.errors.NotFound`,
exactly as one that does not exist, so the portal never reveals that it exists. Nothing
here returns a BSN or a birth date. ``who`` is the caller as the audit trail names it: a
token (``api-token:7``) or the address of the person logged in.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.domain.language import DEFAULT_LANGUAGE, check_language, msg
from vogscreen.domain.plan import HOLD_HINTS, reason_of
from vogscreen.domain.statuses import OPERATOR_HOLDS, CaseOutcome, HoldReason, StaffListStatus
from vogscreen.pipeline import boards, followup, reconcile, reports, staff
from vogscreen.pipeline.tokens import (
    TokenHolder,
    TokenView,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
)
from vogscreen.runtime.bootstrap import App
from vogscreen.store import boards as stored
from vogscreen.store import cases
from vogscreen.store import list_records as records

if TYPE_CHECKING:
    from vogscreen.store.models import StaffList

__all__ = [
    "TokenHolder",
    "TokenView",
    "add_recipient",
    "authenticate",
    "cases_of",
    "create_token",
    "current_staff",
    "decide_held",
    "held_list",
    "history",
    "list_tokens",
    "overview",
    "recipients",
    "remove_recipient",
    "resolve_case",
    "revoke_token",
    "staff_list",
]

MAX_REASON = 2000


def _iso(moment: dt.datetime | dt.date | None) -> str | None:
    return moment.isoformat() if moment else None


def overview(app: App, number: str) -> dict[str, Any]:
    """The board at a glance: staff, screened, refused by the authority, open and overdue
    cases, the held lists and the list handed in last."""
    with app.sessions() as session:
        board = boards.get_board(session, number)
        employed, subscribed, refused = stored.staff_counts(session, board.id)
        open_cases, overdue = cases.case_counts(session, board.id, app.today())
        last = stored.last_list(session, board.id)
        held = stored.held_lists(session, board.id)
        return {
            "board": board.number,
            "name": board.name,
            "staff": employed,
            "subscribed": subscribed,
            "refused": refused,
            "open_cases": open_cases,
            "overdue_cases": overdue,
            "held_lists": held,
            "last_list": None
            if last is None
            else {
                "id": last.id,
                "status": last.status,
                "received_at": last.received_at.isoformat(),
                "received_by": last.received_by,
            },
        }


def current_staff(app: App, number: str) -> list[dict[str, Any]]:
    """The board's current staff (its newest list that counts): no BSN, no birth date."""
    return [
        {
            "personeelsnummer": member.personeelsnummer,
            "name": member.name,
            "brin": member.brin,
            "function": member.function,
            "start_date": _iso(member.start_date),
            "end_date": _iso(member.end_date),
            "vog_date": _iso(member.vog_date),
            "screening": member.screening,
        }
        for member in staff.current_staff(app, number).members
    ]


def history(app: App, number: str) -> list[dict[str, Any]]:
    """Every list the board handed in, oldest first (see :func:`staff.history`)."""
    return staff.history(app, number)


def staff_list(
    app: App, number: str, staff_list_id: int, language: str = DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """The report of one list the board handed in, read in ``language``
    (:func:`vogscreen.pipeline.reports.stored_report`)."""
    return reports.stored_report(app, number, staff_list_id, language)


def _hold_of(staff_list: StaffList) -> HoldReason | None:
    """Why a list is held; None when it is not. Lists held before hold reasons were
    recorded were all held by the removal guard."""
    if staff_list.status != StaffListStatus.HELD:
        return None
    return HoldReason(staff_list.report.get("hold") or HoldReason.REMOVALS)


def _held_hold(app: App, number: str, staff_list_id: int) -> HoldReason | None:
    with app.sessions() as session:
        board = boards.get_board(session, number)
        staff_list = records.list_of_board(session, board.id, staff_list_id)
        if staff_list is None:
            raise NotFound(f"there is no staff list {staff_list_id}")
        return _hold_of(staff_list)


def held_list(
    app: App, number: str, staff_list_id: int, language: str = DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """A held list: why it is held (``hold``: the code, ``reason`` in ``language``), its
    counts, and the people now employed who would leave if it were applied."""
    check_language(language)
    with app.sessions() as session:
        board = boards.get_board(session, number)
        staff_list = records.list_of_board(session, board.id, staff_list_id)
        if staff_list is None:
            raise NotFound(f"there is no staff list {staff_list_id}")
        report = staff_list.report
        held = staff_list.status == StaffListStatus.HELD
        leaving = stored.leaving_with(session, board.id, staff_list.id) if held else []
        hold = _hold_of(staff_list)
        reason = reason_of(report)
        return {
            "id": staff_list.id,
            "status": staff_list.status,
            "file": staff_list.filename,
            "received_at": staff_list.received_at.isoformat(),
            "received_by": staff_list.received_by,
            "counts": {**staff_list.counts, "rows": staff_list.row_count},
            "hold": hold,
            "reason": reason.render(language) if held and reason is not None else None,
            "hint": HOLD_HINTS[hold].render(language) if hold is not None else None,
            "operator_decides": hold in OPERATOR_HOLDS,
            "leaving": [
                {
                    "name": staff.display_name(
                        row.surname, row.prefix, row.initials, row.first_names
                    ),
                    "personeelsnummer": row.personeelsnummer,
                    "brin": row.brin,
                }
                for row in leaving
            ],
        }


def _board_id(app: App, number: str) -> int:
    with app.sessions() as session:
        return boards.get_board(session, number).id


def decide_held(
    app: App, number: str, staff_list_id: int, *, confirm: bool, reason: str, who: str
) -> dict[str, Any]:
    """Confirm or reject one of the board's held lists. A rejection needs a reason; the
    reason is kept on the list and in the audit trail. A confirmed list is applied by the
    next reconcile (the worker's, or an operator's)."""
    reason = followup.free_text(reason, MAX_REASON) or ""
    if not confirm and not reason:
        raise InvalidInput(msg("A rejection needs a reason."))
    if confirm and _held_hold(app, number, staff_list_id) in OPERATOR_HOLDS:
        # The board may be the one that should not have this list: an operator decides.
        raise StateConflict(
            msg(
                "Only vogscreen's operator can confirm this list; you can reject it and hand "
                "in a corrected one."
            )
        )
    decision = reconcile.decide(
        app,
        staff_list_id,
        confirm=confirm,
        actor=who,
        reason=reason or None,
        board_id=_board_id(app, number),
    )
    return decision.as_dict()


def cases_of(app: App, number: str, *, only_open: bool) -> list[dict[str, Any]]:
    """The board's cases (only the open ones, when asked), oldest first."""
    return [
        view.as_dict()
        for view in followup.list_cases(
            app, board=boards.check_board_number(number), only_open=only_open
        )
    ]


def resolve_case(
    app: App,
    number: str,
    reference: str,
    *,
    outcome: str,
    vog_date: dt.date | None,
    note: str | None,
    who: str,
) -> dict[str, Any]:
    """Resolve one of the board's open cases: the outcome, the date of the new VOG (needed
    for ``new_vog``, on or after the hit) and a note, stored on the case and audited."""
    if outcome == CaseOutcome.NEW_VOG and vog_date is None:
        raise InvalidInput(msg("A new VOG needs the date it was issued (vog_date)."))
    case = followup.resolve(
        app,
        reference,
        outcome,
        who,
        vog_date=vog_date,
        note=note,
        board_id=_board_id(app, number),
    )
    return {
        "reference": case.reference,
        "status": case.status,
        "outcome": case.outcome,
        "vog_date": _iso(case.vog_date),
        "note": case.note,
        "resolved_by": case.resolved_by,
        "resolved_at": _iso(case.resolved_at),
    }


def recipients(app: App, number: str) -> list[str]:
    return boards.show_board(app, number).recipients


def add_recipient(app: App, number: str, address: str, who: str) -> list[str]:
    """Add an address that gets the board's e-mails and may log in."""
    return boards.add_recipient(app, number, address, who).recipients


def remove_recipient(app: App, number: str, address: str, who: str) -> list[str]:
    """Remove an address; the last one is refused (``StateConflict``)."""
    return boards.remove_recipient(app, number, address, who).recipients
