"""Applying staff lists: the board's newest accepted list becomes its current employments.

For each board with a pending list: plan (pure :func:`vogscreen.domain.plan.diff_board`), guard
(:func:`vogscreen.domain.plan.removal_guard`), then write the employments and the authority
outbox rows they cause in one transaction. Once a board has an applied list, only the
people whose rows changed since (:func:`vogscreen.store.staff_lists.changed_people`) and those whose
datum_uit_dienst has passed are compared: everyone else's employment *is* that list.
Writes are set-based (executemany, INSERT ... SELECT), never one ORM round trip per row.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import Integer, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Insert

from vogscreen.domain.plan import (
    BoardDiff,
    Current,
    Desired,
    diff_board,
    preview_counts,
    removal_guard,
)
from vogscreen.domain.statuses import HoldReason
from vogscreen.domain.terms import TERM_COLUMNS, Terms
from vogscreen.pipeline.followup import OPEN, close_by_staff_list, close_for_ended_employments
from vogscreen.store import audit
from vogscreen.store import staff_lists as snapshot
from vogscreen.store.bulk import Lookup, Rows, dialect_of
from vogscreen.store.employments import current_and_lapsed
from vogscreen.store.models import (
    Board,
    Case,
    Employment,
    Hit,
    Person,
    StaffList,
    StaffListRow,
    table,
)
from vogscreen.store.subscriptions import SubscriptionChanges, drifted_people, sync_people

log = structlog.get_logger(__name__)


@dataclass
class BoardResult:
    board: str
    staff_list: int
    outcome: str  # applied | held | superseded
    counts: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    changes: SubscriptionChanges = field(default_factory=SubscriptionChanges)
    # Older pending lists this run marked superseded (never applied), and the list that won.
    superseded: list[int] = field(default_factory=list)
    superseded_by: int | None = None


@dataclass
class ApplySummary:
    boards: list[BoardResult] = field(default_factory=list)
    lapsed: int = 0
    subscriptions: SubscriptionChanges = field(default_factory=SubscriptionChanges)

    @property
    def held(self) -> list[BoardResult]:
        return [result for result in self.boards if result.outcome == "held"]


_NAMES = ("surname", "prefix", "initials", "first_names")


def boards_with_pending_lists(session: Session, board_number: str | None) -> list[Board]:
    query = (
        select(Board)
        .where(Board.id.in_(select(StaffList.board_id).where(StaffList.status == "pending")))
        .order_by(Board.number)
    )
    if board_number is not None:
        query = query.where(Board.number == board_number)
    return list(session.scalars(query))


_BOARD = bindparam("board", type_=Integer())
_LIST = bindparam("list", type_=Integer())
_PENDING = (
    select(StaffList)
    .where(StaffList.board_id == _BOARD, StaffList.status == "pending")
    .order_by(StaffList.id)
    .with_for_update()
)
_LAST_APPLIED = select(func.max(StaffList.id)).where(
    StaffList.board_id == _BOARD, StaffList.status == "applied"
)
# Columns, not ORM entities: on a first load these are a board's whole list.
_LIST_ROWS = Lookup(
    select(
        StaffListRow.person_id,
        *(getattr(StaffListRow, name) for name in (*TERM_COLUMNS, *_NAMES)),
        *(getattr(Person, name).label("p_" + name) for name in _NAMES),
    )
    .join(Person, Person.id == StaffListRow.person_id)
    .where(snapshot.members(_LIST, _BOARD)),
    StaffListRow.person_id,
)
_EMPLOYMENTS = Lookup(
    select(
        Employment.id,
        Employment.person_id,
        Employment.ended_at,
        *(getattr(Employment, name) for name in TERM_COLUMNS),
    ).where(Employment.board_id == _BOARD),
    Employment.person_id,
)
_OPEN_CASE_PEOPLE = (
    select(Hit.person_id)
    .join(Case, Case.hit_id == Hit.id)
    .where(Case.board_id == _BOARD, Case.status == OPEN)
)
_VOG_DATES = Lookup(
    select(StaffListRow.person_id, StaffListRow.vog_date).where(snapshot.members(_LIST, _BOARD)),
    StaffListRow.person_id,
)


def apply_board(
    session: Session, board: Board, *, now: dt.datetime, today: dt.date, actor: str
) -> BoardResult | None:
    """Apply the board's newest pending list, or hold it. None when nothing is pending."""
    pending = list(session.scalars(_PENDING, {"board": board.id}))
    if not pending:
        return None
    latest = pending[-1]
    last_applied = session.scalar(_LAST_APPLIED, {"board": board.id})
    # A list older than the last applied one is never applied over it.
    if last_applied is not None and latest.id < last_applied:
        _supersede(session, board, pending, last_applied, now, actor)
        return BoardResult(
            board.number,
            latest.id,
            "superseded",
            superseded=[staff_list.id for staff_list in pending],
            superseded_by=last_applied,
        )

    if last_applied is None:
        # The board's first list: everything is new.
        people: list[int] | None = None
        current_total = None
    else:
        # The employments are the last applied list, so only the people whose rows changed
        # since (and those whose datum_uit_dienst has passed) can need a change.
        current_total, lapsed = current_and_lapsed(session, board.id, today)
        people = sorted(
            snapshot.changed_people(session, board.id, last_applied, latest.id) | lapsed
        )
    parameters = {"board": board.id, "list": latest.id}
    rows = _LIST_ROWS.rows(session, parameters, people)
    employments = _EMPLOYMENTS.rows(session, parameters, people)
    current = [
        Current(employment_id=e.id, person=e.person_id, terms=Terms(*e[3:]))
        for e in employments
        if e.ended_at is None
    ]
    diff = diff_board(
        (Desired(person=r.person_id, terms=Terms(*r[1:7])) for r in rows),
        current,
        today,
    )
    preview = preview_counts(diff, len(current) if current_total is None else current_total)
    counts = preview.counts
    if latest.confirmed_at is None:
        reason = removal_guard(
            preview.ending,
            preview.current,
            board.removal_threshold_percent,
            board.removal_threshold_count,
        )
        if reason is not None:
            latest.status = "held"
            latest.report = {**latest.report, "reason": reason, "hold": HoldReason.REMOVALS}
            audit.record(
                session,
                at=now,
                actor=actor,
                action="staff_list.held",
                entity="staff_list",
                entity_id=latest.id,
                board_id=board.id,
                **counts,
            )
            # The older pending lists stay pending: they are not overtaken by a list that
            # may yet be rejected (the caller applies the newest of them next).
            return BoardResult(board.number, latest.id, "held", counts, reason)

    ended_rows = {e.person_id: e.id for e in employments if e.ended_at is not None}
    closed = end_employments(
        session, {employment.employment_id: latest.id for employment in diff.end}, now
    )
    if diff.update:
        session.execute(
            update(table(Employment))
            .where(table(Employment).c.id == bindparam("eid"))
            .values(
                last_staff_list_id=latest.id,
                **{name: bindparam("v_" + name) for name in TERM_COLUMNS},
            ),
            [
                {"eid": employment.employment_id, **_term_params(row.terms)}
                for employment, row in diff.update
            ],
        )
    restart = [row for row in diff.start if row.person in ended_rows]
    if restart:
        session.execute(
            update(table(Employment))
            .where(table(Employment).c.id == bindparam("eid"))
            .values(
                ended_at=None,
                started_at=now,
                first_staff_list_id=latest.id,
                last_staff_list_id=latest.id,
                **{name: bindparam("v_" + name) for name in TERM_COLUMNS},
            ),
            [{"eid": ended_rows[row.person], **_term_params(row.terms)} for row in restart],
        )
    fresh = [(row.person,) for row in diff.start if row.person not in ended_rows]
    if fresh:
        # Copied from the list's rows by the database. On a board's first list everyone
        # whose row has not ended starts: no need to send who (a first load is all boards).
        dialect, everyone = dialect_of(session), people is None and not employments
        session.execute(
            _start_employments(dialect, everyone),
            {
                "board": board.id,
                "list": latest.id,
                "now": now,
                "today": today,
                **({} if everyone else _STARTING.bind(dialect, fresh)),
            },
        )
    _update_names(session, rows)
    _decide(latest, "applied", now, actor)
    # Older pending lists are overtaken by the newest, visibly.
    _supersede(session, board, pending[:-1], latest.id, now, actor)
    listed = _listed_with_open_cases(session, board.id, latest.id, diff)
    if listed is not None:
        closed += close_by_staff_list(
            session, board_id=board.id, staff_list_id=latest.id, listed=listed, now=now
        )
    started = [row.person for row in diff.start]
    changes = sync_people(
        session, started + [employment.person for employment in diff.end], now, employed=started
    )
    audit.record(
        session,
        at=now,
        actor=actor,
        action="staff_list.applied",
        entity="staff_list",
        entity_id=latest.id,
        board_id=board.id,
        **counts,
        **changes.as_dict(),
        cases_closed=closed,
        superseded=[staff_list.id for staff_list in pending[:-1]],
    )
    return BoardResult(
        board.number,
        latest.id,
        "applied",
        counts,
        changes=changes,
        superseded=[staff_list.id for staff_list in pending[:-1]],
        superseded_by=latest.id,
    )


def log_result(result: BoardResult) -> None:
    """The log lines of a board's apply, once it is committed (a dry run logs none)."""
    for staff_list in result.superseded:
        log.warning(
            "staff_list.superseded",
            board=result.board,
            staff_list=staff_list,
            by=result.superseded_by,
        )
    if result.outcome == "held":
        log.warning(
            "staff_list.held", board=result.board, staff_list=result.staff_list, **result.counts
        )
    elif result.outcome == "applied":
        log.info(
            "staff_list.applied", board=result.board, staff_list=result.staff_list, **result.counts
        )


def _listed_with_open_cases(
    session: Session, board_id: int, staff_list_id: int, diff: BoardDiff[int]
) -> dict[int, dt.date | None] | None:
    """The list's VOG date of each person with an open case at the board who stays.

    None when the board has no open case (there is nothing for the list to settle).
    """
    people = sorted(
        {
            person
            for person in session.scalars(_OPEN_CASE_PEOPLE, {"board": board_id})
            if person is not None
        }
    )
    if not people:
        return None
    listed: dict[int, dt.date | None] = dict(
        _VOG_DATES.rows(session, {"board": board_id, "list": staff_list_id}, people)
    )
    for employment in diff.end:
        listed.pop(employment.person, None)
    return listed


def _term_params(terms: Terms) -> dict[str, Any]:
    return {"v_" + name: getattr(terms, name) for name in TERM_COLUMNS}


def _supersede(
    session: Session,
    board: Board,
    staff_lists: Sequence[StaffList],
    by: int,
    now: dt.datetime,
    actor: str,
) -> None:
    """Mark lists that were never applied as overtaken by list ``by``, in the audit too."""
    for staff_list in staff_lists:
        _decide(staff_list, "superseded", now, actor)
        audit.record(
            session,
            at=now,
            actor=actor,
            action="staff_list.superseded",
            entity="staff_list",
            entity_id=staff_list.id,
            board_id=board.id,
            board=board.number,
            by=by,
        )


def _decide(staff_list: StaffList, status: str, now: dt.datetime, actor: str) -> None:
    staff_list.status = status
    staff_list.decided_at = now
    staff_list.decided_by = actor


_NAME_COLUMNS = slice(1 + len(TERM_COLUMNS), 1 + len(TERM_COLUMNS) + len(_NAMES))
_PERSON_NAME_COLUMNS = slice(_NAME_COLUMNS.stop, _NAME_COLUMNS.stop + len(_NAMES))


def _update_names(session: Session, rows: Sequence[Any]) -> None:
    """Keep each person's name as the newest applied list spells it."""
    changed = [
        {"pid": r.person_id, **{"v_" + n: v for n, v in zip(_NAMES, r[_NAME_COLUMNS], strict=True)}}
        for r in rows
        if r[_NAME_COLUMNS] != r[_PERSON_NAME_COLUMNS]
    ]
    if changed:
        session.execute(
            update(table(Person))
            .where(table(Person).c.id == bindparam("pid"))
            .values({n: bindparam("v_" + n) for n in _NAMES}),
            changed,
        )


_STARTING = Rows("starting", person_id=Integer())


@functools.cache
def _start_employments(dialect: str, everyone: bool) -> Insert:
    """Employments for the ``starting`` people (or ``everyone`` on the list whose row has
    not ended), with their terms from the list's rows."""
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
    ).where(snapshot.members(list_id, board_id))
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


def end_employments(session: Session, ended: dict[int, int], now: dt.datetime) -> int:
    """End employments, each by a staff list (employment id → list id), and close their
    open cases: the one way an employment ends, whether a list dropped the person or the
    datum_uit_dienst a list gave has passed. Returns the number of cases closed."""
    if not ended:
        return 0
    session.execute(
        update(table(Employment))
        .where(table(Employment).c.id == bindparam("eid"))
        .values(ended_at=now),
        [{"eid": employment_id} for employment_id in ended],
    )
    return close_for_ended_employments(session, ended, now)


def end_lapsed_employments(
    session: Session, *, now: dt.datetime, today: dt.date, actor: str
) -> tuple[int, SubscriptionChanges]:
    """End employments whose datum_uit_dienst has passed since their list was applied."""
    lapsed = session.execute(
        select(Employment.id, Employment.person_id, Employment.last_staff_list_id).where(
            Employment.ended_at.is_(None), Employment.end_date < today
        )
    ).all()
    if not lapsed:
        return 0, SubscriptionChanges()
    # The list that set the end date is the one that last changed the employment.
    closed = end_employments(session, {row.id: row.last_staff_list_id for row in lapsed}, now)
    changes = sync_people(session, [row.person_id for row in lapsed], now)
    audit.record(
        session,
        at=now,
        actor=actor,
        action="employments.lapsed",
        entity="employment",
        ended=len(lapsed),
        **changes.as_dict(),
        cases_closed=closed,
    )
    return len(lapsed), changes


def heal(session: Session, *, now: dt.datetime) -> SubscriptionChanges:
    """Fix any person whose subscription disagrees with their employments (set-based)."""
    return sync_people(session, drifted_people(session), now)
