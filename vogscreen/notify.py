"""Draining the notification outbox: one email per (case, kind) to the board's HR.

Many messages share one SMTP connection. Each message is claimed, sent and marked in a
transaction of its own, and marked sent only after the server accepted it: a crash
between the two sends that one message again (with the same Message-ID, so it can be
recognised), never loses it. Temporary failures (connection refused, 4xx) wait and are
tried again by a later run with growing intervals; permanent ones (5xx, every recipient
refused) are recorded as failed and shown to the operator. Only the board's allowlisted
recipients ever receive a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vogscreen.bootstrap import App
from vogscreen.database import transaction
from vogscreen.mail import DeliveryError, Letter, Mailer, TemplateSet, make_mailer
from vogscreen.models import Board, Case, Employment, Hit, Notification, Person
from vogscreen.outbox import backoff
from vogscreen.staff import display_name

log = structlog.get_logger(__name__)


@dataclass
class NotifySummary:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    stopped: str | None = None
    destination: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "deferred": self.deferred,
            "stopped": self.stopped,
            "destination": self.destination,
        }


def _due(now: dt.datetime) -> tuple[Any, ...]:
    return (
        Notification.status == "pending",
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
    )


def count_due(app: App) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).where(*_due(app.now()))) or 0)


def _claim(session: Session, now: dt.datetime, after: int) -> Any:
    # The lock is taken on the notification alone, found by key in (status, id) order;
    # what the message says is read by primary key afterwards.
    query = (
        select(Notification)
        .where(Notification.id > after, *_due(now))
        .order_by(Notification.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    notification = session.scalars(query).first()
    if notification is None:
        return None
    case, board, number, person = session.execute(
        select(Case, Board, Employment.personeelsnummer, Person)
        .join(Board, Board.id == Case.board_id)
        .join(Hit, Hit.id == Case.hit_id)
        .outerjoin(Employment, Employment.id == Case.employment_id)
        .outerjoin(Person, Person.id == Hit.person_id)
        .where(Case.id == notification.case_id)
    ).one()
    return notification, case, board, number, person


def _letter(
    kind: str, case: Case, board: Board, number: str | None, person: Person | None
) -> Letter:
    name = (
        display_name(person.surname, person.prefix, person.initials, person.first_names)
        if person is not None
        else "(onbekend)"
    )
    return Letter(
        kind=kind,
        board_name=board.name,
        person_name=name,
        personeelsnummer=number,
        reference=case.reference,
        deadline=case.deadline,
        opened=case.opened_at.date(),
    )


def notify(
    app: App,
    mailer: Mailer | None = None,
    *,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> NotifySummary:
    mailer = mailer or make_mailer(app.settings)
    templates = TemplateSet()
    summary = NotifySummary(destination=mailer.describe())
    after = 0
    with mailer:
        while limit is None or summary.sent + summary.failed < limit:
            now = app.now()
            with transaction(app.sessions) as session:
                claimed = _claim(session, now, after)
                if claimed is None:
                    break
                notification, case, board, number, person = claimed
                after = notification.id
                if not board.recipients:
                    _fail(notification, "the board has no HR recipients", now, summary)
                    continue
                message = templates.compose(
                    _letter(notification.kind, case, board, number, person),
                    sender=app.settings.mail_from,
                    recipients=list(board.recipients),
                    message_id=notification.message_id,
                    reply_to=app.settings.mail_reply_to,
                    now=now,
                )
                notification.attempts += 1
                try:
                    refused = mailer.send(message)
                except DeliveryError as exc:
                    if exc.permanent:
                        _fail(notification, str(exc), now, summary)
                        continue
                    notification.next_attempt_at = now + backoff(notification.attempts)
                    notification.error = str(exc)
                    summary.deferred += 1
                    if exc.unreachable:
                        summary.stopped = str(exc)
                        break
                    continue
                notification.status = "sent"
                notification.sent_at = now
                notification.error = (
                    f"refused recipients: {', '.join(refused)}" if refused else None
                )
                summary.sent += 1
            if progress is not None:
                progress(1)
    if summary.sent or summary.failed or summary.deferred:
        log.info("notifications.sent", **summary.as_dict())
    return summary


def _fail(notification: Notification, error: str, now: dt.datetime, summary: NotifySummary) -> None:
    notification.status = "failed"
    notification.error = error
    notification.sent_at = None
    summary.failed += 1
    summary.failures.append((notification.message_id, error))
    log.warning("notification.failed", notification=notification.id, error=error)
