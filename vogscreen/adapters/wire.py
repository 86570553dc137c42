"""The JSON shapes of our REST contract (``docs/authority-api.yaml``), both ways.

The http adapter writes requests and reads answers; the mock authority server reads
requests and writes answers. Both use these functions, so the two ends cannot drift
apart. Reading raises :class:`WireError`: the adapter takes it for a malformed answer,
the server for an invalid request (422). A detail names an item by position, never by
value: the value may be a BSN.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from vogscreen.domain.statuses import AnswerField
from vogscreen.ports.authority import (
    HitInfo,
    HitPage,
    ItemResult,
    SubscribeItem,
    SubscriptionInfo,
    SubscriptionPage,
    UnsubscribeItem,
)

MAX_BATCH = 1000
MAX_KEY = 100

SUBSCRIBE_PATH = "/v1/subscriptions:batchCreate"
UNSUBSCRIBE_PATH = "/v1/subscriptions:batchDelete"
SUBSCRIPTIONS_PATH = "/v1/subscriptions"
HITS_PATH = "/v1/hits"

Json = dict[str, Any]


class WireError(ValueError):
    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


def request_key(operation: str, item_keys: Iterable[str]) -> str:
    """The ``Idempotency-Key`` header: a retried batch sends the same value again."""
    digest = hashlib.sha256(operation.encode())
    for key in item_keys:
        digest.update(b"\n" + key.encode())
    return digest.hexdigest()


# -- requests -----------------------------------------------------------------------------


def subscribe_request(items: Sequence[SubscribeItem]) -> Json:
    return {
        "items": [
            {
                "idempotency_key": item.idempotency_key,
                "bsn": item.bsn,
                "birth_date": item.birth_date.isoformat(),
            }
            for item in items
        ]
    }


def unsubscribe_request(items: Sequence[UnsubscribeItem]) -> Json:
    return {
        "items": [
            {"idempotency_key": item.idempotency_key, "subscription_ref": item.subscription_ref}
            for item in items
        ]
    }


def read_subscribe_request(body: Any) -> list[SubscribeItem]:
    items = []
    for index, entry in enumerate(_entries(body)):
        bsn, birth_date = entry.get("bsn"), entry.get("birth_date")
        if not (isinstance(bsn, str) and len(bsn) == 9 and bsn.isascii() and bsn.isdigit()):
            raise WireError("invalid_item", f"item {index}: bsn must be nine digits")
        try:
            born = dt.date.fromisoformat(_str(birth_date))
        except (TypeError, ValueError):
            raise WireError(
                "invalid_item", f"item {index}: birth_date must be YYYY-MM-DD"
            ) from None
        items.append(SubscribeItem(_key(entry, index), bsn, born))
    return items


def read_unsubscribe_request(body: Any) -> list[UnsubscribeItem]:
    items = []
    for index, entry in enumerate(_entries(body)):
        ref = entry.get("subscription_ref")
        if not (isinstance(ref, str) and 0 < len(ref) <= MAX_KEY):
            raise WireError("invalid_item", f"item {index}: subscription_ref is missing")
        items.append(UnsubscribeItem(_key(entry, index), ref))
    return items


def _entries(body: Any) -> list[Json]:
    entries = body.get("items") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise WireError("invalid_body", "the body must be an object with a list of items")
    if len(entries) > MAX_BATCH:
        raise WireError("too_many_items", f"at most {MAX_BATCH} items per request")
    return entries


def _key(entry: Json, index: int) -> str:
    key = entry.get("idempotency_key")
    if not (isinstance(key, str) and 0 < len(key) <= MAX_KEY):
        raise WireError("invalid_item", f"item {index}: idempotency_key is missing or too long")
    return key


# -- answers ------------------------------------------------------------------------------


def batch_answer(results: Iterable[ItemResult]) -> Json:
    return {
        "items": [
            {
                "idempotency_key": result.idempotency_key,
                "ok": result.ok,
                "code": result.code,
                "subscription_ref": result.subscription_ref,
                "message": result.message,
            }
            for result in results
        ]
    }


def subscription_page(page: SubscriptionPage) -> Json:
    return {
        "items": [
            {"subscription_ref": info.subscription_ref, "created_at": _iso(info.created_at)}
            for info in page.items
        ],
        "next_page": page.next_page,
    }


def hit_page(page: HitPage) -> Json:
    return {
        "items": [
            {
                "hit_id": hit.hit_id,
                "subscription_ref": hit.subscription_ref,
                "raised_at": _iso(hit.raised_at),
            }
            for hit in page.items
        ],
        "cursor": page.cursor,
        "has_more": page.has_more,
    }


def read_batch_answer(body: Any, keys: Sequence[str]) -> list[ItemResult]:
    """The answers in the order of ``keys``; the authority may answer in any order."""
    try:
        answers = {result.idempotency_key: result for result in map(_item_result, _items(body))}
        return [answers[key] for key in keys]
    except (KeyError, TypeError, ValueError):
        raise WireError("malformed", "a batch answer without an answer per item") from None


def read_subscription_page(body: Any) -> SubscriptionPage:
    try:
        return SubscriptionPage(
            items=tuple(
                SubscriptionInfo(_str(entry["subscription_ref"]), _time(entry["created_at"]))
                for entry in _items(body)
            ),
            next_page=_optional_str(body["next_page"]),
        )
    except (KeyError, TypeError, ValueError):
        raise WireError("malformed", "a malformed page of subscriptions") from None


def read_hit_page(body: Any) -> HitPage:
    try:
        return HitPage(
            items=tuple(
                HitInfo(
                    _str(entry["hit_id"]),
                    _str(entry["subscription_ref"]),
                    _time(entry["raised_at"]),
                )
                for entry in _items(body)
            ),
            cursor=_str(body["cursor"]),
            has_more=_bool(body["has_more"]),
        )
    except (KeyError, TypeError, ValueError):
        raise WireError("malformed", "a malformed page of hits") from None


def _item_result(entry: Any) -> ItemResult:
    return ItemResult(
        idempotency_key=_str(entry["idempotency_key"]),
        ok=_bool(entry[AnswerField.OK]),
        code=_str(entry["code"]),
        subscription_ref=_optional_str(entry.get("subscription_ref")),
        message=_optional_str(entry.get("message")),
    )


# -- values -------------------------------------------------------------------------------


def _items(body: Any) -> list[Any]:
    items = body["items"]
    if not isinstance(items, list):
        raise TypeError("not a list")
    return items


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a boolean")
    return value


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _time(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(_str(value))
    if moment.tzinfo is None:
        raise ValueError("a timestamp without an offset")
    return moment.astimezone(dt.UTC)
