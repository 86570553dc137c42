"""The overview an operator and a monitoring system read: ``vogscreen status``.

Per board: staff, subscriptions, pending authority operations, open cases and the last
run. Overall: subscriptions, cases, unrouted hits, notifications, and ``healthy``: no run
failed in the last day and nothing waits in an outbox past its retry window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import LIVE_LIST_STATUSES as LIVE_STATUSES
from vogscreen.domain.statuses import SubscriptionStatus
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import (
    AuthorityOperation,
    Board,
    Case,
    Employment,
    Hit,
    JobRun,
    Notification,
    StaffList,
    Subscription,
)

# An outbox row still pending after this long is stuck: its retries (1, 2, 4 … 60 minutes
# apart) should have got it through long before.
RETRY_WINDOW = dt.timedelta(hours=24)


def _counts(session: Session, query: Any) -> dict[Any, int]:
    return {key: int(count) for key, count in session.execute(query).all()}


def _stuck(
    session: Session, outbox: type[AuthorityOperation] | type[Notification], now: dt.datetime
) -> int:
    """Rows of an outbox still pending after the retry window."""
    query = select(func.count()).where(
        outbox.status == "pending", outbox.created_at < now - RETRY_WINDOW
    )
    return int(session.scalar(query) or 0)


def _boards(session: Session) -> list[dict[str, Any]]:
    latest = (
        select(StaffList.board_id, func.max(StaffList.id).label("id"))
        .where(StaffList.status.in_(LIVE_STATUSES))
        .group_by(StaffList.board_id)
        .subquery()
    )
    staff_lists = {
        row.board_id: row
        for row in session.execute(
            select(
                StaffList.board_id,
                StaffList.id,
                StaffList.status,
                StaffList.row_count,
                StaffList.received_at,
            ).join(latest, latest.c.id == StaffList.id)
        )
    }
    current = Employment.ended_at.is_(None)
    employed = _counts(
        session,
        select(Employment.board_id, func.count()).where(current).group_by(Employment.board_id),
    )
    subscribed = _counts(
        session,
        select(Employment.board_id, func.count())
        .join(Subscription, Subscription.person_id == Employment.person_id)
        .where(current, Subscription.status == SubscriptionStatus.ACTIVE)
        .group_by(Employment.board_id),
    )
    pending_ops = _counts(
        session,
        select(Employment.board_id, func.count(func.distinct(AuthorityOperation.id)))
        .join(AuthorityOperation, AuthorityOperation.person_id == Employment.person_id)
        .where(AuthorityOperation.status == "pending")
        .group_by(Employment.board_id),
    )
    open_cases = _counts(
        session,
        select(Case.board_id, func.count()).where(Case.status == "open").group_by(Case.board_id),
    )
    last_ids = select(func.max(JobRun.id)).group_by(JobRun.board_key)
    last_runs = {
        run.board_key: run for run in session.scalars(select(JobRun).where(JobRun.id.in_(last_ids)))
    }
    boards = []
    for board in session.scalars(select(Board).order_by(Board.number)):
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
                "staff_list": None
                if staff_list is None
                else {
                    "id": staff_list.id,
                    "status": staff_list.status,
                    "received_at": staff_list.received_at.isoformat(),
                },
                "last_run": None
                if run is None
                else {
                    "id": run.id,
                    "job": run.job,
                    "outcome": run.outcome,
                    "started_at": run.started_at.isoformat(),
                    "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                },
            }
        )
    return boards


def status(app: App) -> dict[str, Any]:
    now = app.now()
    with app.sessions() as session:
        boards = _boards(session)
        subscriptions = _counts(
            session, select(Subscription.status, func.count()).group_by(Subscription.status)
        )
        operations = _counts(
            session,
            select(AuthorityOperation.status, func.count())
            .where(AuthorityOperation.status.in_(("pending", "rejected")))
            .group_by(AuthorityOperation.status),
        )
        open_cases = session.scalar(select(func.count()).where(Case.status == "open")) or 0
        overdue = (
            session.scalar(
                select(func.count()).where(Case.status == "open", Case.deadline < app.today())
            )
            or 0
        )
        unrouted = session.scalar(select(func.count()).where(Hit.routed.is_(False))) or 0
        notifications = _counts(
            session, select(Notification.status, func.count()).group_by(Notification.status)
        )
        failed_runs = (
            session.scalar(
                select(func.count()).where(
                    JobRun.outcome.in_(("failed", "abandoned")),
                    JobRun.started_at >= now - dt.timedelta(days=1),
                )
            )
            or 0
        )
        stuck_operations = _stuck(session, AuthorityOperation, now)
        stuck_notifications = _stuck(session, Notification, now)
        # A message that failed for good (no recipients, refused by the server, a value no
        # header may carry): HR has not heard of the case, until someone deals with it.
        undelivered = (
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .join(Case, Case.id == Notification.case_id)
                .where(Notification.status == "failed", Case.status == "open")
            )
            or 0
        )
    problems = [
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
            "pending": operations.get("pending", 0),
            "rejected": operations.get("rejected", 0),
        },
        "cases": {"open": open_cases, "overdue": overdue},
        "hits": {"unrouted": unrouted},
        "notifications": {
            "pending": notifications.get("pending", 0),
            "failed": notifications.get("failed", 0),
            "sent": notifications.get("sent", 0),
        },
    }
