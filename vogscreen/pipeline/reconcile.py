"""``vogscreen reconcile``: apply pending staff lists, then drain the authority outbox.

After a reconcile (and with the authority reachable), everyone with at least one current
employment anywhere has exactly one active subscription, and everyone with none has none.

:func:`run` is the one orchestration: the CLI, ``staff confirm`` and the scheduled job call
it. Its stages, in order, each optional:

1. the lists: each board's newest pending list applied (or held), one transaction per
   board (:func:`apply_lists`);
2. the wrap-up: employments whose datum_uit_dienst has passed are ended and any drift
   between employments and subscriptions is healed, in one transaction (:func:`wrap_up`);
3. after a large apply, the planner's statistics are refreshed (PostgreSQL);
4. the outbox is drained (:func:`vogscreen.pipeline.authority_sync.drain`).

The scheduled job runs stage 1 per board, in that board's run, and stages 2-4 once, in
the run for all boards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from vogscreen.domain.errors import NotFound, StateConflict
from vogscreen.domain.language import msg
from vogscreen.domain.retry import RetryPolicy, default_retry_policy
from vogscreen.domain.statuses import StaffListStatus
from vogscreen.pipeline.apply import (
    ApplySummary,
    BoardResult,
    apply_board,
    end_lapsed_employments,
    heal,
    log_result,
)
from vogscreen.pipeline.authority_sync import DrainSummary, drain
from vogscreen.pipeline.boards import check_board_number, get_board
from vogscreen.ports.authority import ScreeningAuthority
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit, list_status, statistics
from vogscreen.store.database import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

Guard = Callable[[str], AbstractContextManager[object]]


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


def run(
    app: App,
    authority: ScreeningAuthority | None,
    *,
    actor: str | None = None,
    board: str | None = None,
    lists: bool = True,
    finish: bool = True,
    dry_run: bool = False,
    retry: RetryPolicy = default_retry_policy,
    progress: Callable[[int], None] | None = None,
    guard: Guard | None = None,
) -> ReconcileSummary:
    """Reconcile: apply the pending lists (of ``board`` only, when given), end the lapsed
    employments and heal drift, then drain the outbox to ``authority`` (None: leave it
    queued). A dry run does all but the drain and rolls it back.

    ``actor`` is who the audit names (the settings' actor by default); ``lists=False``
    skips the lists, ``finish=False`` the lapsed employments and the healing; ``guard``
    wraps each board's apply, e.g. in that board's lease.
    """
    summary = ReconcileSummary(dry_run=dry_run)
    summary.apply = apply_pending(
        app, actor=actor, board=board, lists=lists, finish=finish, dry_run=dry_run, guard=guard
    )
    if dry_run:
        log.info("reconcile.planned", **summary.apply.subscriptions.as_dict())
        return summary
    queued = summary.apply.subscriptions.subscribe + summary.apply.subscriptions.unsubscribe
    if queued >= _ANALYZE_AFTER:
        refresh_statistics(app)
    if authority is not None:
        summary.drain = drain(app, authority, retry=retry, progress=progress)
    log.info("reconcile.done", **summary.as_dict()["authority"], lapsed=summary.apply.lapsed)
    return summary


def apply_pending(
    app: App,
    *,
    actor: str | None = None,
    board: str | None = None,
    lists: bool = True,
    finish: bool = True,
    dry_run: bool = False,
    guard: Guard | None = None,
) -> ApplySummary:
    """Stages 1 and 2 of :func:`run`: the lists, then the wrap-up. A dry run does both in
    one transaction and rolls it back; otherwise each board commits on its own, and the
    wrap-up after them."""
    summary = ApplySummary()
    now, today, actor = app.now(), app.today(), actor or app.settings.actor
    boards = _boards_to_apply(app, board) if lists else []
    if dry_run:
        try:
            with transaction(app.sessions) as session:
                for board_id, _ in boards:
                    _apply_one(session, board_id, summary, now, today, actor)
                if finish:
                    wrap_up(session, summary, now, today, actor)
                raise _DryRunRollback
        except _DryRunRollback:
            pass
        return summary
    apply_lists(app, boards, summary, now, today, actor, guard or _unguarded)
    if finish:
        with transaction(app.sessions) as session:
            wrap_up(session, summary, now, today, actor)
    return summary


def _boards_to_apply(app: App, board: str | None) -> list[tuple[int, str]]:
    """The boards with a pending list (id, number); an unknown board is an error."""
    number = check_board_number(board) if board is not None else None
    with app.sessions() as session:
        if number is not None:
            get_board(session, number)  # an unknown board is an error, not "nothing to do"
        return [(b.id, b.number) for b in list_status.boards_with_pending_lists(session, number)]


def apply_lists(
    app: App,
    boards: Sequence[tuple[int, str]],
    summary: ApplySummary,
    now: dt.datetime,
    today: dt.date,
    actor: str,
    guard: Guard,
) -> None:
    """Each board's newest pending list, in its own transaction (inside ``guard``): one
    board's trouble never undoes another's."""
    for board_id, board_number in boards:
        with guard(board_number):
            with transaction(app.sessions) as session:
                results = _apply_one(session, board_id, summary, now, today, actor)
            for result in results:
                log_result(result)


def _apply_one(
    session: Session,
    board_id: int,
    summary: ApplySummary,
    now: dt.datetime,
    today: dt.date,
    actor: str,
) -> list[BoardResult]:
    board = list_status.board_to_apply(session, board_id)
    results = []
    # A held list leaves the older pending lists pending: the newest of them is next.
    while (result := apply_board(session, board, now=now, today=today, actor=actor)) is not None:
        results.append(result)
        summary.boards.append(result)
        summary.subscriptions.add(result.changes)
        if result.outcome != StaffListStatus.HELD:
            break
    return results


def wrap_up(
    session: Session, summary: ApplySummary, now: dt.datetime, today: dt.date, actor: str
) -> None:
    """End the employments whose datum_uit_dienst has passed, and heal any drift."""
    summary.lapsed, lapsed_changes = end_lapsed_employments(
        session, now=now, today=today, actor=actor
    )
    summary.subscriptions.add(lapsed_changes)
    summary.subscriptions.add(heal(session, now=now))


# A PostgreSQL table filled moments ago has no statistics until autovacuum comes by; the
# drain's claims would then be planned as scans of every pending row.
_ANALYZE_AFTER = 5_000


def refresh_statistics(app: App) -> None:
    statistics.refresh_statistics(app.engine)


@dataclass(frozen=True)
class Decision:
    """A decision on a held list: the list, its board, its status now, and the newer list
    that overtook it (when confirming it marked it superseded instead)."""

    staff_list: int
    board: str
    status: StaffListStatus
    superseded_by: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.staff_list,
            "board": self.board,
            "status": self.status,
            "superseded_by": self.superseded_by,
        }


def decide(
    app: App,
    staff_list_id: int,
    *,
    confirm: bool,
    actor: str | None = None,
    reason: str | None = None,
    board_id: int | None = None,
) -> Decision:
    """Record a decision on a held list: confirmed (pending again, past the removal guard)
    or rejected (discarded). ``reason`` goes into the audit trail and onto the list.

    ``board_id`` limits it to one board's lists: another board's list is not found, as one
    that does not exist. A list older than one already applied or pending is never applied
    over it: confirming it marks it superseded instead.
    """
    now, actor = app.now(), actor or app.settings.actor
    status = StaffListStatus.PENDING if confirm else StaffListStatus.DISCARDED
    with transaction(app.sessions) as session:
        held = list_status.locked_for_decision(session, staff_list_id)
        if held is None or (board_id is not None and held.board_id != board_id):
            raise NotFound(f"there is no staff list {staff_list_id}")
        if held.status != StaffListStatus.HELD:
            raise StateConflict(
                msg(
                    "Staff list %(id)s is %(status)s, not held; only a held list can be "
                    "confirmed or rejected.",
                    id=staff_list_id,
                    status=held.status,
                )
            )
        newer = None
        if status == StaffListStatus.PENDING:
            newer = list_status.newer_live_list(session, held.board_id, held.id)
        decided = StaffListStatus.SUPERSEDED if newer is not None else status
        confirmed = decided == StaffListStatus.PENDING
        list_status.decide(session, [held.id], decided, now, actor, confirmed=confirmed)
        if reason is not None:
            list_status.note_decision(session, held.id, reason)
        board = list_status.board_number(session, held.board_id)
        details: dict[str, Any] = {"board": board, "by": newer} if newer is not None else {}
        if reason is not None:
            details["reason"] = reason
        audit.record(
            session,
            at=now,
            actor=actor,
            action="staff_list.confirmed" if confirmed else f"staff_list.{decided}",
            entity="staff_list",
            entity_id=held.id,
            board_id=held.board_id,
            **details,
        )
        return Decision(held.id, board, decided, newer)


def confirm(app: App, staff_list_id: int) -> str:
    """Release a held list past the removal guard; the caller then reconciles its board."""
    decision = decide(app, staff_list_id, confirm=True)
    if decision.superseded_by is not None:
        raise StateConflict(
            f"board {decision.board} has a newer staff list ({decision.superseded_by}); list "
            f"{staff_list_id} cannot be applied over it and is now marked superseded"
        )
    return decision.board


def reject(app: App, staff_list_id: int) -> str:
    """Discard a held list; the board's current staff stays as it is."""
    return decide(app, staff_list_id, confirm=False).board
