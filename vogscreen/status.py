"""The overview an operator and a monitoring system read: ``vogscreen status``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vogscreen.bootstrap import App
from vogscreen.intake.service import LIVE_STATUSES
from vogscreen.models import (
    AuthorityOperation,
    Board,
    Case,
    Employment,
    Hit,
    Notification,
    StaffList,
    Subscription,
)
from vogscreen.plan import ACTIVE, ENDING, FAILED, PENDING


def status(app: App) -> dict[str, Any]:
    with app.sessions() as session:
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
        employed = dict(
            session.execute(
                select(Employment.board_id, func.count())
                .where(Employment.ended_at.is_(None))
                .group_by(Employment.board_id)
            ).all()
        )
        boards = []
        for board in session.scalars(select(Board).order_by(Board.number)):
            staff_list = staff_lists.get(board.id)
            boards.append(
                {
                    "number": board.number,
                    "name": board.name,
                    "staff": staff_list.row_count if staff_list else 0,
                    "employments": employed.get(board.id, 0),
                    "staff_list": None
                    if staff_list is None
                    else {
                        "id": staff_list.id,
                        "status": staff_list.status,
                        "received_at": staff_list.received_at.isoformat(),
                    },
                }
            )
        by_status = dict(
            session.execute(
                select(Subscription.status, func.count()).group_by(Subscription.status)
            ).all()
        )
        queued = dict(
            session.execute(
                select(AuthorityOperation.status, func.count())
                .where(AuthorityOperation.status.in_(("pending", "rejected")))
                .group_by(AuthorityOperation.status)
            ).all()
        )
        today = app.today()
        open_cases = int(session.scalar(select(func.count()).where(Case.status == "open")) or 0)
        overdue = int(
            session.scalar(select(func.count()).where(Case.status == "open", Case.deadline < today))
            or 0
        )
        unrouted = int(session.scalar(select(func.count()).where(Hit.routed.is_(False))) or 0)
        notifications = dict(
            session.execute(
                select(Notification.status, func.count()).group_by(Notification.status)
            ).all()
        )
    return {
        "boards": boards,
        "cases": {"open": open_cases, "overdue": overdue},
        "hits": {"unrouted": unrouted},
        "notifications": {
            "pending": notifications.get("pending", 0),
            "failed": notifications.get("failed", 0),
            "sent": notifications.get("sent", 0),
        },
        "subscriptions": {
            "active": by_status.get(ACTIVE, 0),
            "pending": by_status.get(PENDING, 0),
            "failed": by_status.get(FAILED, 0),
            "ending": by_status.get(ENDING, 0),
        },
        "authority_outbox": {
            "pending": queued.get("pending", 0),
            "rejected": queued.get("rejected", 0),
        },
    }
