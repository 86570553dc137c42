"""A board's API tokens: made, listed, revoked, and checked on every API call.

A token is 32 random bytes (URL-safe text, prefixed ``vgs_``), shown once when it is made.
Only its SHA-256 digest is stored; a request's token is looked up by its digest and
compared in constant time. A revoked token no longer authenticates. Making, revoking and
every call made with a token are in the audit trail, with the token's id (never the token).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.domain.language import msg
from vogscreen.intake.cells import has_control_character
from vogscreen.pipeline.boards import get_board
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store import tokens as stored
from vogscreen.store.database import transaction

PREFIX = "vgs_"
MAX_NAME = 100
# last_used_at is written at most this often per token: not a write on every call.
USED_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class TokenHolder:
    """Who is calling: a board's token (its id and name) and that board."""

    token_id: int
    name: str
    board_id: int
    board: str

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return f"api-token:{self.token_id}"


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None
    revoked_by: str | None
    last_used_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: dt.datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "revoked_at": iso(self.revoked_at),
            "revoked_by": self.revoked_by,
            "last_used_at": iso(self.last_used_at),
        }


def digest_of(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(msg("A token needs a name, e.g. the system that uses it."))
    if len(name) > MAX_NAME or has_control_character(name):
        raise InvalidInput(
            msg(
                "A token's name is one line of at most %(n)s characters, "
                "with no control characters.",
                n=MAX_NAME,
            )
        )
    return name


def create_token(app: App, number: str, name: str, who: str) -> tuple[int, str]:
    """Make a token for board ``number``: its id and the token, which is never shown again."""
    name = _check_name(name)
    token = PREFIX + secrets.token_urlsafe(32)
    now = app.now()
    with transaction(app.sessions) as session:
        board = get_board(session, number)
        token_id = stored.add_token(
            session,
            board_id=board.id,
            name=name,
            digest=digest_of(token),
            created_at=now,
            created_by=who,
        )
        audit.record(
            session,
            at=now,
            actor=who,
            action="api_token.created",
            entity="api_token",
            entity_id=token_id,
            board_id=board.id,
            name=name,
        )
    return token_id, token


def list_tokens(app: App, number: str) -> list[TokenView]:
    """The board's tokens, revoked ones too, oldest first; never the tokens themselves."""
    with app.sessions() as session:
        board = get_board(session, number)
        return [
            TokenView(
                token.id,
                token.name,
                token.created_at,
                token.created_by,
                token.revoked_at,
                token.revoked_by,
                token.last_used_at,
            )
            for token in stored.tokens_of(session, board.id)
        ]


def revoke_token(app: App, number: str, token_id: int, who: str) -> None:
    """Revoke one of the board's tokens: from now on it gets 401. Another board's token is
    not found, as one that does not exist."""
    now = app.now()
    with transaction(app.sessions) as session:
        board = get_board(session, number)
        token = stored.token_of_board(session, board.id, token_id)
        if token is None:
            raise NotFound(f"board {board.number} has no token {token_id}")
        if token.revoked_at is not None:
            raise StateConflict(msg("Token %(id)s was already revoked.", id=token_id))
        stored.revoke(session, [token], now, who)
        audit.record(
            session,
            at=now,
            actor=who,
            action="api_token.revoked",
            entity="api_token",
            entity_id=token_id,
            board_id=board.id,
        )


def authenticate(app: App, token: str, call: tuple[str, str] | None = None) -> TokenHolder | None:
    """The holder of ``token``; None when it is unknown or revoked. ``call`` (method,
    path) is the API call it makes: audited with the token's id, in the same transaction."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = digest_of(token)
    now = app.now()
    with transaction(app.sessions) as session:
        row = stored.by_digest(session, digest)
        if row is None or not hmac.compare_digest(row.digest, digest):
            return None
        if row.revoked_at is not None:
            return None
        if row.last_used_at is None or now - row.last_used_at >= USED_EVERY:
            stored.mark_used(session, row.id, now)
        holder = TokenHolder(row.id, row.name, row.board_id, row.number)
        if call is not None:
            audit.record(
                session,
                at=now,
                actor=holder.actor,
                action="api.call",
                entity="api_token",
                entity_id=holder.token_id,
                board_id=holder.board_id,
                method=call[0],
                path=call[1],
            )
        return holder
