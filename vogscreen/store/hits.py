"""Hits from the authority, its cursor, and what routing a hit reads.

Hits are stored unique on the authority's hit id and never deleted (retention only
unlinks them from a purged person). The cursor says how far the authority's feed has
been read; it is advanced in the transaction that stores the page it covers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import Operation
from vogscreen.store.bulk import chunks, insert_ignore
from vogscreen.store.models import (
    AuthorityOperation,
    Board,
    Cursor,
    Employment,
    Hit,
    Subscription,
    table,
)

CURSOR = "authority_hits"


def read_cursor(session: Session) -> str | None:
    return session.scalar(select(Cursor.value).where(Cursor.name == CURSOR))


def advance_cursor(session: Session, value: str, now: dt.datetime) -> None:
    updated = session.execute(
        update(Cursor).where(Cursor.name == CURSOR).values(value=value, updated_at=now)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(Cursor).values(name=CURSOR, value=value, updated_at=now))


class NewHit(NamedTuple):
    authority_hit_id: str
    authority_ref: str
    raised_at: dt.datetime


class StoredHit(NamedTuple):
    """A stored hit, as routing reads it."""

    id: int
    authority_ref: str
    received_at: dt.datetime


def known_hit_ids(session: Session, authority_hit_ids: Collection[str]) -> set[str]:
    """Which of these authority hit ids are stored already."""
    return set(
        session.scalars(
            select(Hit.authority_hit_id).where(Hit.authority_hit_id.in_(authority_hit_ids))
        )
    )


def store_new(session: Session, hits: Sequence[NewHit], now: dt.datetime) -> dict[str, int]:
    """Store hits as not yet routed; maps the authority hit id of each one this statement
    stored to its id. A hit another transaction stored first is left out."""
    return insert_ignore(
        session,
        table(Hit),
        [
            {
                "authority_hit_id": hit.authority_hit_id,
                "authority_ref": hit.authority_ref,
                "person_id": None,
                "raised_at": hit.raised_at,
                "received_at": now,
                "routed": False,
            }
            for hit in hits
        ],
        "authority_hit_id",
        returning="id",
    )


# A reference is a person's while their subscription carries it, and ever after on the
# outbox row of the subscribe that brought it back (a new cycle wipes the subscription's).
_KNOWN_REF = or_(
    exists().where(Subscription.authority_ref == Hit.authority_ref),
    exists().where(
        AuthorityOperation.subscription_ref == Hit.authority_ref,
        AuthorityOperation.operation == Operation.SUBSCRIBE,
    ),
)
_WAITING = (
    select(Hit.id, Hit.authority_ref, Hit.received_at)
    .where(Hit.person_id.is_(None), Hit.routed.is_(False), _KNOWN_REF)
    .order_by(Hit.id)
)


def waiting(session: Session) -> list[StoredHit]:
    """Unrouted hits, never linked to a person, whose reference is known by now."""
    return [
        StoredHit(row.id, row.authority_ref, row.received_at) for row in session.execute(_WAITING)
    ]


def people_by_ref(session: Session, refs: Collection[str]) -> dict[str | None, int]:
    """The person each subscription reference belongs to: from the outbox rows of the
    subscribes that brought the references back, then the subscriptions carrying them."""
    people: dict[str | None, int] = dict(
        session.execute(
            select(AuthorityOperation.subscription_ref, AuthorityOperation.person_id).where(
                AuthorityOperation.subscription_ref.in_(refs),
                AuthorityOperation.operation == Operation.SUBSCRIBE,
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
    return people


@dataclass(frozen=True)
class Employer:
    """A board's employment of a person, as routing a hit needs it."""

    employment_id: int
    board_id: int
    number: str
    weeks: int
    started_at: dt.datetime
    ended_at: dt.datetime | None

    def employed_at(self, moment: dt.datetime) -> bool:
        return self.started_at <= moment and (self.ended_at is None or self.ended_at > moment)


def employers(
    session: Session, persons: Collection[int], *, since: dt.datetime
) -> dict[int, list[Employer]]:
    """Each person's employments current at ``since`` or begun after it, in board order."""
    found: dict[int, list[Employer]] = defaultdict(list)
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
            found[row.person_id].append(
                Employer(
                    row.employment_id,
                    row.board_id,
                    row.number,
                    row.weeks,
                    row.started_at,
                    row.ended_at,
                )
            )
    return found


def link(session: Session, links: Sequence[tuple[int, int, bool]]) -> None:
    """Link hits to their person: (hit id, person id, routed) each, in one statement."""
    if not links:
        return
    hits = table(Hit)
    session.execute(
        update(hits)
        .where(hits.c.id == bindparam("hid"))
        .values(person_id=bindparam("pid"), routed=bindparam("routed")),
        [{"hid": hit_id, "pid": person, "routed": routed} for hit_id, person, routed in links],
    )


def all_hits(session: Session, *, unrouted: bool = False) -> list[Hit]:
    """Every hit in order, or only those not routed."""
    query = select(Hit).order_by(Hit.id)
    if unrouted:
        query = query.where(Hit.routed.is_(False))
    return list(session.scalars(query))
