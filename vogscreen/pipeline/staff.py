"""A board's current staff and its lists, as operators see them: never a BSN, never a
birth date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vogscreen.domain.statuses import HoldReason, StaffListStatus
from vogscreen.pipeline.boards import get_board
from vogscreen.runtime.bootstrap import App
from vogscreen.store import list_records as records
from vogscreen.store import staff_lists

if TYPE_CHECKING:
    from vogscreen.store.models import StaffList


@dataclass(frozen=True)
class StaffMember:
    personeelsnummer: str | None
    name: str
    brin: str | None
    function: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    vog_date: dt.date | None
    screening: str  # the subscription's status: active, pending, failed, ... or "none"


def display_name(
    surname: str, prefix: str | None, initials: str | None, first_names: str | None
) -> str:
    given = initials or first_names
    return " ".join(part for part in (given, prefix, surname) if part)


@dataclass(frozen=True)
class StaffOverview:
    board: str
    staff_list_id: int | None
    staff_list_status: str | None
    received_at: dt.datetime | None
    members: list[StaffMember]
    hold: str | None = None  # why the list is held, when it is
    reason: str | None = None


def current_staff(app: App, number: str) -> StaffOverview:
    """The rows of the board's latest accepted staff list."""
    with app.sessions() as session:
        board = get_board(session, number)
        staff_list = records.newest_live(session, board.id)
        if staff_list is None:
            return StaffOverview(board.number, None, None, None, [])
        rows = staff_lists.members_with_screening(session, staff_list.id, board.id)
        members = [
            StaffMember(
                personeelsnummer=row.personeelsnummer,
                name=display_name(row.surname, row.prefix, row.initials, row.first_names),
                brin=row.brin,
                function=row.function,
                start_date=row.start_date,
                end_date=row.end_date,
                vog_date=row.vog_date,
                screening=screening or "none",
            )
            for row, screening in rows
        ]
        return StaffOverview(
            board.number,
            staff_list.id,
            staff_list.status,
            staff_list.received_at,
            members,
            *_hold_of(staff_list),
        )


def _hold_of(staff_list: StaffList) -> tuple[str | None, str | None]:
    if staff_list.status != StaffListStatus.HELD:
        return None, None
    # Lists held before hold reasons were recorded were all held by the removal guard.
    return staff_list.report.get("hold") or HoldReason.REMOVALS, staff_list.report.get("reason")


def history(app: App, number: str) -> list[dict[str, Any]]:
    """Every list the board handed in, oldest first: status, counts, who and when."""
    with app.sessions() as session:
        board = get_board(session, number)
        return [history_item(staff_list) for staff_list in records.lists_of(session, board.id)]


def history_item(staff_list: StaffList) -> dict[str, Any]:
    hold, reason = _hold_of(staff_list)
    report = staff_list.report
    return {
        "id": staff_list.id,
        "status": staff_list.status,
        "file": staff_list.filename,
        "received_at": staff_list.received_at.isoformat(),
        "received_by": staff_list.received_by,
        "saved_at": report.get("saved_at"),
        "counts": {**staff_list.counts, "rows": staff_list.row_count},
        "problems": len(report.get("problems") or []),
        "hold": hold,
        "reason": reason,
        "decided_at": staff_list.decided_at.isoformat() if staff_list.decided_at else None,
        "decided_by": staff_list.decided_by,
    }
