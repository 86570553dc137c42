"""One contract, every adapter: the same tests against the in-process ``mock`` and ``http``.

``mock`` runs on the test application's database (SQLite or PostgreSQL); ``http`` talks to
the mock authority server in a background thread on loopback. Server-side counts (how
often each idempotency key was applied) come from the mock's table or the admin API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.authority_server import RunningServer, running_server
from vogscreen.adapters.mock import MockAuthority, derive_key
from vogscreen.domain.errors import AuthorityMisconfigured
from vogscreen.ports.authority import (
    HitInfo,
    ItemResult,
    ScreeningAuthority,
    SubscribeItem,
    SubscriptionInfo,
    UnsubscribeItem,
)
from vogscreen.runtime.authorities import load_authority
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import bsn_stream

# Small pages, so paging is tested without thousands of rows.
PAGE_SIZE = 50
BORN = dt.date(1984, 3, 14)
UNKNOWN_BSN = "999999990"  # valid 11-check, in the 999 test range the mock refuses


@dataclass
class Backend:
    authority: ScreeningAuthority
    applied: Callable[[], dict[str, int]]
    raise_hit: Callable[[str], str]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(page_size=PAGE_SIZE) as running:
        yield running


@pytest.fixture(params=["mock", "http"])
def backend(request: pytest.FixtureRequest, app: App) -> Iterator[Backend]:
    if request.param == "mock":
        mock = MockAuthority(
            app.sessions, key=derive_key(app.vault.hmac_key), clock=app.clock, page_size=PAGE_SIZE
        )
        yield Backend(mock, mock.applied_counts, mock.raise_hit)
        return
    server: RunningServer = request.getfixturevalue("server")
    server.reset()
    settings = dataclasses.replace(app.settings, authority="http", authority_url=server.url)
    authority = load_authority(dataclasses.replace(app, settings=settings))
    yield Backend(authority, lambda: server.stats()["applied"], server.raise_hit)
    authority.close()


def people(count: int, *, seed: int = 1) -> list[SubscribeItem]:
    numbers = (n for n in bsn_stream(seed) if not n.startswith("999"))
    return [SubscribeItem(f"sub:{seed}:{i}", next(numbers), BORN) for i in range(count)]


def test_a_batch_answers_every_item_with_refusals_next_to_successes(backend: Backend) -> None:
    first, second, known = people(3)
    backend.authority.subscribe([known])
    batch = [
        first,
        SubscribeItem("sub:unknown", UNKNOWN_BSN, BORN),
        SubscribeItem("sub:other-birth-date", known.bsn, dt.date(1990, 1, 1)),
        second,
    ]

    results = backend.authority.subscribe(batch)

    assert [(r.idempotency_key, r.ok, r.code) for r in results] == [
        (first.idempotency_key, True, "subscribed"),
        ("sub:unknown", False, "unknown_bsn"),
        ("sub:other-birth-date", False, "birth_date_mismatch"),
        (second.idempotency_key, True, "subscribed"),
    ]
    refs = [r.subscription_ref for r in results]
    assert refs[1] is None and refs[2] is None
    assert refs[0] != refs[3]
    assert all(ref.startswith("S-") for ref in (refs[0], refs[3]) if ref)
    assert all(known.bsn not in (r.message or "") for r in results)


def test_subscribing_someone_already_subscribed_adopts_the_existing_reference(
    backend: Backend,
) -> None:
    (person,) = people(1)
    (first,) = backend.authority.subscribe([person])

    (again,) = backend.authority.subscribe([SubscribeItem("sub:again", person.bsn, BORN)])

    assert again == ItemResult("sub:again", True, "already_subscribed", first.subscription_ref)
    assert _all_refs(backend.authority) == [first.subscription_ref]


def test_a_replayed_batch_gets_the_recorded_answers_and_is_applied_once(backend: Backend) -> None:
    batch = [*people(3), SubscribeItem("sub:unknown", UNKNOWN_BSN, BORN)]
    answers = backend.authority.subscribe(batch)
    refs = [r.subscription_ref for r in answers if r.ok]
    leave = [UnsubscribeItem("unsub:0", str(refs[0]))]
    left = backend.authority.unsubscribe(leave)

    assert backend.authority.subscribe(batch) == answers
    assert backend.authority.unsubscribe(leave) == left

    assert backend.applied() == {**{item.idempotency_key: 1 for item in batch}, "unsub:0": 1}
    assert sorted(_all_refs(backend.authority)) == sorted(refs[1:])


def test_unsubscribing_ends_a_subscription_and_an_unknown_reference_is_not_found(
    backend: Backend,
) -> None:
    staying, leaving = backend.authority.subscribe(people(2))

    results = backend.authority.unsubscribe(
        [
            UnsubscribeItem("unsub:leaving", str(leaving.subscription_ref)),
            UnsubscribeItem("unsub:unknown", "S-never-issued"),
        ]
    )
    (twice,) = backend.authority.unsubscribe(
        [UnsubscribeItem("unsub:leaving-again", str(leaving.subscription_ref))]
    )

    assert [(r.ok, r.code) for r in results] == [(True, "unsubscribed"), (True, "not_found")]
    assert (twice.ok, twice.code) == (True, "not_found")
    assert _all_refs(backend.authority) == [staying.subscription_ref]


def test_a_person_subscribed_again_after_leaving_gets_a_new_reference(backend: Backend) -> None:
    (person,) = people(1)
    (first,) = backend.authority.subscribe([person])
    backend.authority.unsubscribe([UnsubscribeItem("unsub:1", str(first.subscription_ref))])

    (second,) = backend.authority.subscribe([SubscribeItem("sub:back", person.bsn, BORN)])

    assert (second.ok, second.code) == (True, "subscribed")
    assert second.subscription_ref != first.subscription_ref
    assert _all_refs(backend.authority) == [second.subscription_ref]


def test_a_batch_larger_than_the_contract_allows_is_sent_in_parts(backend: Backend) -> None:
    batch = people(1_001)

    results = backend.authority.subscribe(batch)

    assert [r.idempotency_key for r in results] == [item.idempotency_key for item in batch]
    assert all(r.code == "subscribed" for r in results)


def test_listing_subscriptions_pages_through_every_active_one_once(backend: Backend) -> None:
    refs = {r.subscription_ref for r in backend.authority.subscribe(people(2 * PAGE_SIZE + 7))}

    pages = _subscription_pages(backend.authority)

    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    listed = [info.subscription_ref for page in pages for info in page]
    assert len(listed) == len(set(listed))
    assert set(listed) == refs
    assert all(info.created_at.tzinfo is not None for page in pages for info in page)


def test_hits_come_in_pages_after_a_cursor_and_never_twice(backend: Backend) -> None:
    (result,) = backend.authority.subscribe(people(1))
    ref = str(result.subscription_ref)
    raised = [backend.raise_hit(ref) for _ in range(PAGE_SIZE + 3)]

    first = backend.authority.fetch_hits()
    second = backend.authority.fetch_hits(first.cursor)
    caught_up = backend.authority.fetch_hits(second.cursor)
    later = backend.raise_hit(ref)
    fresh = backend.authority.fetch_hits(second.cursor)

    assert (len(first.items), first.has_more) == (PAGE_SIZE, True)
    assert (len(second.items), second.has_more) == (3, False)
    assert [h.hit_id for h in first.items + second.items] == raised
    assert all(isinstance(h, HitInfo) and h.subscription_ref == ref for h in first.items)
    assert (caught_up.items, caught_up.cursor, caught_up.has_more) == ((), second.cursor, False)
    assert [h.hit_id for h in fresh.items] == [later]


def test_without_hits_the_feed_is_empty(backend: Backend) -> None:
    page = backend.authority.fetch_hits()

    assert (page.items, page.has_more) == ((), False)
    assert backend.authority.fetch_hits(page.cursor).items == ()


@pytest.mark.parametrize("call", ["list_subscriptions", "fetch_hits"])
def test_a_position_the_authority_never_gave_stops_the_run(backend: Backend, call: str) -> None:
    with pytest.raises(AuthorityMisconfigured):
        getattr(backend.authority, call)("not*a*position")


def _subscription_pages(authority: ScreeningAuthority) -> list[tuple[SubscriptionInfo, ...]]:
    pages = []
    token: str | None = None
    while True:
        page = authority.list_subscriptions(token)
        pages.append(page.items)
        if page.next_page is None:
            return pages
        token = page.next_page


def _all_refs(authority: ScreeningAuthority) -> list[str]:
    return [info.subscription_ref for page in _subscription_pages(authority) for info in page]
