"""Portal logins: the requests the rate limits count, one-time login links and sessions.

Links and sessions are kept only as digests of their tokens; a request for a link only as
digests of the address and the client. Taking a link is one UPDATE that only an unused,
unexpired link matches, so two clicks on one link cannot both open a session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from vogscreen.store.models import Board, LoginLink, LoginRequest, PortalSession


def record_request(
    session: Session, *, at: dt.datetime, address_digest: bytes, client_digest: bytes
) -> None:
    session.add(LoginRequest(at=at, address_digest=address_digest, client_digest=client_digest))
    session.flush()


def requests_since(
    session: Session, since: dt.datetime, *, address_digest: bytes, client_digest: bytes
) -> tuple[int, int]:
    """How many links were asked for since ``since``: for this address, from this client."""
    by_address = session.scalar(
        select(func.count())
        .select_from(LoginRequest)
        .where(LoginRequest.at >= since, LoginRequest.address_digest == address_digest)
    )
    by_client = session.scalar(
        select(func.count())
        .select_from(LoginRequest)
        .where(LoginRequest.at >= since, LoginRequest.client_digest == client_digest)
    )
    return int(by_address or 0), int(by_client or 0)


def forget_requests_before(session: Session, before: dt.datetime) -> None:
    """Requests older than every rate-limit window count for nothing any more."""
    session.execute(delete(LoginRequest).where(LoginRequest.at < before))


def boards_of_recipient(session: Session, address: str) -> list[Board]:
    """The boards that list ``address`` (already normalised) among their recipients.

    Recipients are a JSON list per board, so the match is made here, over a few thousand
    boards at most, the same way on SQLite and PostgreSQL."""
    wanted = address.casefold()
    return [
        board
        for board in session.scalars(select(Board).order_by(Board.number))
        if any(str(known).casefold() == wanted for known in board.recipients)
    ]


def board_by_id(session: Session, board_id: int) -> Board | None:
    return session.get(Board, board_id)


def add_link(
    session: Session,
    *,
    digest: bytes,
    board_id: int,
    address: str,
    created_at: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    session.add(
        LoginLink(
            digest=digest,
            board_id=board_id,
            address=address,
            created_at=created_at,
            expires_at=expires_at,
        )
    )
    session.flush()


def take_link(session: Session, digest: bytes, now: dt.datetime) -> LoginLink | None:
    """Mark the link used and return it, when it is unused and unexpired; None otherwise."""
    taken = session.execute(
        update(LoginLink)
        .where(
            LoginLink.digest == digest,
            LoginLink.used_at.is_(None),
            LoginLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalar(select(LoginLink).where(LoginLink.digest == digest))


def link_is_usable(session: Session, digest: bytes, now: dt.datetime) -> bool:
    found = session.scalar(
        select(LoginLink.id).where(
            LoginLink.digest == digest, LoginLink.used_at.is_(None), LoginLink.expires_at > now
        )
    )
    return found is not None


def add_session(
    session: Session,
    *,
    digest: bytes,
    board_id: int,
    method: str,
    principal: str,
    created_at: dt.datetime,
    expires_at: dt.datetime,
) -> PortalSession:
    opened = PortalSession(
        digest=digest,
        board_id=board_id,
        method=method,
        principal=principal,
        created_at=created_at,
        expires_at=expires_at,
    )
    session.add(opened)
    session.flush()
    return opened


def live_session(
    session: Session, digest: bytes, now: dt.datetime
) -> tuple[PortalSession, Board] | None:
    """The session with this digest and its board, while it has not ended or expired."""
    row = session.execute(
        select(PortalSession, Board)
        .join(Board, Board.id == PortalSession.board_id)
        .where(
            PortalSession.digest == digest,
            PortalSession.ended_at.is_(None),
            PortalSession.expires_at > now,
        )
    ).first()
    return None if row is None else (row.PortalSession, row.Board)


def end_session(session: Session, digest: bytes, now: dt.datetime) -> bool:
    ended = session.execute(
        update(PortalSession)
        .where(PortalSession.digest == digest, PortalSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def end_for_addresses(
    session: Session, board_id: int, addresses: Sequence[str], now: dt.datetime
) -> int:
    """End the sessions and unused links of ``addresses`` at the board (an address that is
    no recipient any more: added back later, it must log in again). How many ended."""
    wanted = [address.casefold() for address in addresses]
    if not wanted:
        return 0
    ended = session.execute(
        update(PortalSession)
        .where(
            PortalSession.board_id == board_id,
            PortalSession.ended_at.is_(None),
            func.lower(PortalSession.principal).in_(wanted),
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    used = session.execute(
        update(LoginLink)
        .where(
            LoginLink.board_id == board_id,
            LoginLink.used_at.is_(None),
            func.lower(LoginLink.address).in_(wanted),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(ended.rowcount) + int(used.rowcount)  # type: ignore[attr-defined]


def forget_expired(session: Session, before: dt.datetime) -> int:
    """Remove links and sessions that ended or expired before ``before``, and the requests
    made before it (retention): nothing of a login is kept longer than it is of use."""
    links = session.execute(
        delete(LoginLink).where(or_(LoginLink.expires_at < before, LoginLink.used_at < before))
    )
    sessions = session.execute(
        delete(PortalSession).where(
            or_(PortalSession.expires_at < before, PortalSession.ended_at < before)
        )
    )
    requests = session.execute(delete(LoginRequest).where(LoginRequest.at < before))
    counts = (links.rowcount, sessions.rowcount, requests.rowcount)  # type: ignore[attr-defined]
    return sum(int(count) for count in counts)
