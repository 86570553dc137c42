"""The written contract (docs/authority-api.yaml) agrees with the adapter and the server.

The document is checked as OpenAPI 3.1; the server serves exactly its paths; what the
http adapter sends and what the server answers validate against its schemas.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from pytest_httpx import HTTPXMock
from starlette.routing import Route

from tests.authority_server import RunningServer, running_server
from vogscreen.adapters.http import HttpAuthority
from vogscreen.adapters.server import Faults
from vogscreen.adapters.wire import request_key
from vogscreen.ports.authority import SubscribeItem, UnsubscribeItem

DOC = Path(__file__).resolve().parents[2] / "docs" / "authority-api.yaml"
BORN = dt.date(1984, 3, 14)


@functools.cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOC.read_text(encoding="utf-8"))
    return loaded


def problems(schema: str, value: Any) -> list[str]:
    validator = OAS31Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": spec()["components"]},
        format_checker=OAS31Validator.FORMAT_CHECKER,
    )
    return [error.message for error in validator.iter_errors(value)]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


def test_the_contract_is_a_valid_openapi_3_1_document() -> None:
    validate(spec())
    assert spec()["openapi"].startswith("3.1")


def test_the_server_serves_exactly_the_documented_paths(server: RunningServer) -> None:
    served = {
        (route.path, method)
        for route in server.server.app.routes
        if isinstance(route, Route) and route.path.startswith("/v1/")
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (path, method.upper()) for path, item in spec()["paths"].items() for method in item
    }
    assert served == documented


def test_what_the_adapter_sends_follows_the_request_schemas(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"items": [_answer("k1"), _answer("k2")]})
    httpx_mock.add_response(json={"items": [_answer("u1")]})
    authority = HttpAuthority(httpx.Client(base_url="https://authority.test/"))

    authority.subscribe(
        [SubscribeItem("k1", "123456782", BORN), SubscribeItem("k2", "111222333", BORN)]
    )
    authority.unsubscribe([UnsubscribeItem("u1", "S-1")])

    subscribe, unsubscribe = httpx_mock.get_requests()
    for request, schema in ((subscribe, "SubscribeItem"), (unsubscribe, "UnsubscribeItem")):
        body = json.loads(request.content)
        assert set(body) == {"items"}
        assert [p for item in body["items"] for p in problems(schema, item)] == []
    assert subscribe.headers["Idempotency-Key"] == request_key("subscribe", ["k1", "k2"])


def test_what_the_server_answers_follows_the_response_schemas(server: RunningServer) -> None:
    server.reset()
    with httpx.Client(base_url=server.url) as client:
        subscribed = client.post(
            "/v1/subscriptions:batchCreate",
            headers={"Idempotency-Key": "a" * 64},
            json={
                "items": [
                    {"idempotency_key": "k1", "bsn": "123456782", "birth_date": "1984-03-14"},
                    {"idempotency_key": "k2", "bsn": "999999990", "birth_date": "1984-03-14"},
                ]
            },
        ).json()
        ref = subscribed["items"][0]["subscription_ref"]
        server.raise_hit(ref)
        answers = {
            "BatchAnswer": subscribed,
            "SubscriptionPage": client.get("/v1/subscriptions").json(),
            "HitPage": client.get("/v1/hits").json(),
        }
        unsubscribed = client.post(
            "/v1/subscriptions:batchDelete",
            headers={"Idempotency-Key": "b" * 64},
            json={"items": [{"idempotency_key": "u1", "subscription_ref": ref}]},
        ).json()

    assert {name: problems(name, body) for name, body in answers.items()} == {
        name: [] for name in answers
    }
    assert problems("BatchAnswer", unsubscribed) == []
    assert answers["HitPage"]["items"] and answers["SubscriptionPage"]["items"]


@pytest.mark.parametrize(
    ("request_args", "status", "error"),
    [
        ({"json": {"items": []}}, 400, "missing_idempotency_key"),
        ({"json": {"items": "x"}, "headers": {"Idempotency-Key": "c" * 64}}, 422, "invalid_body"),
        (
            {
                "json": {"items": [{"idempotency_key": "k", "bsn": "12", "birth_date": "x"}]},
                "headers": {"Idempotency-Key": "c" * 64},
            },
            422,
            "invalid_item",
        ),
        ({"content": b"{", "headers": {"Idempotency-Key": "c" * 64}}, 400, "invalid_json"),
    ],
    ids=["no-request-key", "items-not-a-list", "bad-item", "not-json"],
)
def test_a_request_outside_the_contract_gets_a_documented_error(
    server: RunningServer, request_args: dict[str, Any], status: int, error: str
) -> None:
    server.reset()
    with httpx.Client(base_url=server.url) as client:
        response = client.post("/v1/subscriptions:batchCreate", **request_args)

    assert (response.status_code, response.json()["error"]) == (status, error)
    assert problems("Error", response.json()) == []
    assert "12" not in response.json()["detail"]
    assert server.stats()["keys"] == 0


def test_a_rate_limited_answer_carries_retry_after_and_a_documented_error(
    server: RunningServer,
) -> None:
    server.reset(Faults(rate_limit=1))
    with httpx.Client(base_url=server.url) as client:
        responses = [client.get("/v1/hits") for _ in range(3)]

    limited = [r for r in responses if r.status_code == 429]
    assert limited and limited[0].headers["Retry-After"] == "1"
    assert problems("Error", limited[0].json()) == []


def _answer(key: str) -> dict[str, Any]:
    return {"idempotency_key": key, "ok": True, "code": "subscribed", "subscription_ref": "S-1"}
