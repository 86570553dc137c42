"""The counts behind ``vogscreen status``: per board, and over everything.

Each function is one query; :mod:`vogscreen.pipeline.status` puts them together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import (
    LIVE_LIST_STATUSES,
    CaseStatus,
    NotificationStatus,
    OutboxStatus,
    RunOutcome,
    SubscriptionStatus,
)
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

_CURRENT = Employment.ended_at.is_(None)


def _counts(session: Session, query: Any) -> dict[Any, int]:
    return {key: int(count) for key, count in session.execute(query).all()}


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)


# -- per board ---------------------------------------------------------------------------


def boards(session: Session) -> list[Row[Any]]:
    """Every board (``id``, ``number``, ``name``), by number."""
    return list(session.execute(select(Board.id, Board.number, Board.name).order_by(Board.number)))


def latest_staff_lists(session: Session) -> dict[int, Any]:
    """Each board's newest list that still counts (``id``, ``status``, ``row_count``,
    ``received_at``), by board id."""
    latest = (
        select(StaffList.board_id, func.max(StaffList.id).label("id"))
        .where(StaffList.status.in_(LIVE_LIST_STATUSES))
        .group_by(StaffList.board_id)
        .subquery()
    )
    query = select(
        StaffList.board_id,
        StaffList.id,
        StaffList.status,
        StaffList.row_count,
        StaffList.received_at,
    ).join(latest, latest.c.id == StaffList.id)
    return {row.board_id: row for row in session.execute(query)}


def current_employments(session: Session) -> dict[int, int]:
    """How many current employments each board has, by board id."""
    query = select(Employment.board_id, func.count()).where(_CURRENT).group_by(Employment.board_id)
    return _counts(session, query)


def active_subscriptions(session: Session) -> dict[int, int]:
    """How many of each board's current employees have an active subscription."""
    query = (
        select(Employment.board_id, func.count())
        .join(Subscription, Subscription.person_id == Employment.person_id)
        .where(_CURRENT, Subscription.status == SubscriptionStatus.ACTIVE)
        .group_by(Employment.board_id)
    )
    return _counts(session, query)


def pending_operations(session: Session) -> dict[int, int]:
    """Pending authority operations of each board's people (ever employed there)."""
    query = (
        select(Employment.board_id, func.count(func.distinct(AuthorityOperation.id)))
        .join(AuthorityOperation, AuthorityOperation.person_id == Employment.person_id)
        .where(AuthorityOperation.status == OutboxStatus.PENDING)
        .group_by(Employment.board_id)
    )
    return _counts(session, query)


def open_cases_per_board(session: Session) -> dict[int, int]:
    query = (
        select(Case.board_id, func.count())
        .where(Case.status == CaseStatus.OPEN)
        .group_by(Case.board_id)
    )
    return _counts(session, query)


def last_runs(session: Session) -> dict[str, Any]:
    """The newest run of each board key (``id``, ``job``, ``outcome``, ``started_at``,
    ``finished_at``), by board key (a board's number, or ``*``)."""
    last_ids = select(func.max(JobRun.id)).group_by(JobRun.board_key)
    query = select(
        JobRun.board_key,
        JobRun.id,
        JobRun.job,
        JobRun.outcome,
        JobRun.started_at,
        JobRun.finished_at,
    ).where(JobRun.id.in_(last_ids))
    return {run.board_key: run for run in session.execute(query)}


# -- over everything ---------------------------------------------------------------------


def subscriptions_by_status(session: Session) -> dict[str, int]:
    query = select(Subscription.status, func.count()).group_by(Subscription.status)
    return _counts(session, query)


def unfinished_operations(session: Session) -> dict[str, int]:
    """Authority operations pending or rejected, by status."""
    query = (
        select(AuthorityOperation.status, func.count())
        .where(AuthorityOperation.status.in_((OutboxStatus.PENDING, OutboxStatus.REJECTED)))
        .group_by(AuthorityOperation.status)
    )
    return _counts(session, query)


def open_cases(session: Session) -> int:
    return _count(session, select(func.count()).where(Case.status == CaseStatus.OPEN))


def overdue_cases(session: Session, today: dt.date) -> int:
    query = select(func.count()).where(Case.status == CaseStatus.OPEN, Case.deadline < today)
    return _count(session, query)


def unrouted_hits(session: Session) -> int:
    return _count(session, select(func.count()).where(Hit.routed.is_(False)))


def notifications_by_status(session: Session) -> dict[str, int]:
    query = select(Notification.status, func.count()).group_by(Notification.status)
    return _counts(session, query)


def failed_runs_since(session: Session, since: dt.datetime) -> int:
    """Runs started since then that failed or were abandoned."""
    query = select(func.count()).where(
        JobRun.outcome.in_((RunOutcome.FAILED, RunOutcome.ABANDONED)),
        JobRun.started_at >= since,
    )
    return _count(session, query)


def stuck_operations(session: Session, created_before: dt.datetime) -> int:
    """Authority operations still pending that were queued before then."""
    query = select(func.count()).where(
        AuthorityOperation.status == OutboxStatus.PENDING,
        AuthorityOperation.created_at < created_before,
    )
    return _count(session, query)


def stuck_notifications(session: Session, created_before: dt.datetime) -> int:
    """Notifications still pending that were queued before then."""
    query = select(func.count()).where(
        Notification.status == NotificationStatus.PENDING,
        Notification.created_at < created_before,
    )
    return _count(session, query)


def undelivered_notifications(session: Session) -> int:
    """Notifications of open cases that failed for good."""
    query = (
        select(func.count())
        .select_from(Notification)
        .join(Case, Case.id == Notification.case_id)
        .where(Notification.status == NotificationStatus.FAILED, Case.status == CaseStatus.OPEN)
    )
    return _count(session, query)
