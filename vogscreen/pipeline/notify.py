"""Draining the notification outbox: one email per (case, kind) to the board's HR.

Many messages share one SMTP connection. What the next hundred messages say is read in
one query, without locks; then each message is locked (on PostgreSQL with SKIP LOCKED, so
workers share the queue and never send one twice), sent and marked in a transaction of its
own, and marked sent only after the server accepted it: a crash between the two sends that
one message again (with the same Message-ID, so it can be recognised), never loses it.
Temporary failures (connection refused, 4xx) wait and are tried again by a later run with
growing intervals; permanent ones (5xx, every recipient refused) are recorded as failed and
shown to the operator. Only the board's allowlisted recipients ever receive a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import BindParameter, Connection, Row, Select, bindparam, func, or_, select, update

from vogscreen.domain.errors import InvalidInput
from vogscreen.domain.retry import backoff
from vogscreen.mail.delivery import DeliveryError, Letter, Mailer, default_templates, make_mailer
from vogscreen.pipeline.staff import display_name
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Board, Case, Employment, Hit, Notification, Person, table

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


def _due(now: dt.datetime | BindParameter[dt.datetime]) -> tuple[Any, ...]:
    return (
        Notification.status == "pending",
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
    )


def count_due(app: App) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).where(*_due(app.now()))) or 0)


# The lock by primary key repeats the due check, so a candidate read before another worker
# sent or put it off is skipped.
BATCH = 100
_CANDIDATES = (
    select(
        Notification.id,
        Notification.kind,
        Notification.message_id,
        Case.reference,
        Case.deadline,
        Case.opened_at,
        Board.name.label("board_name"),
        Board.recipients,
        Employment.personeelsnummer,
        Person.surname,
        Person.prefix,
        Person.initials,
        Person.first_names,
    )
    .join(Case, Case.id == Notification.case_id)
    .join(Board, Board.id == Case.board_id)
    .join(Hit, Hit.id == Case.hit_id)
    .outerjoin(Employment, Employment.id == Case.employment_id)
    .outerjoin(Person, Person.id == Hit.person_id)
    .where(Notification.id > bindparam("after"), *_due(bindparam("now")))
    .order_by(Notification.id)
    .limit(BATCH)
)
_LOCK = select(Notification.attempts).where(
    Notification.id == bindparam("notification_id"), *_due(bindparam("now"))
)
_MARK = update(table(Notification)).where(table(Notification).c.id == bindparam("notification_id"))


def _letter(candidate: Row[Any]) -> Letter:
    name = (
        display_name(candidate.surname, candidate.prefix, candidate.initials, candidate.first_names)
        if candidate.surname is not None
        else "(onbekend)"
    )
    return Letter(
        kind=candidate.kind,
        board_name=candidate.board_name,
        person_name=name,
        personeelsnummer=candidate.personeelsnummer,
        reference=candidate.reference,
        deadline=candidate.deadline,
        opened=candidate.opened_at.date(),
    )


def notify(
    app: App,
    mailer: Mailer | None = None,
    *,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> NotifySummary:
    mailer = mailer or make_mailer(app.settings)
    summary = NotifySummary(destination=mailer.describe())
    lock = _LOCK
    if app.engine.dialect.name == "postgresql":
        lock = lock.with_for_update(skip_locked=True)
    after = 0
    with mailer:
        while summary.stopped is None:
            with app.engine.connect() as connection:
                batch = connection.execute(_CANDIDATES, {"after": after, "now": app.now()}).all()
            if not batch:
                break
            for candidate in batch:
                if summary.stopped is not None or (
                    limit is not None and summary.sent + summary.failed >= limit
                ):
                    break
                after = candidate.id
                if _deliver(app, mailer, lock, candidate, summary) and progress is not None:
                    progress(1)
            if limit is not None and summary.sent + summary.failed >= limit:
                break
    if summary.sent or summary.failed or summary.deferred:
        log.info("notifications.sent", **summary.as_dict())
    return summary


def _deliver(
    app: App, mailer: Mailer, lock: Select[int], candidate: Row[Any], summary: NotifySummary
) -> bool:
    """Send one message in a transaction of its own; True when the server accepted it.

    The row lock (on PostgreSQL) keeps other workers off the message while it is sent, and
    the mark is committed only after the server accepted it.
    """
    now = app.now()
    with app.engine.begin() as connection:
        attempts = connection.scalar(lock, {"notification_id": candidate.id, "now": now})
        if attempts is None:  # sent, failed or put off meanwhile, or another worker has it
            return False
        if not candidate.recipients:
            _fail(connection, candidate, attempts, "the board has no HR recipients", summary)
            return False
        try:
            message = default_templates().compose(
                _letter(candidate),
                sender=app.settings.mail_from,
                recipients=list(candidate.recipients),
                message_id=candidate.message_id,
                reply_to=app.settings.mail_reply_to,
                now=now,
            )
        except InvalidInput as exc:
            # A value no header may carry (stored before cells were checked): this one
            # message fails, visibly in `status`, and the others still go.
            _fail(connection, candidate, attempts + 1, f"cannot be composed: {exc}", summary)
            return False
        attempts += 1
        try:
            refused = mailer.send(message)
        except DeliveryError as exc:
            if exc.permanent:
                _fail(connection, candidate, attempts, str(exc), summary)
                return False
            _mark(
                connection,
                candidate,
                attempts=attempts,
                next_attempt_at=now + backoff(attempts),
                error=str(exc),
            )
            summary.deferred += 1
            if exc.unreachable:
                summary.stopped = str(exc)
            return False
        _mark(
            connection,
            candidate,
            attempts=attempts,
            status="sent",
            sent_at=now,
            error=f"refused recipients: {', '.join(refused)}" if refused else None,
        )
        summary.sent += 1
    return True


def _mark(connection: Connection, candidate: Row[Any], **values: Any) -> None:
    connection.execute(_MARK, {"notification_id": candidate.id, **values})


def _fail(
    connection: Connection,
    candidate: Row[Any],
    attempts: int,
    error: str,
    summary: NotifySummary,
) -> None:
    _mark(connection, candidate, attempts=attempts, status="failed", error=error, sent_at=None)
    summary.failed += 1
    summary.failures.append((candidate.message_id, error))
    log.warning("notification.failed", notification=candidate.id, error=error)
