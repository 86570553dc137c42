"""Where a staff list stands: pending lists waiting to be applied, and the decisions on them
(applied, held, superseded; an operator's confirm or reject of a held list).

The rows of the lists are :mod:`vogscreen.store.staff_lists`; this module only reads and
writes a list's status and its decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import StaffListStatus
from vogscreen.store.models import Board, StaffList, table


@dataclass(frozen=True, slots=True)
class BoardToApply:
    """A board as applying its list needs it: who it is and its removal guard."""

    id: int
    number: str
    removal_threshold_percent: int
    removal_threshold_count: int


@dataclass(frozen=True, slots=True)
class PendingList:
    id: int
    confirmed_at: dt.datetime | None  # confirmed by an operator: past the removal guard
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Decided:
    """A list an operator decides on, as it stands before the decision."""

    id: int
    board_id: int
    status: StaffListStatus


_BOARD = bindparam("board", type_=Integer())
_BOARD_COLUMNS = (
    Board.id,
    Board.number,
    Board.removal_threshold_percent,
    Board.removal_threshold_count,
)
_WITH_PENDING = (
    select(*_BOARD_COLUMNS)
    .where(
        Board.id.in_(select(StaffList.board_id).where(StaffList.status == StaffListStatus.PENDING))
    )
    .order_by(Board.number)
)
_PENDING = (
    select(StaffList.id, StaffList.confirmed_at, StaffList.report)
    .where(StaffList.board_id == _BOARD, StaffList.status == StaffListStatus.PENDING)
    .order_by(StaffList.id)
    .with_for_update()
)
_LAST_APPLIED = select(func.max(StaffList.id)).where(
    StaffList.board_id == _BOARD, StaffList.status == StaffListStatus.APPLIED
)


def boards_with_pending_lists(session: Session, board_number: str | None) -> list[BoardToApply]:
    """The boards (or only this one) with a list waiting to be applied, by number."""
    query = _WITH_PENDING
    if board_number is not None:
        query = query.where(Board.number == board_number)
    return [BoardToApply(**row._mapping) for row in session.execute(query)]


def board_to_apply(session: Session, board_id: int) -> BoardToApply:
    row = session.execute(select(*_BOARD_COLUMNS).where(Board.id == board_id)).one()
    return BoardToApply(**row._mapping)


def pending_lists(session: Session, board_id: int) -> list[PendingList]:
    """The board's pending lists, oldest first, locked until the transaction ends."""
    return [PendingList(**row._mapping) for row in session.execute(_PENDING, {"board": board_id})]


def last_applied(session: Session, board_id: int) -> int | None:
    return session.scalar(_LAST_APPLIED, {"board": board_id})


def decide(
    session: Session,
    staff_list_ids: Sequence[int],
    status: StaffListStatus,
    now: dt.datetime,
    actor: str,
    *,
    confirmed: bool = False,
) -> None:
    """Record a decision on lists: their new status, when and by whom (and, for a held
    list an operator confirmed, when it was confirmed)."""
    if not staff_list_ids:
        return
    lists = table(StaffList)
    values: dict[str, Any] = {"status": status, "decided_at": now, "decided_by": actor}
    if confirmed:
        values["confirmed_at"] = now
    session.execute(
        update(lists).where(lists.c.id == bindparam("sid")).values(values),
        [{"sid": staff_list_id} for staff_list_id in staff_list_ids],
    )


def hold(session: Session, staff_list_id: int, report: dict[str, Any]) -> None:
    """Hold a list for an operator, with the report that says why."""
    lists = table(StaffList)
    session.execute(
        update(lists)
        .where(lists.c.id == staff_list_id)
        .values(status=StaffListStatus.HELD, report=report)
    )


def note_decision(session: Session, staff_list_id: int, reason: str) -> None:
    """Keep why a held list was decided on (the board's own words) in its report."""
    report = session.scalar(select(StaffList.report).where(StaffList.id == staff_list_id))
    lists = table(StaffList)
    session.execute(
        update(lists)
        .where(lists.c.id == staff_list_id)
        .values(report={**(report or {}), "decision_reason": reason})
    )


def locked_for_decision(session: Session, staff_list_id: int) -> Decided | None:
    """The list an operator decides on, locked until the transaction ends; None if unknown."""
    row = session.execute(
        select(StaffList.id, StaffList.board_id, StaffList.status)
        .where(StaffList.id == staff_list_id)
        .with_for_update()
    ).one_or_none()
    return None if row is None else Decided(row.id, row.board_id, StaffListStatus(row.status))


def newer_live_list(session: Session, board_id: int, staff_list_id: int) -> int | None:
    """A list of the board newer than this one that is applied or waits to be."""
    return session.scalar(
        select(StaffList.id).where(
            StaffList.board_id == board_id,
            StaffList.id > staff_list_id,
            StaffList.status.in_((StaffListStatus.APPLIED, StaffListStatus.PENDING)),
        )
    )


def board_number(session: Session, board_id: int) -> str:
    number: str = session.execute(select(Board.number).where(Board.id == board_id)).scalar_one()
    return number
