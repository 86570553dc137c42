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
from collections.abc import Callable, Collection, Iterable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

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
    update,
)
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import StaffListStatus
from vogscreen.domain.terms import TERM_COLUMNS, Cell, Terms
from vogscreen.store.bulk import Lookup, by_name, chunks, insert_rows, terms_reader
from vogscreen.store.models import Board, StaffList, StaffListRow, Subscription, table


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
    .where(StaffList.board_id == _BOARD, StaffList.status != StaffListStatus.REJECTED)
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


# -- the rows of a new list against the newest ------------------------------------------


class StoredRow(NamedTuple):
    """A row of the board's newest list, as far as a new file needs to know it (a named
    tuple: one is made for every stored row of a board on every upload)."""

    id: int
    person_id: int
    personeelsnummer: str | None


def newest_rows(session: Session, board_id: int) -> tuple[dict[bytes, StoredRow], list[StoredRow]]:
    """The rows of the board's newest list by fingerprint, and those stored before
    fingerprints existed (they have none)."""
    query = select(
        StaffListRow.fingerprint,
        StaffListRow.id,
        StaffListRow.person_id,
        StaffListRow.personeelsnummer,
    ).where(newest(board_id))
    printed: dict[bytes, StoredRow] = {}
    unprinted: list[StoredRow] = []
    for print_, row_id, person_id, number in session.execute(query):
        stored = StoredRow(row_id, person_id, number)
        if print_ is None:
            unprinted.append(stored)
        else:
            printed[print_] = stored
    return printed, unprinted


def newest_terms_by_person(
    session: Session, board_id: int, row_ids: Collection[int]
) -> list[tuple[int, Terms]]:
    """(person, terms) of the rows ``row_ids`` of the board's newest list."""
    query = select(
        StaffListRow.id,
        StaffListRow.person_id,
        *(getattr(StaffListRow, name) for name in TERM_COLUMNS),
    ).where(newest(board_id))
    result = session.execute(query)
    fields = list(result.keys())
    row_id, person = by_name(fields, "id"), by_name(fields, "person_id")
    terms = terms_reader(fields)
    return [(person(row), terms(row)) for row in result.all() if row_id(row) in row_ids]


_LIST = bindparam("list", type_=Integer())
_MEMBER_TERMS = Lookup(
    select(StaffListRow.person_id, *(getattr(StaffListRow, n) for n in TERM_COLUMNS)).where(
        members(_LIST, _BOARD)
    ),
    StaffListRow.person_id,
)


def member_terms(
    session: Session, board_id: int, staff_list_id: int, people: Sequence[int]
) -> dict[int, Terms]:
    """The terms of ``people`` in one list of the board, by person."""
    rows = _MEMBER_TERMS.rows(session, {"board": board_id, "list": staff_list_id}, people)
    if not rows:
        return {}
    person, terms = by_name(rows[0]._fields, "person_id"), terms_reader(rows[0]._fields)
    return {person(row): terms(row) for row in rows}


def members_with_screening(
    session: Session, staff_list_id: int, board_id: int
) -> list[tuple[StaffListRow, str | None]]:
    """The rows of a list, by name, each with its person's subscription status (or None)."""
    rows = session.execute(
        select(StaffListRow, Subscription.status)
        .outerjoin(Subscription, Subscription.person_id == StaffListRow.person_id)
        .where(members(staff_list_id, board_id))
        .order_by(
            StaffListRow.surname,
            StaffListRow.prefix,
            StaffListRow.initials,
            StaffListRow.personeelsnummer,
        )
    ).all()
    return [(row, screening) for row, screening in rows]


# -- storing a list's rows ---------------------------------------------------------------


# A row's own values, after who and where, by name: what a staff list's row says.
ROW_COLUMNS = ("surname", "prefix", "initials", "first_names", *TERM_COLUMNS)
_ROW_VALUES = attrgetter(*ROW_COLUMNS)
_ROW_INSERT = ("board_id", "staff_list_id", "fingerprint", "person_id", *ROW_COLUMNS)


def add_rows(
    session: Session,
    board_id: int,
    staff_list_id: int,
    rows: Iterable[tuple[bytes, int, Any]],
) -> None:
    """Store the rows a list brings in: (fingerprint, person, a row with the
    :data:`ROW_COLUMNS` as attributes)."""
    insert_rows(
        session,
        table(StaffListRow),
        _ROW_INSERT,
        [
            (board_id, staff_list_id, fingerprint, person_id, *_ROW_VALUES(row))
            for fingerprint, person_id, row in rows
        ],
    )


def mark_removed(session: Session, row_ids: Sequence[int], staff_list_id: int) -> None:
    """The rows ``row_ids`` end with list ``staff_list_id``: it dropped or changed them."""
    rows_table = table(StaffListRow)
    for chunk in chunks(row_ids):
        session.execute(
            update(rows_table)
            .where(rows_table.c.id.in_(chunk))
            .values(removed_in_list_id=staff_list_id)
        )
