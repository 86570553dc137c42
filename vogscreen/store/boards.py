"""School boards: their numbers, names, thresholds and HR recipients."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vogscreen.store.models import Board


def board_numbers(session: Session) -> list[str]:
    return list(session.scalars(select(Board.number).order_by(Board.number)))
