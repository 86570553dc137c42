"""The mock screening authority: the authority's side, played in our own database.

One class holds every rule of the mock. The ``mock`` adapter runs it in-process on the
application's database, so separate commands see one authority; the mock authority server
(:mod:`vogscreen.adapters.server`) runs the same class on a database of its own and puts
our REST contract in front of it. Its tables (:mod:`vogscreen.testing.authority_schema`)
are not part of vogscreen's schema: the mock makes them where they are missing.

The rules, deterministic so tests can trigger each answer:

* a BSN starting with ``999`` is refused as ``unknown_bsn`` (the 999 range is the Dutch
  test range: no real person has one);
* the first birth date the mock sees for a BSN is the truth: a later subscription of that
  BSN with another birth date is refused as ``birth_date_mismatch``;
* subscribing a BSN that has an active subscription answers ``already_subscribed`` with
  its reference; after an unsubscribe, a new subscription gets a new reference;
* unsubscribing a reference that is unknown or already ended answers ``not_found`` (ok);
* a write whose idempotency key was seen before returns the recorded answer and changes
  nothing; ``mock_authority_requests.applied`` counts the applications per key.

The mock stores a keyed hash of each BSN, never the number. Batches are applied with
set-based SQL: a few statements per batch, whatever its size, because the national
benchmark pushes half a million persons through here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vogscreen.domain.errors import AuthorityMisconfigured, AuthorityUnavailable, NotFound
from vogscreen.domain.statuses import AnswerField, Operation
from vogscreen.ports.authority import (
    HitInfo,
    HitPage,
    ItemResult,
    SubscribeItem,
    SubscriptionInfo,
    SubscriptionPage,
    UnsubscribeItem,
)
from vogscreen.store.bulk import dialect_of
from vogscreen.store.database import transaction
from vogscreen.testing import authority_schema as schema
from vogscreen.testing.authority_schema import (
    ANSWERS,
    HASHES,
    KEYS,
    NEW,
    add_subscriptions,
    known_subscriptions,
    record_answers,
    recorded_answers,
)

if TYPE_CHECKING:
    from vogscreen.runtime.bootstrap import App

UNKNOWN_BSN_PREFIX = "999"
# Items applied per transaction, a few statements each: the authority commits what it
# applied in bounded pieces, whatever the size of a call.
_CHUNK = 1000
PAGE_SIZE = 1000

MESSAGES = {
    "unknown_bsn": "the authority knows no person with this BSN",
    "birth_date_mismatch": "the birth date does not match the authority's records",
}

_subscriptions, _hits, _requests = schema.subscriptions, schema.hits, schema.requests
# Two writers racing on one key or one BSN: the loser's transaction fails on a unique
# constraint, and its next pass sees the winner's row and replays or adopts it.
_CONFLICT_PASSES = 3


class _Keyed(Protocol):
    @property
    def idempotency_key(self) -> str: ...


K = TypeVar("K", bound=_Keyed)
Outcome = dict[str, Any]  # {"ok": bool, "code": str, "ref": str | None}, as recorded


def derive_key(secret: bytes) -> bytes:
    """The mock's own BSN hashing key, derived so it reveals nothing of ``secret``."""
    return hmac.new(secret, b"vogscreen mock authority: bsn hash", hashlib.sha256).digest()


@dataclass
class _Known:
    ref: str
    birth_date: dt.date
    active: bool


class MockAuthority:
    """A screening authority that keeps its state in a database (see the module notes)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        key: bytes,
        clock: Callable[[], dt.datetime],
        page_size: int = PAGE_SIZE,
    ) -> None:
        with sessions() as session:  # its tables are its own, made on its first use
            schema.create_tables(session.get_bind().engine)
        self._sessions = sessions
        self._hasher = hmac.new(key, digestmod=hashlib.sha256)
        self._clock = clock
        self._page_size = page_size

    # -- the port ---------------------------------------------------------------------

    def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]:
        return self._write(Operation.SUBSCRIBE, items, self._apply_subscribes)

    def unsubscribe(self, items: Sequence[UnsubscribeItem]) -> list[ItemResult]:
        return self._write(Operation.UNSUBSCRIBE, items, self._apply_unsubscribes)

    def list_subscriptions(self, page: str | None = None) -> SubscriptionPage:
        after = _decode_page(page) if page else ""
        query = (
            select(_subscriptions.c.ref, _subscriptions.c.created_at)
            .where(_subscriptions.c.active.is_(True), _subscriptions.c.ref > after)
            .order_by(_subscriptions.c.ref)
            .limit(self._page_size + 1)
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        more = len(rows) > self._page_size
        rows = rows[: self._page_size]
        return SubscriptionPage(
            items=tuple(SubscriptionInfo(row.ref, row.created_at) for row in rows),
            next_page=_encode_page(rows[-1].ref) if more else None,
        )

    def fetch_hits(self, cursor: str | None = None) -> HitPage:
        after = _parse_cursor(cursor)
        query = (
            select(_hits.c.seq, _hits.c.hit_id, _hits.c.ref, _hits.c.raised_at)
            .where(_hits.c.seq > after)
            .order_by(_hits.c.seq)
            .limit(self._page_size + 1)
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        more = len(rows) > self._page_size
        rows = rows[: self._page_size]
        return HitPage(
            items=tuple(HitInfo(row.hit_id, row.ref, row.raised_at) for row in rows),
            cursor=str(rows[-1].seq if rows else after),
            has_more=more,
        )

    def close(self) -> None:
        """Nothing to release: the sessions belong to whoever built this authority."""

    # -- what only the mock can do ------------------------------------------------------

    def raise_hit(self, subscription_ref: str) -> str:
        """Signal a new relevant record for an active subscription; returns the hit id."""
        hit_id = "H-" + secrets.token_hex(8)
        with transaction(self._sessions) as session:
            active = session.scalar(
                select(_subscriptions.c.active).where(_subscriptions.c.ref == subscription_ref)
            )
            if not active:
                raise NotFound(f"the authority has no active subscription {subscription_ref}")
            session.execute(
                insert(_hits).values(hit_id=hit_id, ref=subscription_ref, raised_at=self._clock())
            )
        return hit_id

    def applied_counts(self) -> dict[str, int]:
        """How often each idempotency key was applied: exactly once, if all is well."""
        with self._sessions() as session:
            rows = session.execute(select(_requests.c.idempotency_key, _requests.c.applied))
            return {key: applied for key, applied in rows}

    def screened(self, bsns: Iterable[str]) -> dict[str, str]:
        """Which of these BSNs the authority screens now, with their references.

        The authority's own truth, for tests that know the numbers they handed in.
        """
        wanted = {self._hash(bsn): bsn for bsn in bsns}
        with self._sessions() as session:
            rows = session.execute(
                select(_subscriptions.c.bsn_hash, _subscriptions.c.ref).where(
                    _subscriptions.c.active.is_(True)
                )
            )
            return {wanted[bsn_hash]: ref for bsn_hash, ref in rows if bsn_hash in wanted}

    def reset(self) -> None:
        """Forget everything (for tests and demos of the mock authority server)."""
        with transaction(self._sessions) as session:
            for table in (_hits, _requests, _subscriptions):
                session.execute(delete(table))

    # -- writes -----------------------------------------------------------------------

    def _write(
        self,
        operation: str,
        items: Sequence[K],
        apply: Callable[[Session, list[K]], dict[str, Outcome]],
    ) -> list[ItemResult]:
        outcomes: dict[str, Outcome] = {}
        for chunk in _chunks(items, _CHUNK):
            outcomes.update(self._write_chunk(operation, chunk, apply))
        return [_result(item.idempotency_key, outcomes[item.idempotency_key]) for item in items]

    def _write_chunk(
        self,
        operation: str,
        items: Sequence[K],
        apply: Callable[[Session, list[K]], dict[str, Outcome]],
    ) -> dict[str, Outcome]:
        for _ in range(_CONFLICT_PASSES):
            try:
                with transaction(self._sessions) as session:
                    return self._apply_once(session, operation, items, apply)
            except IntegrityError:
                continue
        # Not chained: the database's message lists the statement's parameters.
        raise AuthorityUnavailable("the mock authority met conflicting concurrent writes")

    def _apply_once(
        self,
        session: Session,
        operation: str,
        items: Sequence[K],
        apply: Callable[[Session, list[K]], dict[str, Outcome]],
    ) -> dict[str, Outcome]:
        dialect = dialect_of(session)
        keys = [(key,) for key in {item.idempotency_key for item in items}]
        recorded = session.execute(recorded_answers(dialect), KEYS.bind(dialect, keys))
        seen: dict[str, Outcome] = {key: outcome for key, outcome in recorded}
        fresh: dict[str, K] = {}
        for item in items:
            if item.idempotency_key not in seen:
                fresh.setdefault(item.idempotency_key, item)
        if not fresh:
            return seen
        applied = apply(session, list(fresh.values()))
        session.execute(
            record_answers(dialect),
            {
                "op": operation,
                "now": self._clock(),
                **ANSWERS.bind(dialect, list(applied.items())),
            },
        )
        return seen | applied

    def _apply_subscribes(self, session: Session, items: list[SubscribeItem]) -> dict[str, Outcome]:
        hashes = {
            item.idempotency_key: self._hash(item.bsn)
            for item in items
            if not item.bsn.startswith(UNKNOWN_BSN_PREFIX)
        }
        dialect = dialect_of(session)
        wanted = HASHES.bind(dialect, [(bsn_hash,) for bsn_hash in set(hashes.values())])
        known = {
            row.bsn_hash: _Known(row.ref, row.birth_date, row.active)
            for row in session.execute(known_subscriptions(dialect), wanted)
        }
        ended: list[str] = []
        new_rows: list[tuple[str, str, dt.date]] = []
        outcomes: dict[str, Outcome] = {}
        for item in items:
            key = item.idempotency_key
            bsn_hash = hashes.get(key)
            found = known.get(bsn_hash) if bsn_hash else None
            if bsn_hash is None:
                outcomes[key] = _refused("unknown_bsn")
            elif found is not None and found.birth_date != item.birth_date:
                outcomes[key] = _refused("birth_date_mismatch")
            elif found is not None and found.active:
                outcomes[key] = _ok("already_subscribed", found.ref)
            else:
                if found is not None:  # subscribed before, since ended: a new subscription
                    ended.append(found.ref)
                ref = "S-" + secrets.token_hex(8)
                known[bsn_hash] = _Known(ref, item.birth_date, active=True)
                new_rows.append((ref, bsn_hash, item.birth_date))
                outcomes[key] = _ok("subscribed", ref)
        if ended:
            session.execute(delete(_subscriptions).where(_subscriptions.c.ref.in_(ended)))
        if new_rows:
            session.execute(
                add_subscriptions(dialect),
                {"now": self._clock(), **NEW.bind(dialect, new_rows)},
            )
        return outcomes

    def _apply_unsubscribes(
        self, session: Session, items: list[UnsubscribeItem]
    ) -> dict[str, Outcome]:
        refs = {item.subscription_ref for item in items}
        active = set(
            session.scalars(
                select(_subscriptions.c.ref).where(
                    _subscriptions.c.ref.in_(refs), _subscriptions.c.active.is_(True)
                )
            )
        )
        ending: list[str] = []
        outcomes: dict[str, Outcome] = {}
        for item in items:
            ref = item.subscription_ref
            if ref in active:
                active.discard(ref)
                ending.append(ref)
                outcomes[item.idempotency_key] = _ok("unsubscribed", ref)
            else:
                outcomes[item.idempotency_key] = _ok("not_found", ref)
        if ending:
            session.execute(
                update(_subscriptions).where(_subscriptions.c.ref.in_(ending)).values(active=False)
            )
        return outcomes

    def _hash(self, bsn: str) -> str:
        hasher = self._hasher.copy()
        hasher.update(bsn.encode())
        return hasher.hexdigest()


def create(app: App) -> MockAuthority:
    """The ``mock`` adapter: the mock authority on the application's own database."""
    return MockAuthority(app.sessions, key=derive_key(app.vault.hmac_key), clock=app.clock)


def _ok(code: str, ref: str) -> Outcome:
    return {"ok": True, "code": code, "ref": ref}


def _refused(code: str) -> Outcome:
    return {"ok": False, "code": code, "ref": None}


def _result(key: str, outcome: Outcome) -> ItemResult:
    return ItemResult(
        idempotency_key=key,
        ok=bool(outcome[AnswerField.OK]),
        code=str(outcome["code"]),
        subscription_ref=outcome.get("ref"),
        message=MESSAGES.get(outcome["code"]),
    )


def _chunks(items: Sequence[K], size: int) -> Iterator[Sequence[K]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _encode_page(last_ref: str) -> str:
    return base64.urlsafe_b64encode(last_ref.encode()).decode().rstrip("=")


def _decode_page(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise AuthorityMisconfigured("the page token is not one the authority gave") from None


def _parse_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise AuthorityMisconfigured("the hit cursor is not one the authority gave")
    return int(cursor)
