"""Hit intake: page through the authority's signals and route each to the boards.

Hits are stored unique on the authority's hit id, and the cursor advances in the same
transaction as the page it covers, so a poll that fails halfway keeps what it stored and
the next one resumes from there. A hit goes to every board with a current employment of
the person: one case and one notification per board. A hit for someone nobody employs any
more is kept as *unrouted* and shown to operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from vogscreen.domain.retry import RetryPolicy, default_retry_policy
from vogscreen.ports.authority import HitInfo, ScreeningAuthority
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit, cases
from vogscreen.store import hits as stored_hits
from vogscreen.store.cases import Opening
from vogscreen.store.database import transaction
from vogscreen.store.hits import Employer, NewHit, StoredHit

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)


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


def poll(
    app: App, authority: ScreeningAuthority, *, retry: RetryPolicy = default_retry_policy
) -> PollSummary:
    summary = PollSummary()
    _route_waiting(app, summary)
    while True:
        with app.sessions() as session:
            cursor = stored_hits.read_cursor(session)
        page = retry()(authority.fetch_hits, cursor)
        summary.pages += 1
        with transaction(app.sessions) as session:
            # Another poller may have moved on meanwhile: then this page is theirs.
            if stored_hits.read_cursor(session) != cursor:
                continue
            _store_page(app, session, page.items, summary)
            stored_hits.advance_cursor(session, page.cursor, app.now())
        if not page.has_more:
            break
    if summary.received:
        log.info("hits.polled", **summary.as_dict())
    return summary


def _store_page(
    app: App, session: Session, items: tuple[HitInfo, ...], summary: PollSummary
) -> None:
    """Store a page's new hits and route them, in a few statements for the whole page."""
    summary.received += len(items)
    if not items:
        return
    now = app.now()
    known = stored_hits.known_hit_ids(session, [item.hit_id for item in items])
    # Keyed by hit id: the same hit twice in a page is stored once.
    fresh = {item.hit_id: item for item in items if item.hit_id not in known}
    if not fresh:
        return
    # Only the hits this transaction stored: a poller running beside this one may have
    # stored some of them first, and those are its to route.
    stored = stored_hits.store_new(
        session,
        [NewHit(item.hit_id, item.subscription_ref, item.raised_at) for item in fresh.values()],
        now,
    )
    summary.new += len(stored)
    routed = _route(
        session,
        [
            StoredHit(stored[item.hit_id], item.subscription_ref, now)
            for item in fresh.values()
            if item.hit_id in stored
        ],
        now,
        summary,
    )
    summary.unrouted += len(stored) - routed


def _route_waiting(app: App, summary: PollSummary) -> None:
    """Route the hits that came before we knew their subscription's reference.

    The authority can raise a hit as soon as it has applied a subscribe, and a crash (or a
    slow answer) may keep the reference from us a while: such a hit is stored as unrouted,
    and routed here once the drain has recorded the reference. It is never left behind.
    """
    with transaction(app.sessions) as session:
        waiting = stored_hits.waiting(session)
        if waiting:
            routed = _route(session, waiting, app.now(), summary)
            log.info("hits.routed_late", hits=len(waiting), routed=routed)


@dataclass
class _Routing:
    """What routing a set of hits comes to: the hits to link to their person (hit id,
    person id, routed), the cases to open and the audit records of the routed hits."""

    links: list[tuple[int, int, bool]] = field(default_factory=list)
    openings: list[Opening] = field(default_factory=list)
    routed: list[dict[str, Any]] = field(default_factory=list)


def _route(
    session: Session, hits: Sequence[StoredHit], now: dt.datetime, summary: PollSummary
) -> int:
    """Link stored hits to their person and open a case per board that employed them when
    the hit came in. Returns how many were routed; the others stay unrouted, for
    operators."""
    if not hits:
        return 0
    people = stored_hits.people_by_ref(session, {hit.authority_ref for hit in hits})
    employers = stored_hits.employers(
        session, set(people.values()), since=min(hit.received_at for hit in hits)
    )
    routing = _plan_routing(hits, people, employers)
    stored_hits.link(session, routing.links)
    summary.routed += len(routing.routed)
    summary.cases += cases.open_cases(session, routing.openings, now)
    audit.record_many(session, now, routing.routed)
    return len(routing.routed)


def _plan_routing(
    hits: Sequence[StoredHit],
    people: dict[str | None, int],
    employers: dict[int, list[Employer]],
) -> _Routing:
    routing = _Routing()
    for hit in hits:  # in the authority's order
        person = people.get(hit.authority_ref)
        if person is None:
            log.warning("hit.unrouted", hit=hit.id, reason="unknown subscription")
            continue
        # A hit routed late (its reference came after it) goes to the boards that employed
        # the person when it came in, even if one has let them go since.
        boards = [
            board for board in employers.get(person, []) if board.employed_at(hit.received_at)
        ]
        # Routed means: some board employs the person (so the hit opens cases).
        routing.links.append((hit.id, person, bool(boards)))
        if not boards:
            log.warning("hit.unrouted", hit=hit.id, reason="no current employment")
            continue
        routing.openings += [
            Opening(hit.id, board.board_id, board.number, board.employment_id, board.weeks)
            for board in boards
        ]
        routing.routed.append(
            {
                "action": "hit.routed",
                "entity": "hit",
                "entity_id": str(hit.id),
                "board_id": None,
                "details": {"boards": len(boards)},
            }
        )
    return routing


def list_hits(app: App, *, unrouted: bool = False) -> list[dict[str, Any]]:
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
            for hit in stored_hits.all_hits(session, unrouted=unrouted)
        ]
