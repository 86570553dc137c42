"""Employments: who works where, on which terms. A row is current while ``ended_at`` is
empty; an ended one is kept (cases and the audit refer to it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Date, Integer, and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from vogscreen.domain.plan import Current
from vogscreen.domain.terms import TERM_COLUMNS, terms_of
from vogscreen.store.bulk import Lookup
from vogscreen.store.models import Employment

_BOARD = bindparam("board", type_=Integer())
_TODAY = bindparam("today", type_=Date())
_CURRENT = and_(Employment.board_id == _BOARD, Employment.ended_at.is_(None))
_LAPSED = Employment.end_date < _TODAY
# Columns, not ORM entities: on a first load this is every row of a board.
_CURRENT_EMPLOYMENTS = Lookup(
    select(
        Employment.id, Employment.person_id, *(getattr(Employment, n) for n in TERM_COLUMNS)
    ).where(_CURRENT),
    Employment.person_id,
)
_COUNT_CURRENT = select(func.count(), func.count(case((_LAPSED, 1)))).where(_CURRENT)
_LAPSED_PEOPLE = select(Employment.person_id).where(_CURRENT, _LAPSED)


def current_employments(
    session: Session, board_id: int, people: Sequence[int] | None = None
) -> list[Current[int]]:
    """The board's current employments (of ``people`` only, when given), keyed by person."""
    return [
        Current(employment_id=row.id, person=row.person_id, terms=terms_of(row))
        for row in _CURRENT_EMPLOYMENTS.rows(session, {"board": board_id}, people)
    ]


def current_and_lapsed(session: Session, board_id: int, today: dt.date) -> tuple[int, set[int]]:
    """How many employments of the board are current, and who among them has an end date
    that has passed (ended by reconcile, but not yet by a list): one query, usually."""
    parameters = {"board": board_id, "today": today}
    total, lapsing = session.execute(_COUNT_CURRENT, parameters).one()
    if not lapsing:
        return int(total), set()
    return int(total), set(session.scalars(_LAPSED_PEOPLE, parameters))
