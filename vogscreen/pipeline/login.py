"""Signing in to the board portal, and who is signed in.

A person at a board asks for a login link with their e-mail address. When a board lists
that address among its recipients, a one-time link, valid for :data:`LINK_VALID`, is mailed
to it through the same mailer as every letter (SMTP or the Maildir). The answer is the same
whether the address is known or not; requests are counted per address and per client, and
refused over :data:`ADDRESS_LIMIT` and :data:`CLIENT_LIMIT` in :data:`LIMIT_WINDOW`.

Following the link opens a portal session for one board. A session knows how it was
opened (:class:`~vogscreen.domain.statuses.LoginMethod`) and who opened it to that method
(the principal: the address for a link). An OIDC login through an eHerkenning broker is a
second method beside this one: it ends in :func:`open_session` with its own method and
subject, and everything after that (pages, audit, logout) stays as it is.

Tokens are drawn with :mod:`secrets`; the database keeps only their SHA-256 digests, and
the address and the client of a request only as keyed digests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from email_validator import EmailNotValidError, validate_email

from vogscreen.domain.errors import DeliveryError, InvalidInput, VogscreenError
from vogscreen.domain.statuses import LoginMethod
from vogscreen.mail.compose import OutgoingMessage, compose_login_link
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.mailer import make_mailer
from vogscreen.store import audit, logins
from vogscreen.store.cases import new_message_id
from vogscreen.store.database import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vogscreen.store.models import Board

log = structlog.get_logger(__name__)

LINK_VALID = dt.timedelta(minutes=15)
SESSION_VALID = dt.timedelta(hours=8)
LIMIT_WINDOW = dt.timedelta(minutes=15)
ADDRESS_LIMIT = 3  # links asked for one address in the window
CLIENT_LIMIT = 10  # links asked from one client in the window


class TooManyRequests(VogscreenError):
    """Too many login links were asked for this address or from this client just now."""


@dataclass(frozen=True)
class Principal:
    """Who is signed in, for which board, and how: what every page and action is done as."""

    session_id: int
    board: str  # the board's number
    board_name: str
    method: LoginMethod
    subject: str  # the e-mail address for a link; later the subject of an OIDC login

    @property
    def who(self) -> str:
        """What the audit trail records as the actor."""
        return self.subject


def portal_key(app: App, purpose: str) -> bytes:
    """A key of the portal's own for ``purpose`` (CSRF tokens, digests of requests),
    derived from the BSN HMAC key, so there is no further key to manage or lose."""
    label = f"vogscreen:portal:{purpose}:v1".encode()
    return hmac.new(app.vault.hmac_key, label, hashlib.sha256).digest()


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _keyed(app: App, purpose: str, value: str) -> bytes:
    return hmac.new(portal_key(app, purpose), value.encode("utf-8"), hashlib.sha256).digest()


def normalise_address(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput("not a valid e-mail address") from None


def login_url(app: App, token: str) -> str:
    return f"{app.settings.portal_url}/inloggen/link?token={token}"


def request_link(app: App, address: str, client: str) -> list[OutgoingMessage]:
    """Make a login link for ``address`` at every board that lists it, and the letters
    that carry them (none for an address no board lists), for :func:`send_links`. Raises
    :class:`TooManyRequests` over the limits, and :class:`InvalidInput` for something that
    is no e-mail address at all.

    The letters are sent apart from the answer (the portal sends them after it has
    answered), so how long the answer takes does not tell whether the address is known."""
    address = normalise_address(address)
    now = app.now()
    address_digest = _keyed(app, "login-address", address.casefold())
    client_digest = _keyed(app, "login-client", client)
    outgoing: list[OutgoingMessage] = []
    with transaction(app.sessions) as session:
        logins.forget_requests_before(session, now - LIMIT_WINDOW)
        by_address, by_client = logins.requests_since(
            session, now - LIMIT_WINDOW, address_digest=address_digest, client_digest=client_digest
        )
        logins.record_request(
            session, at=now, address_digest=address_digest, client_digest=client_digest
        )
        if by_address >= ADDRESS_LIMIT or by_client >= CLIENT_LIMIT:
            log.warning("portal.login_limited", by_address=by_address, by_client=by_client)
            limited = True
        else:
            limited = False
            for board in logins.boards_of_recipient(session, address):
                token = _new_link(session, board, address, now, actor=address)
                outgoing.append(_login_letter(app, board.name, address, token, now))
    # A raise inside the transaction would roll back the request that counts against the
    # limit: it is committed first.
    if limited:
        raise TooManyRequests("too many login links asked for")
    return outgoing


def send_links(app: App, outgoing: list[OutgoingMessage]) -> None:
    """Send the letters :func:`request_link` made. A failure is logged: the person does not
    get the mail and asks again (the link it would have carried expires unused)."""
    if not outgoing:
        return
    try:
        with make_mailer(app.settings) as mailer:
            for message in outgoing:
                mailer.send(message)
    except DeliveryError as exc:
        log.error("portal.link_not_sent", error=str(exc), links=len(outgoing))
        return
    log.info("portal.links_sent", links=len(outgoing))


def _new_link(session: Session, board: Board, address: str, now: dt.datetime, *, actor: str) -> str:
    """A new one-time link for ``address`` at ``board``, audited; its token."""
    token = secrets.token_urlsafe(32)
    logins.add_link(
        session,
        digest=token_digest(token),
        board_id=board.id,
        address=address,
        created_at=now,
        expires_at=now + LINK_VALID,
    )
    audit.record(
        session,
        at=now,
        actor=actor,
        action="portal.link_sent",
        entity="board",
        entity_id=board.number,
        board_id=board.id,
    )
    return token


def issue_link(app: App, number: str, address: str, actor: str) -> str:
    """A login link for one of board ``number``'s recipients, given to an operator (the
    demo prints it) instead of mailed. Refused for an address the board does not list."""
    address = normalise_address(address)
    with transaction(app.sessions) as session:
        board = next(
            (b for b in logins.boards_of_recipient(session, address) if b.number == number),
            None,
        )
        if board is None:
            raise InvalidInput(f"{address} is not a recipient of board {number}")
        return login_url(app, _new_link(session, board, address, app.now(), actor=actor))


def _login_letter(
    app: App, board_name: str, address: str, token: str, now: dt.datetime
) -> OutgoingMessage:
    return compose_login_link(
        board_name=board_name,
        link=login_url(app, token),
        valid_minutes=int(LINK_VALID.total_seconds() // 60),
        sender=app.settings.mail_from,
        recipient=address,
        message_id=new_message_id(),
        reply_to=app.settings.mail_reply_to,
        now=now,
    )


def link_is_usable(app: App, token: str) -> bool:
    with app.sessions() as session:
        return logins.link_is_usable(session, token_digest(token), app.now())


def open_session_by_link(app: App, token: str) -> tuple[str, Principal] | None:
    """Take a login link (once) and open a session for its board: the session's token and
    who it is for. None for a link that is unknown, used, expired, or whose address the
    board no longer lists."""
    now = app.now()
    with transaction(app.sessions) as session:
        link = logins.take_link(session, token_digest(token), now)
        if link is None:
            return None
        board_id, address = link.board_id, link.address
    return open_session(app, board_id, LoginMethod.EMAIL_LINK, address)


def open_session(
    app: App, board_id: int, method: LoginMethod, subject: str
) -> tuple[str, Principal] | None:
    """A new session for ``subject``, signed in to a board by ``method``."""
    now = app.now()
    token = secrets.token_urlsafe(32)
    with transaction(app.sessions) as session:
        board = logins.board_by_id(session, board_id)
        if board is None or not _allowed(method, subject, board.recipients):
            return None
        opened = logins.add_session(
            session,
            digest=token_digest(token),
            board_id=board_id,
            method=method,
            principal=subject,
            created_at=now,
            expires_at=now + SESSION_VALID,
        )
        audit.record(
            session,
            at=now,
            actor=subject,
            action="portal.login",
            entity="portal_session",
            entity_id=opened.id,
            board_id=board.id,
            method=str(method),
        )
        return token, Principal(opened.id, board.number, board.name, method, subject)


def _allowed(method: str, subject: str, recipients: list[str]) -> bool:
    """An address may sign in while its board lists it; removed, its sessions stop."""
    if method == LoginMethod.EMAIL_LINK:
        return any(str(known).casefold() == subject.casefold() for known in recipients)
    return False


def principal_of(app: App, token: str) -> Principal | None:
    """Who holds the session ``token``, while it lasts."""
    with app.sessions() as session:
        found = logins.live_session(session, token_digest(token), app.now())
        if found is None:
            return None
        opened, board = found
        if not _allowed(opened.method, opened.principal, board.recipients):
            return None
        return Principal(
            opened.id, board.number, board.name, LoginMethod(opened.method), opened.principal
        )


def end_session(app: App, token: str) -> None:
    """Log out: the session ends now (a stale or unknown token ends nothing)."""
    now = app.now()
    with transaction(app.sessions) as session:
        found = logins.live_session(session, token_digest(token), now)
        if found is None:
            return
        opened, board = found
        logins.end_session(session, token_digest(token), now)
        audit.record(
            session,
            at=now,
            actor=opened.principal,
            action="portal.logout",
            entity="portal_session",
            entity_id=opened.id,
            board_id=board.id,
        )
