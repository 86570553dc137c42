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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from vogscreen.domain.errors import DeliveryError, InvalidInput
from vogscreen.domain.retry import backoff
from vogscreen.domain.statuses import NotificationKind
from vogscreen.mail.board_letters import BoardLetter, compose_board_letter
from vogscreen.mail.compose import Letter, OutgoingMessage, default_templates
from vogscreen.pipeline.letters import portal_link
from vogscreen.pipeline.staff import display_name
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.mailer import make_mailer
from vogscreen.store import notifications

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Connection, Row

    from vogscreen.mail.delivery import Mailer

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


def count_due(app: App) -> int:
    with app.sessions() as session:
        return notifications.count_due(session, app.now())


def _person_name(candidate: Row[Any]) -> str | None:
    if candidate.surname is None:  # purged
        return None
    return display_name(
        candidate.surname, candidate.prefix, candidate.initials, candidate.first_names
    )


def _letter(candidate: Row[Any]) -> Letter:
    name = _person_name(candidate) or "(onbekend)"
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
    after = 0
    with mailer:
        while summary.stopped is None:
            with app.engine.connect() as connection:
                batch = notifications.candidates(connection, after=after, now=app.now())
            if not batch:
                break
            for candidate in batch:
                if summary.stopped is not None or (
                    limit is not None and summary.sent + summary.failed >= limit
                ):
                    break
                after = candidate.id
                if _deliver(app, mailer, candidate, summary) and progress is not None:
                    progress(1)
            if limit is not None and summary.sent + summary.failed >= limit:
                break
    if summary.sent or summary.failed or summary.deferred:
        log.info("notifications.sent", **summary.as_dict())
    return summary


def _deliver(app: App, mailer: Mailer, candidate: Row[Any], summary: NotifySummary) -> bool:
    """Send one message in a transaction of its own; True when the server accepted it.

    The row lock (on PostgreSQL) keeps other workers off the message while it is sent, and
    the mark is committed only after the server accepted it.
    """
    now = app.now()
    with app.engine.begin() as connection:
        attempts = notifications.lock(connection, candidate.id, now)
        if attempts is None:  # sent, failed or put off meanwhile, or another worker has it
            return False
        if not candidate.recipients:
            _fail(connection, candidate, attempts, "the board has no HR recipients", summary)
            return False
        try:
            message = _compose(app, candidate, now)
        except InvalidInput as exc:
            # A value no header may carry (stored before cells were checked): this one
            # message fails, visibly in `status`, and the others still go.
            _fail(connection, candidate, attempts + 1, f"cannot be composed: {exc}", summary)
            return False
        return _send(connection, mailer, message, candidate, attempts + 1, now, summary)


def _board_letter(app: App, candidate: Row[Any]) -> BoardLetter:
    """A letter without a case: about a rejected or held list, or a refused person."""
    details = candidate.details or {}
    received = candidate.list_received_at
    return BoardLetter(
        kind=candidate.kind,
        board_name=candidate.board_name,
        portal_link=portal_link(
            app.settings.portal_url,
            candidate.kind,
            candidate.board_number,
            candidate.staff_list_id,
        ),
        received=received.date() if received is not None else None,
        problems=int(details.get("problems", 0)),
        hold=details.get("hold"),
        person_name=_person_name(candidate),
        personeelsnummer=candidate.personeelsnummer,
        refusal=details.get("code"),
    )


def _compose(app: App, candidate: Row[Any], now: dt.datetime) -> OutgoingMessage:
    if candidate.kind not in (NotificationKind.HIT, NotificationKind.REMINDER):
        return compose_board_letter(
            _board_letter(app, candidate),
            sender=app.settings.mail_from,
            recipients=list(candidate.recipients),
            message_id=candidate.message_id,
            reply_to=app.settings.mail_reply_to,
            now=now,
        )
    return default_templates().compose(
        _letter(candidate),
        sender=app.settings.mail_from,
        recipients=list(candidate.recipients),
        message_id=candidate.message_id,
        reply_to=app.settings.mail_reply_to,
        now=now,
    )


def _send(
    connection: Connection,
    mailer: Mailer,
    message: OutgoingMessage,
    candidate: Row[Any],
    attempts: int,
    now: dt.datetime,
    summary: NotifySummary,
) -> bool:
    """Hand the locked message to the mailer and mark what came of it (``attempts``
    counts this one)."""
    try:
        refused = mailer.send(message)
    except DeliveryError as exc:
        if exc.permanent:
            _fail(connection, candidate, attempts, str(exc), summary)
            return False
        notifications.put_off(
            connection,
            candidate.id,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            error=str(exc),
        )
        summary.deferred += 1
        if exc.unreachable:
            summary.stopped = str(exc)
        return False
    notifications.mark_sent(
        connection,
        candidate.id,
        attempts=attempts,
        now=now,
        error=f"refused recipients: {', '.join(refused)}" if refused else None,
    )
    summary.sent += 1
    return True


def _fail(
    connection: Connection,
    candidate: Row[Any],
    attempts: int,
    error: str,
    summary: NotifySummary,
) -> None:
    notifications.mark_failed(connection, candidate.id, attempts=attempts, error=error)
    summary.failed += 1
    summary.failures.append((candidate.message_id, error))
    log.warning("notification.failed", notification=candidate.id, error=error)
