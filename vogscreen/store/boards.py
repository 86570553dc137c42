"""School boards: their numbers, names, thresholds and HR recipients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from vogscreen.store.models import Board


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
