"""The overview an operator and a monitoring system read: ``vogscreen status``.

Per board: staff, subscriptions, pending authority operations, open cases and the last
run. Overall: subscriptions, cases, unrouted hits, notifications, and ``healthy``: no run
failed in the last day and nothing waits in an outbox past its retry window.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from vogscreen.domain.statuses import (
    NotificationStatus,
    OutboxStatus,
    SubscriptionStatus,
)
from vogscreen.runtime.bootstrap import App
from vogscreen.store import overview

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# An outbox row still pending after this long is stuck: its retries (1, 2, 4 … 60 minutes
# apart) should have got it through long before.
RETRY_WINDOW = dt.timedelta(hours=24)


def _boards(session: Session) -> list[dict[str, Any]]:
    staff_lists = overview.latest_staff_lists(session)
    employed = overview.current_employments(session)
    subscribed = overview.active_subscriptions(session)
    pending_ops = overview.pending_operations(session)
    open_cases = overview.open_cases_per_board(session)
    last_runs = overview.last_runs(session)
    boards = []
    for board in overview.boards(session):
        staff_list = staff_lists.get(board.id)
        run = last_runs.get(board.number)
        boards.append(
            {
                "number": board.number,
                "name": board.name,
                "staff": staff_list.row_count if staff_list else 0,
                "employments": employed.get(board.id, 0),
                "subscriptions": subscribed.get(board.id, 0),
                "pending_operations": pending_ops.get(board.id, 0),
                "open_cases": open_cases.get(board.id, 0),
                "staff_list": None if staff_list is None else _staff_list(staff_list),
                "last_run": None if run is None else _run(run),
            }
        )
    return boards


def _staff_list(staff_list: Any) -> dict[str, Any]:
    return {
        "id": staff_list.id,
        "status": staff_list.status,
        "received_at": staff_list.received_at.isoformat(),
    }


def _run(run: Any) -> dict[str, Any]:
    return {
        "id": run.id,
        "job": run.job,
        "outcome": run.outcome,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def _problems(
    failed_runs: int, stuck_operations: int, stuck_notifications: int, undelivered: int
) -> list[str]:
    return [
        text
        for count, text in (
            (failed_runs, f"{failed_runs} run(s) failed or were abandoned in the last day"),
            (stuck_operations, f"{stuck_operations} authority operation(s) stuck over 24 hours"),
            (stuck_notifications, f"{stuck_notifications} notification(s) stuck over 24 hours"),
            (
                undelivered,
                f"{undelivered} notification(s) of open cases could not be delivered: "
                "tell the board another way, then resolve the case",
            ),
        )
        if count
    ]


def status(app: App) -> dict[str, Any]:
    now = app.now()
    with app.sessions() as session:
        boards = _boards(session)
        subscriptions = overview.subscriptions_by_status(session)
        operations = overview.unfinished_operations(session)
        open_cases = overview.open_cases(session)
        overdue = overview.overdue_cases(session, app.today())
        unrouted = overview.unrouted_hits(session)
        notifications = overview.notifications_by_status(session)
        failed_runs = overview.failed_runs_since(session, now - dt.timedelta(days=1))
        stuck_operations = overview.stuck_operations(session, now - RETRY_WINDOW)
        stuck_notifications = overview.stuck_notifications(session, now - RETRY_WINDOW)
        # A message that failed for good (no recipients, refused by the server, a value no
        # header may carry): HR has not heard of the case, until someone deals with it.
        undelivered = overview.undelivered_notifications(session)
    problems = _problems(failed_runs, stuck_operations, stuck_notifications, undelivered)
    return {
        "healthy": not problems,
        "problems": problems,
        "boards": boards,
        "subscriptions": {
            "active": subscriptions.get(SubscriptionStatus.ACTIVE, 0),
            "pending": subscriptions.get(SubscriptionStatus.PENDING, 0),
            "failed": subscriptions.get(SubscriptionStatus.FAILED, 0),
            "ending": subscriptions.get(SubscriptionStatus.ENDING, 0),
        },
        "authority_outbox": {
            "pending": operations.get(OutboxStatus.PENDING, 0),
            "rejected": operations.get(OutboxStatus.REJECTED, 0),
        },
        "cases": {"open": open_cases, "overdue": overdue},
        "hits": {"unrouted": unrouted},
        "notifications": {
            "pending": notifications.get(NotificationStatus.PENDING, 0),
            "failed": notifications.get(NotificationStatus.FAILED, 0),
            "sent": notifications.get(NotificationStatus.SENT, 0),
        },
    }
