"""Applying staff lists: the board's newest accepted list becomes its current employments.

For each board with a pending list, in the caller's transaction: load and plan
(:func:`_plan`: the pure :func:`vogscreen.domain.plan.diff_board`), guard
(:func:`vogscreen.domain.plan.removal_guard`), then hold the list (:func:`_hold`) or write
the employments and the authority outbox rows they cause (:func:`_apply`). Once a board
has an applied list, only the people whose rows changed since
(:func:`vogscreen.store.staff_lists.changed_people`) and those whose datum_uit_dienst has
passed are compared: everyone else's employment *is* that list. The writes are the store's
set-based statements (:mod:`vogscreen.store.employments`), never one round trip per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from vogscreen.domain.language import Text
from vogscreen.domain.plan import (
    BoardDiff,
    Preview,
    diff_board,
    preview_counts,
    removal_guard,
    stored_reason,
)
from vogscreen.domain.statuses import HoldReason, StaffListStatus
from vogscreen.pipeline.followup import close_by_staff_list, close_for_ended_employments
from vogscreen.store import audit, cases, employments, list_status, staff_lists
from vogscreen.store.list_status import BoardToApply, PendingList
from vogscreen.store.subscriptions import SubscriptionChanges, drifted_people, sync_people

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)


@dataclass
class BoardResult:
    board: str
    staff_list: int
    outcome: StaffListStatus  # applied | held | superseded
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
        return [result for result in self.boards if result.outcome == StaffListStatus.HELD]


@dataclass
class _Plan:
    """What applying a list changes, before anything is written."""

    rows: list[Any]  # the list's rows compared (see store.employments.listed)
    employments: list[Any]  # the board's employments compared, current and ended
    diff: BoardDiff[int]
    preview: Preview
    everyone: bool  # the board's first list: everyone on it whose row has not ended starts


def apply_board(
    session: Session, board: BoardToApply, *, now: dt.datetime, today: dt.date, actor: str
) -> BoardResult | None:
    """Apply the board's newest pending list, or hold it. None when nothing is pending."""
    pending = list_status.pending_lists(session, board.id)
    if not pending:
        return None
    latest = pending[-1]
    last_applied = list_status.last_applied(session, board.id)
    # A list older than the last applied one is never applied over it.
    if last_applied is not None and latest.id < last_applied:
        _supersede(session, board, pending, last_applied, now, actor)
        return BoardResult(
            board.number,
            latest.id,
            StaffListStatus.SUPERSEDED,
            superseded=[staff_list.id for staff_list in pending],
            superseded_by=last_applied,
        )
    plan = _plan(session, board.id, latest.id, last_applied, today)
    if latest.confirmed_at is None:
        reason = removal_guard(
            plan.preview.ending,
            plan.preview.current,
            board.removal_threshold_percent,
            board.removal_threshold_count,
        )
        if reason is not None:
            return _hold(session, board, latest, plan, reason, now, actor)
    return _apply(session, board, pending, plan, now=now, today=today, actor=actor)


def _plan(
    session: Session, board_id: int, staff_list_id: int, last_applied: int | None, today: dt.date
) -> _Plan:
    if last_applied is None:
        # The board's first list: everything is new.
        people: list[int] | None = None
        current_total = None
    else:
        # The employments are the last applied list, so only the people whose rows changed
        # since (and those whose datum_uit_dienst has passed) can need a change.
        current_total, lapsed = employments.current_and_lapsed(session, board_id, today)
        people = sorted(
            staff_lists.changed_people(session, board_id, last_applied, staff_list_id) | lapsed
        )
    rows = employments.listed(session, board_id, staff_list_id, people)
    known = employments.board_employments(session, board_id, people)
    current = employments.as_current(known)
    diff = diff_board(employments.as_desired(rows), current, today)
    preview = preview_counts(diff, len(current) if current_total is None else current_total)
    return _Plan(rows, known, diff, preview, everyone=people is None and not known)


def _hold(
    session: Session,
    board: BoardToApply,
    latest: PendingList,
    plan: _Plan,
    reason: Text,
    now: dt.datetime,
    actor: str,
) -> BoardResult:
    """Hold the list for an operator: it would end too many employments."""
    counts = plan.preview.counts
    list_status.hold(
        session,
        latest.id,
        {**latest.report, **stored_reason(reason), "hold": HoldReason.REMOVALS},
    )
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
    # The older pending lists stay pending: they are not overtaken by a list that may yet
    # be rejected (the caller applies the newest of them next).
    return BoardResult(board.number, latest.id, StaffListStatus.HELD, counts, reason.render("en"))


def _apply(
    session: Session,
    board: BoardToApply,
    pending: Sequence[PendingList],
    plan: _Plan,
    *,
    now: dt.datetime,
    today: dt.date,
    actor: str,
) -> BoardResult:
    latest, older = pending[-1], [staff_list.id for staff_list in pending[:-1]]
    closed = _write_employments(session, board.id, latest.id, plan, now, today)
    employments.update_names(session, plan.rows)
    list_status.decide(session, [latest.id], StaffListStatus.APPLIED, now, actor)
    # Older pending lists are overtaken by the newest, visibly.
    _supersede(session, board, pending[:-1], latest.id, now, actor)
    closed += _settle_cases(session, board.id, latest.id, plan.diff, now)
    started = [row.person for row in plan.diff.start]
    changes = sync_people(
        session, started + [e.person for e in plan.diff.end], now, employed=started
    )
    audit.record(
        session,
        at=now,
        actor=actor,
        action="staff_list.applied",
        entity="staff_list",
        entity_id=latest.id,
        board_id=board.id,
        **plan.preview.counts,
        **changes.as_dict(),
        cases_closed=closed,
        superseded=older,
    )
    return BoardResult(
        board.number,
        latest.id,
        StaffListStatus.APPLIED,
        plan.preview.counts,
        changes=changes,
        superseded=older,
        superseded_by=latest.id,
    )


def _write_employments(
    session: Session,
    board_id: int,
    staff_list_id: int,
    plan: _Plan,
    now: dt.datetime,
    today: dt.date,
) -> int:
    """End, change, restart and start the board's employments; returns the cases closed."""
    diff = plan.diff
    ended_rows = {e.person_id: e.id for e in plan.employments if e.ended_at is not None}
    closed = end_employments(session, {e.employment_id: staff_list_id for e in diff.end}, now)
    employments.update_terms(
        session, staff_list_id, [(e.employment_id, row.terms) for e, row in diff.update]
    )
    employments.restart_employments(
        session,
        staff_list_id,
        now,
        [(ended_rows[row.person], row.terms) for row in diff.start if row.person in ended_rows],
    )
    fresh = [row.person for row in diff.start if row.person not in ended_rows]
    if fresh:
        # On a board's first list everyone whose row has not ended starts: no need to send
        # who (a first load is all boards).
        employments.start_employments(
            session,
            board_id,
            staff_list_id,
            now=now,
            today=today,
            people=None if plan.everyone else fresh,
        )
    return closed


def log_result(result: BoardResult) -> None:
    """The log lines of a board's apply, once it is committed (a dry run logs none)."""
    for staff_list in result.superseded:
        log.warning(
            "staff_list.superseded",
            board=result.board,
            staff_list=staff_list,
            by=result.superseded_by,
        )
    if result.outcome == StaffListStatus.HELD:
        log.warning(
            "staff_list.held", board=result.board, staff_list=result.staff_list, **result.counts
        )
    elif result.outcome == StaffListStatus.APPLIED:
        log.info(
            "staff_list.applied", board=result.board, staff_list=result.staff_list, **result.counts
        )


def _settle_cases(
    session: Session, board_id: int, staff_list_id: int, diff: BoardDiff[int], now: dt.datetime
) -> int:
    """Close the board's open cases the applied list settles; returns how many."""
    # The list's VOG date of each person with an open case at the board who stays.
    people = cases.people_with_open_cases(session, board_id)
    if not people:
        return 0  # the board has no open case: there is nothing for the list to settle
    listed = employments.vog_dates(session, board_id, staff_list_id, people)
    for employment in diff.end:
        listed.pop(employment.person, None)
    return close_by_staff_list(
        session, board_id=board_id, staff_list_id=staff_list_id, listed=listed, now=now
    )


def _supersede(
    session: Session,
    board: BoardToApply,
    staff_lists: Sequence[PendingList],
    by: int,
    now: dt.datetime,
    actor: str,
) -> None:
    """Mark lists that were never applied as overtaken by list ``by``, in the audit too."""
    list_status.decide(
        session,
        [staff_list.id for staff_list in staff_lists],
        StaffListStatus.SUPERSEDED,
        now,
        actor,
    )
    for staff_list in staff_lists:
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


def end_employments(session: Session, ended: dict[int, int], now: dt.datetime) -> int:
    """End employments, each by a staff list (employment id → list id), and close their
    open cases: the one way an employment ends, whether a list dropped the person or the
    datum_uit_dienst a list gave has passed. Returns the number of cases closed."""
    if not ended:
        return 0
    employments.end_employments(session, list(ended), now)
    return close_for_ended_employments(session, ended, now)


def end_lapsed_employments(
    session: Session, *, now: dt.datetime, today: dt.date, actor: str
) -> tuple[int, SubscriptionChanges]:
    """End employments whose datum_uit_dienst has passed since their list was applied."""
    lapsed = employments.lapsed_employments(session, today)
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
