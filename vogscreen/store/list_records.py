"""A board's staff lists as records: which file was handed in, when and by whom, and what
came of it (:class:`~vogscreen.domain.statuses.StaffListStatus`). The rows a list holds
are in :mod:`vogscreen.store.staff_lists`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Integer, bindparam, func, insert, select
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import LIVE_LIST_STATUSES, StaffListStatus
from vogscreen.store.models import StaffList

_BOARD = bindparam("board", type_=Integer())


@dataclass(frozen=True, slots=True)
class ListHead:
    id: int
    status: str
    sha256: str
    row_count: int
    counts: dict[str, Any]


@dataclass(frozen=True)
class Heads:
    """A board's newest list of each status, from one query."""

    by_status: dict[str, ListHead]

    def newest(self, *statuses: str) -> ListHead | None:
        found = [self.by_status[s] for s in statuses if s in self.by_status]
        return max(found, key=lambda head: head.id) if found else None

    @property
    def chain(self) -> int | None:
        """The chain's newest list: the one a new list is stored against (see
        :func:`vogscreen.store.staff_lists.lock_head`)."""
        heads = [
            head.id for status, head in self.by_status.items() if status != StaffListStatus.REJECTED
        ]
        return max(heads) if heads else None


_HEADS = select(
    StaffList.id, StaffList.status, StaffList.sha256, StaffList.row_count, StaffList.counts
).where(
    StaffList.id.in_(
        select(func.max(StaffList.id))
        .where(StaffList.board_id == _BOARD)
        .group_by(StaffList.status)
    )
)


def heads(session: Session, board_id: int) -> Heads:
    rows = session.execute(_HEADS, {"board": board_id})
    return Heads(
        {
            row.status: ListHead(row.id, row.status, row.sha256, row.row_count, row.counts)
            for row in rows
        }
    )


_PENDING_LISTS = (
    select(StaffList.id)
    .where(StaffList.board_id == _BOARD, StaffList.status == StaffListStatus.PENDING)
    .order_by(StaffList.id)
)
# Lists a board has moved on to: a file like an earlier one is older than these.
_TAKEN = (StaffListStatus.PENDING, StaffListStatus.APPLIED)
_SAME_FILE = (
    select(StaffList.id)
    .where(
        StaffList.board_id == _BOARD,
        StaffList.sha256 == bindparam("sha256"),
        StaffList.status != StaffListStatus.REJECTED,
    )
    .order_by(StaffList.id.desc())
    .limit(1)
)
_TAKEN_SINCE = (
    select(StaffList.id, StaffList.report, StaffList.received_at)
    .where(
        StaffList.board_id == _BOARD,
        StaffList.status.in_(_TAKEN),
        StaffList.id > bindparam("since", type_=Integer()),
    )
    .order_by(StaffList.id.desc())
    .limit(1)
)


def pending_lists(session: Session, board_id: int) -> list[int]:
    """The board's pending lists, oldest first."""
    return list(session.scalars(_PENDING_LISTS, {"board": board_id}))


def same_file(session: Session, board_id: int, sha256: str) -> int | None:
    """The board's newest list of exactly this file that was not rejected, if any."""
    return session.scalar(_SAME_FILE, {"board": board_id, "sha256": sha256})


class TakenList(NamedTuple):
    id: int
    report: dict[str, Any]
    received_at: dt.datetime


def newest_taken(session: Session, board_id: int, since: int = 0) -> TakenList | None:
    """The board's newest pending or applied list after list ``since``, if any."""
    row = session.execute(_TAKEN_SINCE, {"board": board_id, "since": since}).first()
    return None if row is None else TakenList(row.id, row.report, row.received_at)


def newest_live(session: Session, board_id: int) -> StaffList | None:
    """The board's newest list that counts (pending, applied or held): its current staff."""
    return session.scalar(
        select(StaffList)
        .where(StaffList.board_id == board_id, StaffList.status.in_(LIVE_LIST_STATUSES))
        .order_by(StaffList.id.desc())
        .limit(1)
    )


def list_of_board(session: Session, board_id: int, staff_list_id: int) -> StaffList | None:
    """List ``staff_list_id`` when it is the board's; None when it is another's or none."""
    return session.scalar(
        select(StaffList).where(StaffList.id == staff_list_id, StaffList.board_id == board_id)
    )


def lists_of(session: Session, board_id: int) -> list[StaffList]:
    """Every list the board handed in, oldest first."""
    return list(
        session.scalars(
            select(StaffList).where(StaffList.board_id == board_id).order_by(StaffList.id)
        ).all()
    )


def add_rejected(
    session: Session,
    *,
    board_id: int,
    sha256: str,
    filename: str,
    row_count: int,
    problems: list[dict[str, Any]],
    received_at: dt.datetime,
    received_by: str,
) -> int:
    """Store a refused file: no rows, only its problems."""
    staff_list = StaffList(
        board_id=board_id,
        sha256=sha256,
        filename=filename,
        status=StaffListStatus.REJECTED,
        row_count=row_count,
        counts={"rows": row_count},
        report={"problems": problems},
        received_at=received_at,
        received_by=received_by,
    )
    session.add(staff_list)
    session.flush()
    return staff_list.id


def add_list(
    session: Session,
    *,
    board_id: int,
    sha256: str,
    filename: str,
    status: StaffListStatus,
    row_count: int,
    counts: dict[str, int],
    report: dict[str, Any],
    received_at: dt.datetime,
    received_by: str,
) -> int:
    """Store a list (its rows follow, :func:`add_rows`) and return its id."""
    # A Core insert: the ORM's unit of work costs more than the row, on every upload.
    return session.execute(
        insert(StaffList)
        .values(
            board_id=board_id,
            sha256=sha256,
            filename=filename,
            status=status,
            row_count=row_count,
            counts=counts,
            report=report,
            received_at=received_at,
            received_by=received_by,
        )
        .returning(StaffList.id)
    ).scalar_one()
