"""Hit intake: page through the authority's signals and route each to the boards.

Hits are stored unique on the authority's hit id, and the cursor advances in the same
transaction as the page it covers, so a poll that fails halfway keeps what it stored and
the next one resumes from there. A hit goes to every board with a current employment of
the person: one case and one notification per board. A hit for someone nobody employs any
more is kept as *unrouted* and shown to operators.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from vogscreen import audit
from vogscreen.authority import HitInfo, ScreeningAuthority
from vogscreen.bootstrap import App
from vogscreen.cases import open_cases_for_hit
from vogscreen.database import insert_ignore, transaction
from vogscreen.models import Board, Cursor, Employment, Hit, Subscription, table
from vogscreen.outbox import RetryPolicy, default_retry_policy

log = structlog.get_logger(__name__)
CURSOR = "authority_hits"


@dataclass
class PollSummary:
    pages: int = 0
    received: int = 0
    new: int = 0
    routed: int = 0
    unrouted: int = 0
    cases: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _cursor(session: Session) -> str | None:
    return session.scalar(select(Cursor.value).where(Cursor.name == CURSOR))


def _advance(session: Session, value: str, now: dt.datetime) -> None:
    updated = session.execute(
        update(Cursor).where(Cursor.name == CURSOR).values(value=value, updated_at=now)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(Cursor).values(name=CURSOR, value=value, updated_at=now))


def poll(
    app: App, authority: ScreeningAuthority, *, retry: RetryPolicy = default_retry_policy
) -> PollSummary:
    summary = PollSummary()
    while True:
        with app.sessions() as session:
            cursor = _cursor(session)
        page = retry()(authority.fetch_hits, cursor)
        summary.pages += 1
        with transaction(app.sessions) as session:
            # Another poller may have moved on meanwhile: then this page is theirs.
            if _cursor(session) != cursor:
                continue
            _store_page(app, session, page.items, summary)
            _advance(session, page.cursor, app.now())
        if not page.has_more:
            break
    if summary.received:
        log.info("hits.polled", **summary.as_dict())
    return summary


def _store_page(
    app: App, session: Session, items: tuple[HitInfo, ...], summary: PollSummary
) -> None:
    summary.received += len(items)
    if not items:
        return
    now = app.now()
    ids = [item.hit_id for item in items]
    known = set(session.scalars(select(Hit.authority_hit_id).where(Hit.authority_hit_id.in_(ids))))
    fresh = [item for item in items if item.hit_id not in known]
    if not fresh:
        return
    refs = {item.subscription_ref for item in fresh}
    people = dict(
        session.execute(
            select(Subscription.authority_ref, Subscription.person_id).where(
                Subscription.authority_ref.in_(refs)
            )
        ).all()
    )
    insert_ignore(
        session,
        table(Hit),
        [
            {
                "authority_hit_id": item.hit_id,
                "authority_ref": item.subscription_ref,
                "person_id": people.get(item.subscription_ref),
                "raised_at": item.raised_at,
                "received_at": now,
                "routed": False,
            }
            for item in fresh
        ],
        "authority_hit_id",
    )
    summary.new += len(fresh)
    for hit in session.scalars(
        select(Hit).where(Hit.authority_hit_id.in_([item.hit_id for item in fresh]))
    ):
        opened = route(app, session, hit)
        summary.cases += opened
        if opened:
            summary.routed += 1
        else:
            summary.unrouted += 1


def route(app: App, session: Session, hit: Hit) -> int:
    """Open a case and queue a notification for each board employing the person."""
    if hit.person_id is None:
        log.warning("hit.unrouted", hit=hit.id, reason="unknown subscription")
        return 0
    employments = session.execute(
        select(Employment, Board)
        .join(Board, Board.id == Employment.board_id)
        .where(Employment.person_id == hit.person_id, Employment.ended_at.is_(None))
    ).all()
    if not employments:
        log.warning("hit.unrouted", hit=hit.id, reason="no current employment")
        return 0
    opened = open_cases_for_hit(app, session, hit, [(e, b) for e, b in employments])
    hit.routed = True
    audit.record(
        session,
        at=app.now(),
        actor="vogscreen",
        action="hit.routed",
        entity="hit",
        entity_id=hit.id,
        boards=len(employments),
    )
    return opened


def list_hits(app: App, *, unrouted: bool = False) -> list[dict[str, Any]]:
    query = select(Hit).order_by(Hit.id)
    if unrouted:
        query = query.where(Hit.routed.is_(False))
    with app.sessions() as session:
        return [
            {
                "id": hit.id,
                "authority_hit_id": hit.authority_hit_id,
                "raised_at": hit.raised_at.isoformat(),
                "received_at": hit.received_at.isoformat(),
                "routed": hit.routed,
                "known_person": hit.person_id is not None,
            }
            for hit in session.scalars(query)
        ]
