"""The port to the screening authority: what every adapter must do.

Only these frozen dataclasses and the errors in :mod:`vogscreen.domain.errors` cross the port:
never httpx types, never ORM rows. Calls are batch-shaped. Adapters are found by name in
the entry-point group ``vogscreen.adapters`` (``mock`` and ``http`` ship with vogscreen).

Errors:

* :class:`~vogscreen.domain.errors.AuthorityUnavailable` for the whole call: transient
  (timeout, 5xx, 429 with ``retry_after``); the caller retries later.
* :class:`~vogscreen.domain.errors.AuthorityMisconfigured`: 401/403 or a bad URL; stop.
* A refused *item* (unknown BSN, birth date mismatch) is not raised: it comes back as an
  :class:`ItemResult` with ``ok=False``, so one bad item never fails its batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SubscribeItem:
    """Register one person. ``bsn`` is kept out of ``repr`` so it never reaches a log."""

    idempotency_key: str
    bsn: str = field(repr=False)
    birth_date: dt.date = field(repr=False)


@dataclass(frozen=True)
class UnsubscribeItem:
    idempotency_key: str
    subscription_ref: str


@dataclass(frozen=True)
class ItemResult:
    """The authority's answer for one item of a batch.

    ``code`` is one of ``subscribed``, ``already_subscribed`` (adopt ``subscription_ref``),
    ``unsubscribed``, ``not_found`` (unsubscribing something unknown: success),
    ``unknown_bsn`` or ``birth_date_mismatch`` (refused: ``ok`` is False).
    """

    idempotency_key: str
    ok: bool
    code: str
    subscription_ref: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class SubscriptionInfo:
    subscription_ref: str
    created_at: dt.datetime


@dataclass(frozen=True)
class SubscriptionPage:
    items: tuple[SubscriptionInfo, ...]
    next_page: str | None


@dataclass(frozen=True)
class HitInfo:
    """A signal: a new relevant record for a subscription. It carries no offence detail."""

    hit_id: str
    subscription_ref: str
    raised_at: dt.datetime


@dataclass(frozen=True)
class HitPage:
    items: tuple[HitInfo, ...]
    cursor: str
    has_more: bool


@runtime_checkable
class ScreeningAuthority(Protocol):
    """What vogscreen needs from the screening authority."""

    def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]: ...

    def unsubscribe(self, items: Sequence[UnsubscribeItem]) -> list[ItemResult]: ...

    def list_subscriptions(self, page: str | None = None) -> SubscriptionPage: ...

    def fetch_hits(self, cursor: str | None = None) -> HitPage: ...

    def close(self) -> None: ...
