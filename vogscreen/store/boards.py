"""School boards: their numbers, names, thresholds and HR recipients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import StaffListStatus, SubscriptionStatus
from vogscreen.store.models import (
    Board,
    Employment,
    Person,
    StaffList,
    StaffListRow,
    Subscription,
)
from vogscreen.store.staff_lists import members


def board_numbers(session: Session) -> list[str]:
    return list(session.scalars(select(Board.number).order_by(Board.number)))


def board_by_number(session: Session, number: str) -> Board | None:
    return session.scalar(select(Board).where(Board.number == number))


def board_exists(session: Session, number: str) -> bool:
    return session.scalar(select(Board.id).where(Board.number == number)) is not None


def all_boards(session: Session) -> list[Board]:
    return list(session.scalars(select(Board).order_by(Board.number)))


def add_board(
    session: Session, number: str, name: str, recipients: Sequence[str], created_at: dt.datetime
) -> Board:
    """Store a new board; its id is set (flushed) when this returns."""
    board = Board(number=number, name=name, recipients=list(recipients), created_at=created_at)
    session.add(board)
    session.flush()
    return board


# -- what the board portal shows a board of itself ---------------------------------------

_CURRENT = Employment.ended_at.is_(None)


def staff_counts(session: Session, board_id: int) -> tuple[int, int, int]:
    """The board's current employments, how many of those people the authority screens
    (an active subscription), and how many it refused (a failed one)."""
    row = session.execute(
        select(
            func.count(),
            func.count(case((Subscription.status == SubscriptionStatus.ACTIVE, 1))),
            func.count(case((Subscription.status == SubscriptionStatus.FAILED, 1))),
        )
        .select_from(Employment)
        .outerjoin(Subscription, Subscription.person_id == Employment.person_id)
        .where(Employment.board_id == board_id, _CURRENT)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def last_list(session: Session, board_id: int) -> StaffList | None:
    """The list the board handed in last, whatever came of it."""
    return session.scalar(
        select(StaffList)
        .where(StaffList.board_id == board_id)
        .order_by(StaffList.id.desc())
        .limit(1)
    )


def held_lists(session: Session, board_id: int) -> list[int]:
    """The board's held lists, oldest first."""
    return list(
        session.scalars(
            select(StaffList.id)
            .where(StaffList.board_id == board_id, StaffList.status == StaffListStatus.HELD)
            .order_by(StaffList.id)
        )
    )


def leaving_with(
    session: Session, board_id: int, staff_list_id: int
) -> Sequence[Row[str, str | None, str | None, str | None, str | None, str | None]]:
    """The people employed at the board now who are not on the list: who would leave if
    it were applied (``surname``, ``prefix``, ``initials``, ``first_names``,
    ``personeelsnummer``, ``brin``), by name."""
    on_list = select(StaffListRow.person_id).where(members(staff_list_id, board_id))
    return session.execute(
        select(
            Person.surname,
            Person.prefix,
            Person.initials,
            Person.first_names,
            Employment.personeelsnummer,
            Employment.brin,
        )
        .join(Person, Person.id == Employment.person_id)
        .where(Employment.board_id == board_id, _CURRENT, Employment.person_id.not_in(on_list))
        .order_by(Person.surname, Person.prefix, Person.initials, Employment.personeelsnummer)
    ).all()
