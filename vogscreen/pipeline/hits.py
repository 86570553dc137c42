"""Hit intake: page through the authority's signals and route each to the boards.

Hits are stored unique on the authority's hit id, and the cursor advances in the same
transaction as the page it covers, so a poll that fails halfway keeps what it stored and
the next one resumes from there. A hit goes to every board with a current employment of
the person: one case and one notification per board. A hit for someone nobody employs any
more is kept as *unrouted* and shown to operators.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from vogscreen.domain.retry import RetryPolicy, default_retry_policy
from vogscreen.pipeline.followup import Opening, open_cases
from vogscreen.ports.authority import HitInfo, ScreeningAuthority
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store.bulk import chunks, insert_ignore
from vogscreen.store.database import transaction
from vogscreen.store.models import (
    AuthorityOperation,
    Board,
    Cursor,
    Employment,
    Hit,
    Subscription,
    table,
)

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
    _route_waiting(app, summary)
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
    """Store a page's new hits and route them, in a few statements for the whole page."""
    summary.received += len(items)
    if not items:
        return
    now = app.now()
    ids = [item.hit_id for item in items]
    known = set(session.scalars(select(Hit.authority_hit_id).where(Hit.authority_hit_id.in_(ids))))
    # Keyed by hit id: the same hit twice in a page is stored once.
    fresh = {item.hit_id: item for item in items if item.hit_id not in known}
    if not fresh:
        return
    # Only the hits this transaction stored: a poller running beside this one may have
    # stored some of them first, and those are its to route.
    stored = insert_ignore(
        session,
        table(Hit),
        [
            {
                "authority_hit_id": item.hit_id,
                "authority_ref": item.subscription_ref,
                "person_id": None,
                "raised_at": item.raised_at,
                "received_at": now,
                "routed": False,
            }
            for item in fresh.values()
        ],
        "authority_hit_id",
        returning="id",
    )
    summary.new += len(stored)
    routed = _route(
        session,
        [
            (stored[item.hit_id], item.subscription_ref, now)
            for item in fresh.values()
            if item.hit_id in stored
        ],
        now,
        summary,
    )
    summary.unrouted += len(stored) - routed


# A reference is a person's while their subscription carries it, and ever after on the
# outbox row of the subscribe that brought it back (a new cycle wipes the subscription's).
_KNOWN_REF = or_(
    exists().where(Subscription.authority_ref == Hit.authority_ref),
    exists().where(
        AuthorityOperation.subscription_ref == Hit.authority_ref,
        AuthorityOperation.operation == "subscribe",
    ),
)
_WAITING = (
    select(Hit.id, Hit.authority_ref, Hit.received_at)
    .where(Hit.person_id.is_(None), Hit.routed.is_(False), _KNOWN_REF)
    .order_by(Hit.id)
)


def _route_waiting(app: App, summary: PollSummary) -> None:
    """Route the hits that came before we knew their subscription's reference.

    The authority can raise a hit as soon as it has applied a subscribe, and a crash (or a
    slow answer) may keep the reference from us a while: such a hit is stored as unrouted,
    and routed here once the drain has recorded the reference. It is never left behind.
    """
    with transaction(app.sessions) as session:
        waiting = [
            (row.id, row.authority_ref, row.received_at) for row in session.execute(_WAITING)
        ]
        if waiting:
            routed = _route(session, waiting, app.now(), summary)
            log.info("hits.routed_late", hits=len(waiting), routed=routed)


def _route(
    session: Session,
    hits: list[tuple[int, str, dt.datetime]],
    now: dt.datetime,
    summary: PollSummary,
) -> int:
    """Link stored hits (id, reference, received) to their person and open a case per
    board that employed them when the hit came in. Returns how many were routed; the
    others stay unrouted, for operators."""
    if not hits:
        return 0
    refs = {ref for _, ref, _ in hits}
    people: dict[str | None, int] = dict(
        session.execute(
            select(AuthorityOperation.subscription_ref, AuthorityOperation.person_id).where(
                AuthorityOperation.subscription_ref.in_(refs),
                AuthorityOperation.operation == "subscribe",
            )
        ).all()
    )
    people.update(
        session.execute(
            select(Subscription.authority_ref, Subscription.person_id).where(
                Subscription.authority_ref.in_(refs)
            )
        ).all()
    )
    employers = _employers(session, set(people.values()), since=min(at for *_, at in hits))
    openings: list[Opening] = []
    routed: list[dict[str, Any]] = []
    linked: list[dict[str, Any]] = []
    for hit_id, ref, received in hits:  # in the authority's order
        person = people.get(ref)
        if person is None:
            log.warning("hit.unrouted", hit=hit_id, reason="unknown subscription")
            continue
        # A hit routed late (its reference came after it) goes to the boards that employed
        # the person when it came in, even if one has let them go since.
        boards = [board for board in employers.get(person, []) if board.employed_at(received)]
        # Routed means: some board employs the person (so the hit opens cases).
        linked.append({"hid": hit_id, "pid": person, "routed": bool(boards)})
        if not boards:
            log.warning("hit.unrouted", hit=hit_id, reason="no current employment")
            continue
        openings += [
            Opening(hit_id, board.board_id, board.number, board.employment_id, board.weeks)
            for board in boards
        ]
        routed.append(
            {
                "action": "hit.routed",
                "entity": "hit",
                "entity_id": str(hit_id),
                "board_id": None,
                "details": {"boards": len(boards)},
            }
        )
    if linked:
        hits_table = table(Hit)
        session.execute(
            update(hits_table)
            .where(hits_table.c.id == bindparam("hid"))
            .values(person_id=bindparam("pid"), routed=bindparam("routed")),
            linked,
        )
    summary.routed += len(routed)
    summary.cases += open_cases(session, openings, now)
    audit.record_many(session, now, routed)
    return len(routed)


@dataclass(frozen=True)
class _Employer:
    employment_id: int
    board_id: int
    number: str
    weeks: int
    started_at: dt.datetime
    ended_at: dt.datetime | None

    def employed_at(self, moment: dt.datetime) -> bool:
        return self.started_at <= moment and (self.ended_at is None or self.ended_at > moment)


def _employers(
    session: Session, persons: set[int], *, since: dt.datetime
) -> dict[int, list[_Employer]]:
    """Each person's employments current at ``since`` or begun after it, in board order."""
    employers: dict[int, list[_Employer]] = defaultdict(list)
    for chunk in chunks(sorted(persons)):
        rows = session.execute(
            select(
                Employment.person_id,
                Employment.id.label("employment_id"),
                Board.id.label("board_id"),
                Board.number,
                Board.followup_weeks.label("weeks"),
                Employment.started_at,
                Employment.ended_at,
            )
            .join(Board, Board.id == Employment.board_id)
            .where(
                Employment.person_id.in_(chunk),
                or_(Employment.ended_at.is_(None), Employment.ended_at > since),
            )
            .order_by(Employment.person_id, Board.id)
        )
        for row in rows:
            employers[row.person_id].append(
                _Employer(
                    row.employment_id,
                    row.board_id,
                    row.number,
                    row.weeks,
                    row.started_at,
                    row.ended_at,
                )
            )
    return employers


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
