"""A bug in the portal still gets the portal's own answer, over real HTTP, at once: a
problem document under /api, a Dutch page elsewhere, never a hanging connection or a
traceback; and every answer carries the anti-framing headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import structlog

from tests.portal_server import serving
from vogscreen.pipeline import tokens
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.logs import configure_logging
from vogscreen.web import api


@pytest.fixture(autouse=True)
def _logs_as_in_production() -> Iterator[None]:
    # As `vogscreen serve` configures them: JSON, the traceback as text (structlog's test
    # default renders every local of every frame, which takes longer than the client waits).
    configure_logging("info", "json")
    yield
    structlog.reset_defaults()


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("a bug, with 123456782 in its message")


def test_a_bug_in_an_api_call_is_answered_with_a_problem_document(
    app: App, board: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = tokens.create_token(app, board, "koppeling", "test")
    monkeypatch.setattr(api, "upload", _boom)
    with serving(app) as url:
        answer = httpx.post(
            f"{url}/api/v1/boards/{board}/staff-lists",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("lijst.csv", b"bsn;achternaam\n", "text/csv")},
            timeout=10,
        )
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 500
    assert "123456782" not in answer.text and "Traceback" not in answer.text


def test_every_answer_may_not_be_framed_by_another_site(portal: httpx.Client) -> None:
    for path in ("/inloggen", "/healthz", "/api/openapi.json", "/besturen/12345/"):
        headers = portal.get(path, follow_redirects=False).headers
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path


def test_an_unknown_page_is_a_dutch_page_and_not_json(portal: httpx.Client) -> None:
    answer = portal.get("/bestaat-niet")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Pagina niet gevonden" in answer.text
