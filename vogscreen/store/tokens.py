"""A board's API tokens, kept only as SHA-256 digests: the token itself is shown once, when
it is made, and never stored. Everything here runs in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from vogscreen.store.models import ApiToken, Board


def add_token(
    session: Session,
    *,
    board_id: int,
    name: str,
    digest: bytes,
    created_at: dt.datetime,
    created_by: str,
) -> int:
    token = ApiToken(
        board_id=board_id, name=name, digest=digest, created_at=created_at, created_by=created_by
    )
    session.add(token)
    session.flush()
    return token.id


def tokens_of(session: Session, board_id: int) -> list[ApiToken]:
    """The board's tokens, revoked ones too, oldest first."""
    return list(
        session.scalars(select(ApiToken).where(ApiToken.board_id == board_id).order_by(ApiToken.id))
    )


def token_of_board(session: Session, board_id: int, token_id: int) -> ApiToken | None:
    """One of the board's tokens, locked until the transaction ends; None when there is no
    such token or it is another board's."""
    return session.scalar(
        select(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.board_id == board_id)
        .with_for_update()
    )


def by_digest(
    session: Session, digest: bytes
) -> Row[int, bytes, str, int, dt.datetime | None, dt.datetime | None, str] | None:
    """The token with this digest and its board's number (``id``, ``digest``, ``name``,
    ``board_id``, ``revoked_at``, ``last_used_at``, ``number``); None when there is none."""
    return session.execute(
        select(
            ApiToken.id,
            ApiToken.digest,
            ApiToken.name,
            ApiToken.board_id,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
            Board.number,
        )
        .join(Board, Board.id == ApiToken.board_id)
        .where(ApiToken.digest == digest)
    ).one_or_none()


def mark_used(session: Session, token_id: int, at: dt.datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


def revoke(session: Session, tokens: Sequence[ApiToken], at: dt.datetime, by: str) -> None:
    for token in tokens:
        token.revoked_at = at
        token.revoked_by = by
