"""Wire faults at the seam: what each one becomes at the port.

pytest-httpx scripts the faults for the unit tests; the last tests run the http adapter
against the mock authority server with its fault injection switched on, on loopback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_none

from tests.authority_server import RunningServer, free_port, running_server
from vogscreen.adapters.http import HttpAuthority, build_client
from vogscreen.adapters.server import Faults
from vogscreen.adapters.wire import request_key
from vogscreen.domain.errors import (
    AuthorityError,
    AuthorityMisconfigured,
    AuthorityUnavailable,
    ConfigurationError,
)
from vogscreen.ports.authority import SubscribeItem, UnsubscribeItem
from vogscreen.runtime.settings import Settings
from vogscreen.testing import bsn_stream

BASE = "https://authority.test/api"
SUBSCRIBE_URL = BASE + "/v1/subscriptions:batchCreate"
BSN = "123456782"
BORN = dt.date(1984, 3, 14)
ITEMS = [SubscribeItem("k1", BSN, BORN), SubscribeItem("k2", "111222333", BORN)]


@pytest.fixture
def authority() -> Iterator[HttpAuthority]:
    adapter = HttpAuthority(httpx.Client(base_url=BASE, timeout=2))
    yield adapter
    adapter.close()


def answer(key: str, code: str = "subscribed", ok: bool = True) -> dict[str, Any]:
    return {"idempotency_key": key, "ok": ok, "code": code, "subscription_ref": "S-" + key}


def subscribe_error(authority: HttpAuthority) -> AuthorityError:
    with pytest.raises(AuthorityError) as caught:
        authority.subscribe(ITEMS)
    assert BSN not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    "exception",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.PoolTimeout("no connection free"),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.RemoteProtocolError("server disconnected without sending a response"),
    ],
    ids=type,
)
def test_timeouts_and_broken_connections_are_transient(
    authority: HttpAuthority, httpx_mock: HTTPXMock, exception: Exception
) -> None:
    httpx_mock.add_exception(exception)

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityUnavailable)
    assert error.retry_after is None


def test_a_host_name_that_does_not_resolve_stops_the_run(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    unresolvable = httpx.ConnectError("[Errno -2] Name or service not known")
    unresolvable.__cause__ = socket.gaierror(-2, "Name or service not known")
    httpx_mock.add_exception(unresolvable)

    assert isinstance(subscribe_error(authority), AuthorityMisconfigured)


def test_an_unsupported_scheme_stops_the_run(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))

    assert isinstance(subscribe_error(authority), AuthorityMisconfigured)


def test_a_refused_connection_on_loopback_is_transient() -> None:
    adapter = HttpAuthority(httpx.Client(base_url=f"http://127.0.0.1:{free_port()}", timeout=2))

    with pytest.raises(AuthorityUnavailable, match="refused"):
        adapter.fetch_hits()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_transient(
    authority: HttpAuthority, httpx_mock: HTTPXMock, status: int
) -> None:
    httpx_mock.add_response(status_code=status, text="upstream trouble")

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityUnavailable)
    assert f"HTTP {status}" in str(error)


def test_a_503_with_retry_after_says_when_to_come_back(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=503, headers={"Retry-After": "120"})

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityUnavailable)
    assert error.retry_after == 120.0


def test_429_surfaces_retry_after_in_seconds(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "7"})

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityUnavailable)
    assert error.retry_after == 7.0


def test_429_with_an_http_date_surfaces_the_seconds_until_then(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)
    httpx_mock.add_response(
        status_code=429, headers={"Retry-After": email.utils.format_datetime(when, usegmt=True)}
    )

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityUnavailable)
    assert error.retry_after is not None and 80 <= error.retry_after <= 90


def test_429_without_a_usable_retry_after_is_still_transient(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "soon"})

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityUnavailable)
    assert error.retry_after is None


@pytest.mark.parametrize("status", [401, 403, 404])
def test_refused_credentials_or_a_wrong_base_url_stop_the_run(
    authority: HttpAuthority, httpx_mock: HTTPXMock, status: int
) -> None:
    httpx_mock.add_response(status_code=status, json={"error": "nope"})

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityMisconfigured)
    assert f"HTTP {status}" in str(error)


def test_a_refused_request_names_the_error_code_but_never_echoes_the_body(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=422, json={"error": "invalid_item", "detail": BSN})
    error = subscribe_error(authority)
    assert str(error) == "the authority refused the request (HTTP 422: invalid_item)"

    httpx_mock.add_response(status_code=400, json={"error": f"bad bsn {BSN}"})
    assert str(subscribe_error(authority)) == "the authority refused the request (HTTP 400)"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        b"[]",
        b'{"answers": []}',
        b'{"items": "none"}',
        b'{"items": [{"idempotency_key": "k1", "ok": true, "code": "subscribed"}]}',
        b'{"items": [{"idempotency_key": "k1", "ok": "yes", "code": "subscribed"}, '
        b'{"idempotency_key": "k2", "ok": true, "code": "subscribed"}]}',
    ],
    ids=[
        "not-json",
        "not-an-object",
        "no-items",
        "items-not-a-list",
        "an-item-missing",
        "bad-type",
    ],
)
def test_a_malformed_answer_is_transient_and_says_so(
    authority: HttpAuthority, httpx_mock: HTTPXMock, body: bytes
) -> None:
    httpx_mock.add_response(content=body, headers={"Content-Type": "application/json"})

    error = subscribe_error(authority)

    assert isinstance(error, AuthorityUnavailable)
    assert "malformed" in str(error)


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("list_subscriptions", {"items": [{"subscription_ref": "S-1", "created_at": "yesterday"}]}),
        ("list_subscriptions", {"items": [{"subscription_ref": "S-1"}], "next_page": None}),
        ("fetch_hits", {"items": [], "has_more": False}),
        ("fetch_hits", {"items": [{"hit_id": "H-1"}], "cursor": "1", "has_more": False}),
    ],
)
def test_a_malformed_page_is_transient(
    authority: HttpAuthority, httpx_mock: HTTPXMock, call: str, body: dict[str, Any]
) -> None:
    httpx_mock.add_response(json=body)

    with pytest.raises(AuthorityUnavailable, match="malformed"):
        getattr(authority, call)()


def test_a_batch_where_some_items_fail_maps_each_answer_to_its_item(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    items = [*ITEMS, SubscribeItem("k3", "999999990", BORN)]
    # The authority may answer in any order; results follow the request's order.
    httpx_mock.add_response(
        json={
            "items": [
                {"idempotency_key": "k3", "ok": False, "code": "unknown_bsn", "message": "unknown"},
                answer("k1"),
                {**answer("k2", "birth_date_mismatch", ok=False), "subscription_ref": None},
            ]
        }
    )

    results = authority.subscribe(items)

    assert [(r.idempotency_key, r.ok, r.code) for r in results] == [
        ("k1", True, "subscribed"),
        ("k2", False, "birth_date_mismatch"),
        ("k3", False, "unknown_bsn"),
    ]
    assert results[0].subscription_ref == "S-k1"
    assert results[2].message == "unknown"


def test_every_write_carries_item_keys_and_a_request_key_derived_from_them(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=SUBSCRIBE_URL, json={"items": [answer("k1"), answer("k2")]})
    httpx_mock.add_response(
        url=BASE + "/v1/subscriptions:batchDelete",
        json={"items": [answer("u1", "unsubscribed")]},
    )

    authority.subscribe(ITEMS)
    authority.unsubscribe([UnsubscribeItem("u1", "S-k1")])

    subscribe, unsubscribe = httpx_mock.get_requests()
    assert subscribe.headers["Idempotency-Key"] == request_key("subscribe", ["k1", "k2"])
    assert unsubscribe.headers["Idempotency-Key"] == request_key("unsubscribe", ["u1"])
    assert request_key("subscribe", ["k1", "k2"]) != request_key("unsubscribe", ["k1", "k2"])
    assert b'"idempotency_key":"k1"' in subscribe.content.replace(b" ", b"")
    assert b'"birth_date":"1984-03-14"' in subscribe.content.replace(b" ", b"")


def test_pages_and_cursors_are_passed_as_query_parameters(
    authority: HttpAuthority, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=BASE + "/v1/subscriptions?page_token=abc",
        json={
            "items": [{"subscription_ref": "S-1", "created_at": "2026-06-01T09:00:00+02:00"}],
            "next_page": None,
        },
    )
    httpx_mock.add_response(
        url=BASE + "/v1/hits?after=41",
        json={
            "items": [
                {"hit_id": "H-1", "subscription_ref": "S-1", "raised_at": "2026-06-01T07:00:00Z"}
            ],
            "cursor": "42",
            "has_more": False,
        },
    )

    page = authority.list_subscriptions("abc")
    hits = authority.fetch_hits("41")

    assert page.items[0].created_at == dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)
    assert (hits.items[0].hit_id, hits.cursor, hits.has_more) == ("H-1", "42", False)


# -- building the client from settings -----------------------------------------------------


def test_the_client_sends_the_bearer_token_and_has_explicit_timeouts(
    settings: Settings, httpx_mock: HTTPXMock
) -> None:
    configured = dataclasses.replace(settings, authority_url=BASE, authority_token="s3cret")
    httpx_mock.add_response(json={"items": [], "cursor": "0", "has_more": False})

    with build_client(configured) as client:
        HttpAuthority(client).fetch_hits()
        assert client.timeout.connect == 5.0 and client.timeout.read == 30.0

    assert httpx_mock.get_requests()[0].headers["Authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("url", ["ftp://authority.test/", "authority.test/api", "http://"])
def test_an_unusable_authority_url_stops_the_run(settings: Settings, url: str) -> None:
    with pytest.raises(AuthorityMisconfigured):
        build_client(dataclasses.replace(settings, authority_url=url))


def test_the_http_adapter_needs_a_url(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="VOGSCREEN_AUTHORITY_URL"):
        build_client(dataclasses.replace(settings, authority_url=None))


def test_a_client_certificate_needs_https_and_a_readable_file(
    settings: Settings, tmp_path: Path
) -> None:
    missing = str(tmp_path / "client.pem")
    with pytest.raises(AuthorityMisconfigured, match="https"):
        build_client(
            dataclasses.replace(
                settings, authority_url=BASE.replace("https", "http"), authority_client_cert=missing
            )
        )
    with pytest.raises(ConfigurationError, match="certificate"):
        build_client(
            dataclasses.replace(settings, authority_url=BASE, authority_client_cert=missing)
        )


def test_a_client_certificate_and_key_are_loaded_for_mutual_tls(
    settings: Settings, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    configured = dataclasses.replace(
        settings, authority_url=BASE, authority_client_cert=cert, authority_client_key=key
    )

    with build_client(configured) as client:
        assert client.base_url == httpx.URL(BASE + "/")


def _self_signed(directory: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vogscreen test client")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    cert_path, key_path = directory / "client.crt", directory / "client.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


# -- against the mock authority server, faults switched on ---------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


def people(count: int) -> list[SubscribeItem]:
    numbers = (n for n in bsn_stream(7) if not n.startswith("999"))
    return [SubscribeItem(f"sub:{i}", next(numbers), BORN) for i in range(count)]


def test_through_injected_faults_retries_converge_and_each_key_is_applied_once(
    server: RunningServer,
) -> None:
    server.reset(Faults(fail_rate=0.3, seed=7, hang_seconds=10))
    # A short read timeout, so a hung answer costs little; the caller's retry replays it.
    client = httpx.Client(base_url=server.url, timeout=httpx.Timeout(0.5, connect=2))
    authority = HttpAuthority(client)
    retrying = Retrying(
        retry=retry_if_exception_type(AuthorityUnavailable),
        stop=stop_after_attempt(20),
        wait=wait_none(),
        reraise=True,
    )
    items = people(600)

    subscribed = [
        r for s in range(0, 600, 100) for r in retrying(authority.subscribe, items[s : s + 100])
    ]
    leave = [
        UnsubscribeItem(f"unsub:{r.idempotency_key}", str(r.subscription_ref))
        for r in subscribed[:300]
    ]
    left = [
        r for s in range(0, 300, 100) for r in retrying(authority.unsubscribe, leave[s : s + 100])
    ]
    authority.close()

    stats = server.stats()
    assert {r.code for r in subscribed} == {"subscribed"}
    assert {r.code for r in left} == {"unsubscribed"}
    assert stats["applied"] == {item.idempotency_key: 1 for item in [*items, *leave]}
    # Both kinds of fault happened: refused before the work, and answer lost after it.
    assert stats["faults"].get("hang") and set(stats["faults"]) - {"hang"}
    assert stats["replayed_requests"] >= 1


def test_the_server_rate_limit_reaches_the_caller_as_retry_after(server: RunningServer) -> None:
    server.reset(Faults(rate_limit=1))
    authority = HttpAuthority(httpx.Client(base_url=server.url, timeout=5))

    with pytest.raises(AuthorityUnavailable) as caught:
        for _ in range(5):
            authority.fetch_hits()
    authority.close()

    assert caught.value.retry_after == 1.0
    assert server.stats()["rate_limited"] == 1


@pytest.mark.parametrize(
    ("token", "status"), [(None, "HTTP 401"), ("wrong", "HTTP 403")], ids=["none", "wrong"]
)
def test_a_server_that_wants_a_token_refuses_others_and_the_run_stops(
    settings: Settings, token: str | None, status: str
) -> None:
    with running_server(token="s3cret") as guarded:
        configured = dataclasses.replace(settings, authority_url=guarded.url, authority_token=token)
        authority = HttpAuthority(build_client(configured))
        with pytest.raises(AuthorityMisconfigured, match=status):
            authority.fetch_hits()
        authority.close()

        right = dataclasses.replace(configured, authority_token="s3cret")
        with build_client(right) as client:
            assert HttpAuthority(client).fetch_hits().items == ()
