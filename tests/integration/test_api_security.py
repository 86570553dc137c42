"""Security of every API endpoint: no token or a wrong or revoked one is 401, another
board's token is 404 (as for a thing that does not exist), and a body over the limit is
refused before it has been read whole."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api_helpers import PROBLEM, bearer, csv_file, portal_client
from tests.asgi import run_apart
from tests.followup_helpers import BOARD_A, BOARD_B, raise_hit, two_boards_with_a_shared_teacher
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.board_portal import cases_of, history, revoke_token
from vogscreen.pipeline.hits import poll
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import fake_employees
from vogscreen.web.app import create_app


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {board}, {staff_list_id} and {reference}
    body: dict[str, Any] | None = None  # keyword arguments of the request
    reads_body: bool = False

    def url(self, board: str, staff_list_id: int = 1, reference: str = "VS-00000-000001") -> str:
        return self.path.format(board=board, staff_list_id=staff_list_id, reference=reference)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


V1 = "/api/v1/boards/{board}"
UPLOAD = {"files": csv_file(fake_employees(3))}
ENDPOINTS = [
    Endpoint("POST", V1 + "/staff-lists", UPLOAD, reads_body=True),
    Endpoint("GET", V1),
    Endpoint("GET", V1 + "/staff-lists"),
    Endpoint("GET", V1 + "/staff-lists/{staff_list_id}"),
    Endpoint("POST", V1 + "/staff-lists/{staff_list_id}/confirm", {"json": {}}, reads_body=True),
    Endpoint(
        "POST",
        V1 + "/staff-lists/{staff_list_id}/reject",
        {"json": {"reason": "nee"}},
        reads_body=True,
    ),
    Endpoint("GET", V1 + "/staff"),
    Endpoint("GET", V1 + "/cases"),
    Endpoint(
        "POST",
        V1 + "/cases/{reference}/resolve",
        {"json": {"outcome": "other"}},
        reads_body=True,
    ),
]


def test_the_list_covers_every_endpoint_of_the_api(app: App) -> None:
    # FastAPI includes routers lazily: the API document lists what the app serves.
    routes = {
        (method.upper(), path)
        for path, operations in create_app(app).openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    }
    assert routes == {(e.method, e.path) for e in ENDPOINTS}


def call(client: TestClient, endpoint: Endpoint, url: str, **headers: str) -> Any:
    return client.request(endpoint.method, url, headers=headers, **(endpoint.body or {}))


def assert_unauthorized(answer: Any) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["title"] == "Niet aangemeld" and answer.json()["status"] == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_no_token_or_a_wrong_one_gets_401(
    app: App, board: str, portal: TestClient, endpoint: Endpoint
) -> None:
    url = endpoint.url(board)
    assert_unauthorized(call(portal, endpoint, url))
    assert_unauthorized(call(portal, endpoint, url, Authorization="Bearer vgs_not-a-token"))
    assert_unauthorized(call(portal, endpoint, url, Authorization="Basic aHI6Z2VoZWlt"))
    assert_unauthorized(call(portal, endpoint, url, Authorization="Bearer"))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_revoked_token_gets_401(
    app: App, board: str, portal: TestClient, endpoint: Endpoint
) -> None:
    token = bearer(app, board)
    before = call(portal, endpoint, endpoint.url(board), **token)
    assert before.status_code not in (401, 500), before.text
    token_id = portal_token_id(app, board)
    revoke_token(app, board, token_id, "hr@testscholen.nl")
    assert_unauthorized(call(portal, endpoint, endpoint.url(board), **token))


def portal_token_id(app: App, board: str) -> int:
    from vogscreen.pipeline.tokens import list_tokens

    (view,) = [view for view in list_tokens(app, board) if view.active]
    return view.id


@pytest.fixture
def two_boards(app: App, mock: MockAuthority, tmp_path: Path) -> tuple[int, str]:
    """Boards A and B; A has a staff list and an open case. Returns A's list and case."""
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[1].personeelsnummer)
    poll(app, mock)
    (listed,) = history(app, BOARD_A)
    (case,) = cases_of(app, BOARD_A, only_open=True)
    return listed["id"], case["reference"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_another_boards_token_gets_404_as_for_what_does_not_exist(
    app: App, portal: TestClient, two_boards: tuple[int, str], endpoint: Endpoint
) -> None:
    staff_list_id, reference = two_boards
    url = endpoint.url(BOARD_A, staff_list_id, reference)
    answer = call(portal, endpoint, url, **bearer(app, BOARD_B))
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == PROBLEM
    # The same answer as for a board that does not exist at all.
    missing = call(portal, endpoint, endpoint.url("99999"), **bearer(app, BOARD_B))
    assert answer.json() == missing.json()
    # And board A's own token does reach it: the 404 is the other board's.
    own = call(portal, endpoint, url, **bearer(app, BOARD_A))
    assert own.status_code != 404, own.text


# -- the body limit, driven through ASGI so that every chunk read is counted --------------

CHUNK = 16 * 1024
CHUNKS = 40  # 640 KiB, over the limit below (1 KiB of file plus the multipart allowance)


@dataclass
class Sent:
    status: int | None = None
    content_type: str | None = None
    read: int = 0  # chunks of the body the app asked for


# A multipart body that is well formed as far as it goes: a file part that never ends.
MULTIPART_START = (
    b"--xyz\r\n"
    b'Content-Disposition: form-data; name="file"; filename="groot.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\n"
)


def drive(
    asgi: Any, endpoint: Endpoint, url: str, headers: dict[str, str], first: bytes = b""
) -> Sent:
    sent = Sent()

    async def receive() -> dict[str, Any]:
        if sent.read < CHUNKS:
            sent.read += 1
            return {
                "type": "http.request",
                "body": (first if sent.read == 1 else b"") + b"x" * CHUNK,
                "more_body": sent.read < CHUNKS,
            }
        await asyncio.sleep(3600)  # the client waits for the answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
            sent.content_type = dict(message["headers"]).get(b"content-type", b"").decode()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": endpoint.method,
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    run_apart(asyncio.wait_for(asgi(scope, receive, send), timeout=30))
    return sent


@pytest.fixture
def small_limit(app: App, board: str) -> Iterator[tuple[Any, dict[str, str]]]:
    with portal_client(app, max_upload_bytes=1024) as client:
        yield client.app, bearer(app, board)


CONTENT_TYPES = {
    True: "multipart/form-data; boundary=xyz",
    False: "application/json",
}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("length", ["honest", "understated", "missing"])
def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(
    app: App,
    board: str,
    small_limit: tuple[Any, dict[str, str]],
    endpoint: Endpoint,
    length: str,
) -> None:
    asgi, token = small_limit
    multipart = endpoint.path.endswith("/staff-lists")
    headers = {**token, "Content-Type": CONTENT_TYPES[multipart]}
    if length == "honest":
        headers["Content-Length"] = str(CHUNK * CHUNKS)
    elif length == "understated":
        headers["Content-Length"] = "100"
    else:
        headers["Transfer-Encoding"] = "chunked"
    first = MULTIPART_START if multipart else b'{"reason": "'
    sent = drive(asgi, endpoint, endpoint.url(board), headers, first)
    assert sent.read < CHUNKS  # never read whole
    if length == "honest":
        assert (sent.status, sent.read) == (413, 0)  # refused on its Content-Length alone
    elif endpoint.reads_body:
        assert (sent.status, sent.content_type) == (413, PROBLEM)
        assert sent.read * CHUNK <= 1024 + 64 * 1024 + CHUNK  # stopped at the limit


def test_a_413_found_while_streaming_is_a_dutch_problem_document(app: App, board: str) -> None:
    def body() -> Iterator[bytes]:
        yield MULTIPART_START
        for _ in range(CHUNKS):
            yield b"x" * CHUNK

    with portal_client(app, max_upload_bytes=1024) as client:
        answer = client.post(
            f"/api/v1/boards/{board}/staff-lists",
            content=body(),
            headers={**bearer(app, board), "Content-Type": CONTENT_TYPES[True]},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["title"] == "Het verzoek is te groot"
    assert answer.json()["detail"] == "Een bestand mag hoogstens 1 KiB groot zijn."
