"""The ``http`` adapter: our REST contract (``docs/authority-api.yaml``) over httpx.

The ``httpx.Client`` is injected, so tests script wire faults at the seam. Every httpx
error and every unwanted status is translated here, and only here, into our errors:

* :class:`AuthorityUnavailable` (transient): timeouts, refused connections, 5xx, 408, 429
  (``retry_after`` from the header), and answers we cannot read: a server that sends
  garbage is broken for now, not misconfigured;
* :class:`AuthorityMisconfigured` (stop the run): 401/403, 404 (the base URL is wrong),
  other 4xx (we sent something the authority does not accept), an invalid URL, an
  unsupported scheme, a host name that does not resolve.

The adapter does not retry: retries belong to the caller, which knows what is safe.
Messages name status codes and error codes, never a request body: the body carries BSNs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import httpx

from vogscreen import __version__
from vogscreen.adapters import wire
from vogscreen.domain.errors import (
    AuthorityMisconfigured,
    AuthorityUnavailable,
    ConfigurationError,
    NotFound,
)
from vogscreen.domain.statuses import Operation
from vogscreen.ports.authority import (
    HitPage,
    ItemResult,
    SubscribeItem,
    SubscriptionPage,
    UnsubscribeItem,
)
from vogscreen.runtime.settings import Settings

if TYPE_CHECKING:
    from vogscreen.runtime.bootstrap import App

# Connecting is quick or broken; a batch of a thousand may take the authority a while.
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
ADMIN_HITS_PATH = "/_admin/hits"

_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,49}")
T = TypeVar("T", SubscribeItem, UnsubscribeItem)
R = TypeVar("R")


class HttpAuthority:
    """A :class:`~vogscreen.ports.authority.ScreeningAuthority` speaking our REST contract."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]:
        return self._batches(
            wire.SUBSCRIBE_PATH, Operation.SUBSCRIBE, items, wire.subscribe_request
        )

    def unsubscribe(self, items: Sequence[UnsubscribeItem]) -> list[ItemResult]:
        return self._batches(
            wire.UNSUBSCRIBE_PATH, Operation.UNSUBSCRIBE, items, wire.unsubscribe_request
        )

    def list_subscriptions(self, page: str | None = None) -> SubscriptionPage:
        params = {"page_token": page} if page else None
        body = _json(_send(self._client, "GET", wire.SUBSCRIPTIONS_PATH, params=params))
        return _read(wire.read_subscription_page, body)

    def fetch_hits(self, cursor: str | None = None) -> HitPage:
        params = {"after": cursor} if cursor else None
        body = _json(_send(self._client, "GET", wire.HITS_PATH, params=params))
        return _read(wire.read_hit_page, body)

    def close(self) -> None:
        self._client.close()

    def _batches(
        self,
        path: str,
        operation: str,
        items: Sequence[T],
        encode: Callable[[Sequence[T]], wire.Json],
    ) -> list[ItemResult]:
        # The contract takes at most MAX_BATCH items a request; a longer batch goes in parts.
        results: list[ItemResult] = []
        for start in range(0, len(items), wire.MAX_BATCH):
            chunk = items[start : start + wire.MAX_BATCH]
            keys = [item.idempotency_key for item in chunk]
            response = _send(
                self._client,
                "POST",
                path,
                json=encode(chunk),
                headers={"Idempotency-Key": wire.request_key(operation, keys)},
            )
            results += _read(wire.read_batch_answer, _json(response), keys)
        return results


def build_client(settings: Settings, *, timeout: httpx.Timeout = TIMEOUT) -> httpx.Client:
    """An ``httpx.Client`` for the authority at ``settings.authority_url``."""
    if not settings.authority_url:
        raise ConfigurationError(
            "VOGSCREEN_AUTHORITY=http needs VOGSCREEN_AUTHORITY_URL (the authority's base URL)"
        )
    try:
        url = httpx.URL(settings.authority_url)
    except httpx.InvalidURL:
        raise AuthorityMisconfigured("VOGSCREEN_AUTHORITY_URL is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise AuthorityMisconfigured("VOGSCREEN_AUTHORITY_URL must be an http(s) URL with a host")
    headers = {"Accept": "application/json", "User-Agent": f"vogscreen/{__version__}"}
    if settings.authority_token:
        headers["Authorization"] = f"Bearer {settings.authority_token}"
    return httpx.Client(
        base_url=url, headers=headers, timeout=timeout, verify=_tls_context(settings, url)
    )


def _tls_context(settings: Settings, url: httpx.URL) -> ssl.SSLContext | bool:
    cert, key = settings.authority_client_cert, settings.authority_client_key
    if not cert:
        if key:
            raise ConfigurationError("VOGSCREEN_AUTHORITY_CLIENT_KEY needs ..._CLIENT_CERT too")
        return True
    if url.scheme != "https":
        raise AuthorityMisconfigured("a client certificate (mutual TLS) needs an https URL")
    context = httpx.create_ssl_context()
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"the authority client certificate cannot be loaded: {type(exc).__name__}"
        ) from None
    return context


def create(app: App) -> HttpAuthority:
    """The ``http`` adapter, configured from the ``VOGSCREEN_AUTHORITY_*`` settings."""
    return HttpAuthority(build_client(app.settings))


def admin_raise_hit(client: httpx.Client, subscription_ref: str) -> str:
    """Ask the mock authority server for a hit (its admin API, not the contract)."""
    response = _request(
        client, "POST", ADMIN_HITS_PATH, json={"subscription_ref": subscription_ref}
    )
    if response.status_code == 404:
        raise NotFound(f"the mock authority has no active subscription {subscription_ref}")
    _check_status(response)
    hit_id = _json(response).get("hit_id")
    if not isinstance(hit_id, str):
        _malformed()
    return hit_id


# -- the boundary: httpx in, our errors out -----------------------------------------------


def _send(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = _request(client, method, path, **kwargs)
    _check_status(response)
    return response


def _request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.TimeoutException as exc:
        raise AuthorityUnavailable(f"the authority did not answer in time ({_name(exc)})") from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise AuthorityMisconfigured(f"the authority URL is unusable ({_name(exc)})") from exc
    except httpx.ConnectError as exc:
        if _unresolvable(exc):
            raise AuthorityMisconfigured(
                "the authority's host name does not resolve: check VOGSCREEN_AUTHORITY_URL"
            ) from exc
        raise AuthorityUnavailable("the authority refused or dropped the connection") from exc
    except httpx.TransportError as exc:
        raise AuthorityUnavailable(
            f"the connection to the authority failed ({_name(exc)})"
        ) from exc
    return response


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    retry_after = _retry_after(response.headers)
    if status == 429:
        raise AuthorityUnavailable("the authority asks us to slow down (HTTP 429)", retry_after)
    if status >= 500 or status == 408:
        raise AuthorityUnavailable(f"the authority failed (HTTP {status})", retry_after)
    if status in (401, 403):
        raise AuthorityMisconfigured(
            f"the authority refused our credentials (HTTP {status}): check the token or "
            "client certificate"
        )
    if status == 404:
        raise AuthorityMisconfigured(
            "the authority answered HTTP 404: check VOGSCREEN_AUTHORITY_URL"
        )
    raise AuthorityMisconfigured(
        f"the authority refused the request (HTTP {status}{_error_code(response)})"
    )


def _error_code(response: httpx.Response) -> str:
    # Only a code that looks like one: a server might echo what we sent, BSNs included.
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f": {code}" if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _unresolvable(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _name(exc: BaseException) -> str:
    return type(exc).__name__


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except ValueError:
        _malformed()
    if not isinstance(data, dict):
        _malformed()
    return data


def _malformed() -> NoReturn:
    raise AuthorityUnavailable("the authority sent a malformed answer")


def _read(read: Callable[..., R], *args: Any) -> R:
    try:
        return read(*args)
    except wire.WireError:
        _malformed()
