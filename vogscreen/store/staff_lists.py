"""A board's staff lists as one chain of rows.

Each accepted list is a whole snapshot of the board's staff, but most rows repeat the list
before it. A row is therefore stored once and belongs to every list from the one that
brought it in (``staff_list_id``) up to, not including, the one that dropped or changed it
(``removed_in_list_id``). The lists of a board that carry rows (every status but
``rejected``) form one chain in id order, so:

* the rows of list L are those with ``staff_list_id <= L`` that were not removed by L or
  an earlier list (:func:`members`);
* the board's newest list holds exactly the rows never removed (:func:`newest`);
* what changed between two lists of the chain is what was added or removed between them
  (:func:`changed_people`), which is what a churn day costs instead of the whole list.

A new list must be stored against the newest list of its board (:func:`lock_head`); storing
checks that the head did not move meanwhile.

Rows carry a keyed fingerprint of their cells as read (:func:`fingerprinter`), so the rows
of a new file that repeat the newest list are recognised without being validated again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    and_,
    bindparam,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session

from vogscreen.domain.terms import Cell
from vogscreen.store.models import Board, StaffList, StaffListRow

REJECTED = "rejected"  # a file refused as a whole is stored without rows


def members(
    staff_list_id: int | ColumnElement[int], board_id: int | ColumnElement[int]
) -> ColumnElement[bool]:
    """The condition that selects the rows of one list of the board (values or parameters)."""
    return and_(
        StaffListRow.board_id == board_id,
        StaffListRow.staff_list_id <= staff_list_id,
        or_(
            StaffListRow.removed_in_list_id.is_(None),
            StaffListRow.removed_in_list_id > staff_list_id,
        ),
    )


def newest(board_id: int) -> ColumnElement[bool]:
    """The rows of the board's newest list: those no list has removed."""
    return and_(StaffListRow.board_id == board_id, StaffListRow.removed_in_list_id.is_(None))


_BOARD = bindparam("board", type_=Integer())
_NEWEST_WITH_ROWS = (
    select(func.max(StaffList.id))
    .where(StaffList.board_id == _BOARD, StaffList.status != REJECTED)
    .scalar_subquery()
)
_LOCK_HEAD = (
    select(_NEWEST_WITH_ROWS).select_from(Board).where(Board.id == _BOARD).with_for_update(of=Board)
)


def lock_head(session: Session, board_id: int) -> int | None:
    """Lock the board (PostgreSQL; SQLite has one writer anyway) until the transaction ends,
    and return its newest list with rows: the one a new list is stored against. While the
    lock is held no other list can be stored against the same head."""
    return session.scalar(_LOCK_HEAD, {"board": board_id})


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
        """The chain's newest list: the one a new list is stored against (see :func:`lock_head`)."""
        heads = [head.id for status, head in self.by_status.items() if status != REJECTED]
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
    return Heads({row.status: ListHead(*row) for row in rows})


def changed_people(session: Session, board_id: int, since: int, until: int) -> set[int]:
    """Persons whose row differs between the board's lists ``since`` and ``until``.

    ``since`` < ``until``, both on the chain. A person whose row changed appears through
    both the removed old row and the added new one.
    """
    return set(session.scalars(_CHANGED, {"board": board_id, "since": since, "until": until}))


def _changed() -> CompoundSelect[Any]:
    rows = StaffListRow
    since, until = bindparam("since", type_=Integer()), bindparam("until", type_=Integer())
    added = select(rows.person_id).where(
        rows.board_id == _BOARD,
        rows.staff_list_id > since,
        rows.staff_list_id <= until,
        or_(rows.removed_in_list_id.is_(None), rows.removed_in_list_id > until),
    )
    removed = select(rows.person_id).where(
        rows.board_id == _BOARD,
        rows.staff_list_id <= since,
        rows.removed_in_list_id > since,
        rows.removed_in_list_id <= until,
    )
    return union(added, removed)


_CHANGED = _changed()


def fingerprinter(
    key: bytes, kind: str, header: Sequence[str]
) -> Callable[[Sequence[Cell]], bytes]:
    """A function from a row's cells to its 16-byte fingerprint within this kind of file.

    The header and the file kind are part of every fingerprint: the same cells under
    another header may mean something else, so nothing is carried over then.
    """
    start = hashlib.blake2b(key=key, digest_size=16)
    start.update(_encode([kind, *header]) + b"\x1d")

    def fingerprint(cells: Sequence[Cell]) -> bytes:
        digest = start.copy()
        digest.update(_encode(cells))
        return digest.digest()

    return fingerprint


def _encode(cells: Sequence[Cell]) -> bytes:
    try:
        # A CSV row is all text: joined as it is (the common case, and the fast one).
        return "\x1f".join(cells).encode("utf-8", "surrogatepass")  # type: ignore[arg-type]
    except TypeError:
        # XLSX numbers, dates, empty cells: marked and by repr, so the number 1 and the
        # text "1" differ, as they do to validation.
        return "\x1f".join(
            cell if isinstance(cell, str) else "\x1e" + repr(cell) for cell in cells
        ).encode("utf-8", "surrogatepass")
