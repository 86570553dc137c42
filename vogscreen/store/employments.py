"""Employments: who works where, on which terms. A row is current while ``ended_at`` is
empty; an ended one is kept (cases and the audit refer to it).

Applying a list writes them set-based (executemany, ``INSERT … SELECT`` from the list's
rows), never one ORM round trip per row; the reads take columns, not ORM entities: on a
first load they are a board's whole list.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Integer, Row, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Insert

from vogscreen.domain.plan import Current, Desired
from vogscreen.domain.terms import TERM_COLUMNS, Terms
from vogscreen.store.bulk import Lookup, Rows, by_name, dialect_of, terms_reader
from vogscreen.store.models import Board, Employment, Person, StaffListRow, table
from vogscreen.store.staff_lists import members

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
    return as_current(_CURRENT_EMPLOYMENTS.rows(session, {"board": board_id}, people))


def as_current(rows: Sequence[Row[Any]]) -> list[Current[int]]:
    """Employment rows (``id``, ``person_id``, the terms; ``ended_at`` when selected) as the
    plan's current employments: those not ended."""
    if not rows:
        return []
    fields = rows[0]._fields
    row_id, person, terms = (
        by_name(fields, "id"),
        by_name(fields, "person_id"),
        terms_reader(fields),
    )
    ended = by_name(fields, "ended_at") if "ended_at" in fields else (lambda row: None)
    return [
        Current(employment_id=row_id(row), person=person(row), terms=terms(row))
        for row in rows
        if ended(row) is None
    ]


def as_desired(rows: Sequence[Row[Any]]) -> list[Desired[int]]:
    """A list's rows (``person_id`` and the terms, as :func:`listed` gives them) as the
    plan's desired employments."""
    if not rows:
        return []
    person, terms = by_name(rows[0]._fields, "person_id"), terms_reader(rows[0]._fields)
    return [Desired(person=person(row), terms=terms(row)) for row in rows]


def current_and_lapsed(session: Session, board_id: int, today: dt.date) -> tuple[int, set[int]]:
    """How many employments of the board are current, and who among them has an end date
    that has passed (ended by reconcile, but not yet by a list): one query, usually."""
    parameters = {"board": board_id, "today": today}
    total, lapsing = session.execute(_COUNT_CURRENT, parameters).one()
    if not lapsing:
        return int(total), set()
    return int(total), set(session.scalars(_LAPSED_PEOPLE, parameters))


# -- applying a list ------------------------------------------------------------------

_LIST = bindparam("list", type_=Integer())
_NAMES = ("surname", "prefix", "initials", "first_names")
_LISTED = Lookup(
    select(
        StaffListRow.person_id,
        *(getattr(StaffListRow, name) for name in (*TERM_COLUMNS, *_NAMES)),
        *(getattr(Person, name).label("p_" + name) for name in _NAMES),
    )
    .join(Person, Person.id == StaffListRow.person_id)
    .where(members(_LIST, _BOARD)),
    StaffListRow.person_id,
)
_BOARD_EMPLOYMENTS = Lookup(
    select(
        Employment.id,
        Employment.person_id,
        Employment.ended_at,
        *(getattr(Employment, name) for name in TERM_COLUMNS),
    ).where(Employment.board_id == _BOARD),
    Employment.person_id,
)


def listed(
    session: Session, board_id: int, staff_list_id: int, people: Sequence[int] | None
) -> list[Row[Any]]:
    """The list's rows (of ``people`` only, when given): ``person_id``, the terms, the
    names as the list spells them and, prefixed ``p_``, as the person's record does."""
    return _LISTED.rows(session, {"board": board_id, "list": staff_list_id}, people)


def board_employments(
    session: Session, board_id: int, people: Sequence[int] | None
) -> list[Row[Any]]:
    """The board's employments, current and ended (of ``people`` only, when given):
    ``id``, ``person_id``, ``ended_at`` and the terms."""
    return _BOARD_EMPLOYMENTS.rows(session, {"board": board_id}, people)


def update_names(session: Session, rows: Sequence[Row[Any]]) -> None:
    """Keep each person's name as the newest applied list (its :func:`listed` rows) spells it."""
    if not rows:
        return
    fields = rows[0]._fields
    person = by_name(fields, "person_id")
    listed_names = by_name(fields, *_NAMES)
    recorded_names = by_name(fields, *("p_" + name for name in _NAMES))
    changed = [
        {"pid": person(r), **{"v_" + n: v for n, v in zip(_NAMES, names, strict=True)}}
        for r in rows
        if (names := listed_names(r)) != recorded_names(r)
    ]
    if changed:
        session.execute(
            update(table(Person))
            .where(table(Person).c.id == bindparam("pid"))
            .values({n: bindparam("v_" + n) for n in _NAMES}),
            changed,
        )


def _term_params(terms: Terms) -> dict[str, Any]:
    return {"v_" + name: getattr(terms, name) for name in TERM_COLUMNS}


def update_terms(
    session: Session, staff_list_id: int, changed: Sequence[tuple[int, Terms]]
) -> None:
    """Give current employments (id, terms) the terms of the list that changed them."""
    if changed:
        session.execute(
            update(table(Employment))
            .where(table(Employment).c.id == bindparam("eid"))
            .values(
                last_staff_list_id=staff_list_id,
                **{name: bindparam("v_" + name) for name in TERM_COLUMNS},
            ),
            [{"eid": employment_id, **_term_params(terms)} for employment_id, terms in changed],
        )


def restart_employments(
    session: Session, staff_list_id: int, now: dt.datetime, restarts: Sequence[tuple[int, Terms]]
) -> None:
    """Start ended employments (id, terms) again, as of this list."""
    if restarts:
        session.execute(
            update(table(Employment))
            .where(table(Employment).c.id == bindparam("eid"))
            .values(
                ended_at=None,
                started_at=now,
                first_staff_list_id=staff_list_id,
                last_staff_list_id=staff_list_id,
                **{name: bindparam("v_" + name) for name in TERM_COLUMNS},
            ),
            [{"eid": employment_id, **_term_params(terms)} for employment_id, terms in restarts],
        )


_STARTING = Rows("starting", person_id=Integer())


def start_employments(
    session: Session,
    board_id: int,
    staff_list_id: int,
    *,
    now: dt.datetime,
    today: dt.date,
    people: Sequence[int] | None,
) -> None:
    """Employments for ``people``, copied from the list's rows by the database; None:
    for everyone on the list whose row has not ended (a board's first list)."""
    dialect, everyone = dialect_of(session), people is None
    session.execute(
        _start_employments(dialect, everyone),
        {
            "board": board_id,
            "list": staff_list_id,
            "now": now,
            "today": today,
            **({} if people is None else _STARTING.bind(dialect, [(p,) for p in people])),
        },
    )


@functools.cache
def _start_employments(dialect: str, everyone: bool) -> Insert:
    rows, employments = table(StaffListRow), table(Employment)
    starting = _STARTING.table(dialect)
    list_id = bindparam("list", type_=Integer())
    board_id = bindparam("board", type_=Integer())
    terms = [rows.c[name] for name in TERM_COLUMNS]
    source = select(
        board_id.label("board_id"),
        rows.c.person_id,
        *terms,
        list_id.label("first_staff_list_id"),
        list_id.label("last_staff_list_id"),
        bindparam("now", type_=employments.c.started_at.type).label("started_at"),
    ).where(members(list_id, board_id))
    if everyone:
        today = bindparam("today", type_=rows.c.end_date.type)
        source = source.where(or_(rows.c.end_date.is_(None), rows.c.end_date >= today))
    else:
        # IN, not a join: the database then looks the people up once, in a hash table
        # or an index of its own, rather than scanning the batch for every row.
        source = source.where(rows.c.person_id.in_(select(starting.c.person_id)))
    return insert(employments).from_select(
        [
            "board_id",
            "person_id",
            *TERM_COLUMNS,
            "first_staff_list_id",
            "last_staff_list_id",
            "started_at",
        ],
        source,
    )


def end_employments(session: Session, employment_ids: Sequence[int], now: dt.datetime) -> None:
    session.execute(
        update(table(Employment))
        .where(table(Employment).c.id == bindparam("eid"))
        .values(ended_at=now),
        [{"eid": employment_id} for employment_id in employment_ids],
    )


def lapsed_employments(session: Session, today: dt.date) -> Sequence[Row[int, int, int]]:
    """Current employments whose datum_uit_dienst has passed: ``id``, ``person_id`` and
    ``last_staff_list_id`` (the list that set the end date is the one that last changed it)."""
    return session.execute(
        select(Employment.id, Employment.person_id, Employment.last_staff_list_id).where(
            Employment.ended_at.is_(None), Employment.end_date < today
        )
    ).all()


# -- what a list settles of the board's open cases --------------------------------------

_VOG_DATES = Lookup(
    select(StaffListRow.person_id, StaffListRow.vog_date).where(members(_LIST, _BOARD)),
    StaffListRow.person_id,
)


def vog_dates(
    session: Session, board_id: int, staff_list_id: int, people: Sequence[int]
) -> dict[int, dt.date | None]:
    """The VOG date the list gives each of these people (who are on it)."""
    rows = _VOG_DATES.rows(session, {"board": board_id, "list": staff_list_id}, people)
    return {row.person_id: row.vog_date for row in rows}


@dataclass(frozen=True, slots=True)
class Workplace:
    board: str  # the board's number
    personeelsnummer: str | None


def workplaces(session: Session, people: Collection[int]) -> dict[int, Workplace]:
    """Where each of these people works (one of their employments, current or ended)."""
    return {
        row.person_id: Workplace(row.number, row.personeelsnummer)
        for row in session.execute(
            select(Employment.person_id, Employment.personeelsnummer, Board.number)
            .join(Board, Board.id == Employment.board_id)
            .where(Employment.person_id.in_(people))
        )
    }
