"""``vogscreen reconcile``: apply pending staff lists, then drain the authority outbox.

After a reconcile (and with the authority reachable), everyone with at least one current
employment anywhere has exactly one active subscription, and everyone with none has none.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vogscreen.domain.errors import NotFound, StateConflict
from vogscreen.domain.retry import RetryPolicy, default_retry_policy
from vogscreen.pipeline.apply import (
    ApplySummary,
    BoardResult,
    apply_board,
    boards_with_pending_lists,
    end_lapsed_employments,
    heal,
    log_result,
)
from vogscreen.pipeline.authority_sync import DrainSummary, drain
from vogscreen.pipeline.boards import check_board_number, get_board
from vogscreen.ports.authority import ScreeningAuthority
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store.database import transaction
from vogscreen.store.models import Board, StaffList

log = structlog.get_logger(__name__)


def _unguarded(_board: str) -> AbstractContextManager[object]:
    return nullcontext()


class _DryRunRollback(Exception):
    """Raised inside the dry run's transaction so that everything it wrote is undone."""


@dataclass
class ReconcileSummary:
    apply: ApplySummary = field(default_factory=ApplySummary)
    drain: DrainSummary = field(default_factory=DrainSummary)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "boards": [
                {
                    "board": result.board,
                    "staff_list": result.staff_list,
                    "outcome": result.outcome,
                    "counts": result.counts,
                    "reason": result.reason,
                    "superseded": result.superseded,
                    "superseded_by": result.superseded_by,
                }
                for result in self.apply.boards
            ],
            "lapsed": self.apply.lapsed,
            "subscriptions": self.apply.subscriptions.as_dict(),
            "authority": self.drain.as_dict(),
        }


def apply_pending(
    app: App,
    *,
    board: str | None = None,
    dry_run: bool = False,
    finish: bool = True,
    guard: Callable[[str], AbstractContextManager[object]] | None = None,
) -> ApplySummary:
    """Apply every board's newest pending list (one transaction per board), end lapsed
    employments and heal any drift. A dry run does all of it and rolls it back.

    ``guard`` wraps each board's apply, e.g. in that board's lease; ``finish=False`` leaves
    the lapsed employments and the healing to a later call."""
    summary = ApplySummary()
    now, today, actor = app.now(), app.today(), app.settings.actor
    number = check_board_number(board) if board is not None else None
    if number is not None:
        with app.sessions() as session:
            get_board(session, number)  # an unknown board is an error, not "nothing to do"

    def apply_one(session: Session, board_id: int) -> list[BoardResult]:
        board_row = session.get(Board, board_id)
        assert board_row is not None
        results = []
        # A held list leaves the older pending lists pending: the newest of them is next.
        while (
            result := apply_board(session, board_row, now=now, today=today, actor=actor)
        ) is not None:
            results.append(result)
            summary.boards.append(result)
            summary.subscriptions.add(result.changes)
            if result.outcome != "held":
                break
        return results

    def wrap_up(session: Session) -> None:
        if not finish:
            return
        summary.lapsed, lapsed_changes = end_lapsed_employments(
            session, now=now, today=today, actor=actor
        )
        summary.subscriptions.add(lapsed_changes)
        summary.subscriptions.add(heal(session, now=now))

    with app.sessions() as session:
        boards = [(b.id, b.number) for b in boards_with_pending_lists(session, number)]
    if dry_run:
        try:
            with transaction(app.sessions) as session:
                for board_id, _ in boards:
                    apply_one(session, board_id)
                wrap_up(session)
                raise _DryRunRollback
        except _DryRunRollback:
            pass
        return summary
    # Each board in its own transaction: one board's trouble never undoes another's.
    for board_id, board_number in boards:
        with (guard or _unguarded)(board_number):
            with transaction(app.sessions) as session:
                results = apply_one(session, board_id)
            for result in results:
                log_result(result)
    with transaction(app.sessions) as session:
        wrap_up(session)
    return summary


# A PostgreSQL table filled moments ago has no statistics until autovacuum comes by; the
# drain's claims would then be planned as scans of every pending row.
_ANALYZE_AFTER = 5_000


def refresh_statistics(app: App) -> None:
    if app.engine.dialect.name == "postgresql":
        with app.engine.begin() as connection:
            connection.execute(
                text(
                    "ANALYZE authority_outbox, subscriptions, employments, staff_list_rows, persons"
                )
            )


def reconcile(
    app: App,
    authority: ScreeningAuthority | None,
    *,
    board: str | None = None,
    dry_run: bool = False,
    retry: RetryPolicy = default_retry_policy,
    progress: Callable[[int], None] | None = None,
    guard: Callable[[str], AbstractContextManager[object]] | None = None,
) -> ReconcileSummary:
    summary = ReconcileSummary(dry_run=dry_run)
    summary.apply = apply_pending(app, board=board, dry_run=dry_run, guard=guard)
    queued = summary.apply.subscriptions.subscribe + summary.apply.subscriptions.unsubscribe
    if not dry_run and queued >= _ANALYZE_AFTER:
        refresh_statistics(app)
    if not dry_run and authority is not None:
        summary.drain = drain(app, authority, retry=retry, progress=progress)
    if dry_run:
        log.info("reconcile.planned", **summary.apply.subscriptions.as_dict())
    else:
        log.info("reconcile.done", **summary.as_dict()["authority"], lapsed=summary.apply.lapsed)
    return summary


def _held_list(session: Session, staff_list_id: int) -> StaffList:
    staff_list = session.get(StaffList, staff_list_id, with_for_update=True)
    if staff_list is None:
        raise NotFound(f"there is no staff list {staff_list_id}")
    if staff_list.status != "held":
        raise StateConflict(
            f"staff list {staff_list_id} is {staff_list.status}, not held; only a held list "
            "can be confirmed or rejected"
        )
    return staff_list


def _decide_held(app: App, staff_list_id: int, status: str) -> tuple[str, int | None]:
    """Record an operator's decision on a held list; returns its board and a newer list.

    A list older than one already applied or pending is never applied over it: confirming
    it marks it superseded instead.
    """
    with transaction(app.sessions) as session:
        staff_list = _held_list(session, staff_list_id)
        newer = None
        if status == "pending":
            newer = session.scalar(
                select(StaffList.id).where(
                    StaffList.board_id == staff_list.board_id,
                    StaffList.id > staff_list.id,
                    StaffList.status.in_(("applied", "pending")),
                )
            )
        staff_list.status = "superseded" if newer is not None else status
        staff_list.decided_at = app.now()
        staff_list.decided_by = app.settings.actor
        if staff_list.status == "pending":
            staff_list.confirmed_at = app.now()
        board = session.get(Board, staff_list.board_id)
        assert board is not None
        audit.record(
            session,
            at=app.now(),
            actor=app.settings.actor,
            action={"pending": "staff_list.confirmed"}.get(
                staff_list.status, f"staff_list.{staff_list.status}"
            ),
            entity="staff_list",
            entity_id=staff_list.id,
            board_id=board.id,
            **({"board": board.number, "by": newer} if newer is not None else {}),
        )
        return board.number, newer


def confirm(app: App, staff_list_id: int) -> str:
    """Release a held list past the removal guard; the caller then reconciles its board."""
    board, newer = _decide_held(app, staff_list_id, "pending")
    if newer is not None:
        raise StateConflict(
            f"board {board} has a newer staff list ({newer}); list {staff_list_id} cannot be "
            "applied over it and is now marked superseded"
        )
    return board


def reject(app: App, staff_list_id: int) -> str:
    """Discard a held list; the board's current staff stays as it is."""
    return _decide_held(app, staff_list_id, "discarded")[0]
