"""Every page and every form of the portal: another board's session gets 404 (as a board
that does not exist), no session goes to the login page, and a form without this
browser's CSRF token gets 403."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.asgi import run_apart
from tests.integration.portal_helpers import csrf_of, log_in
from vogscreen.pipeline.boards import add_board
from vogscreen.runtime.bootstrap import App
from vogscreen.web.app import create_app

# Every board page, under /besturen/{board}.
PAGES = [
    "/",
    "/aanleveren",
    "/aanleveren/x/fouten.csv",
    "/geschiedenis",
    "/geschiedenis/1",
    "/geschiedenis/1/fouten.csv",
    "/wachtend/1",
    "/zaken",
    "/ontvangers",
    "/api-sleutels",
]
# Every board form, under /besturen/{board}, with a body that would be valid.
FORMS = [
    ("/aanleveren", {"stap": "voorbeeld"}),
    ("/aanleveren", {"stap": "inleveren", "voorbeeld": "x"}),
    ("/wachtend/1/bevestigen", {}),
    ("/wachtend/1/afwijzen", {"reden": "klopt niet"}),
    ("/zaken/VS-12345-000001/afhandelen", {"uitkomst": "other", "toelichting": "x"}),
    ("/ontvangers/toevoegen", {"adres": "nieuw@testscholen.nl"}),
    ("/ontvangers/verwijderen", {"adres": "hr@testscholen.nl"}),
    ("/api-sleutels/aanmaken", {"naam": "AFAS"}),
    ("/api-sleutels/1/intrekken", {}),
]
# The forms outside a board: they need this browser's token as well.
OPEN_FORMS = [
    ("/inloggen", {"adres": "hr@testscholen.nl"}),
    ("/inloggen/link", {"token": "x"}),
    ("/uitloggen", {}),
]


@pytest.fixture
def other_board(app: App, board: str) -> str:
    return add_board(app, "54321", "Stichting Andere Scholen", ["hr@anderescholen.nl"]).number


@pytest.fixture
def signed_in(portal: TestClient, app: App, board: str, other_board: str) -> TestClient:
    log_in(portal, app)
    return portal


@pytest.mark.parametrize("path", PAGES)
def test_a_page_of_another_board_answers_as_one_that_does_not_exist(
    signed_in: TestClient, path: str
) -> None:
    other = signed_in.get(f"/besturen/54321{path}", follow_redirects=False)
    absent = signed_in.get(f"/besturen/99999{path}", follow_redirects=False)

    assert other.status_code == absent.status_code == 404
    assert other.text.replace("54321", "99999") == absent.text
    assert "Stichting Andere Scholen" not in other.text


@pytest.mark.parametrize(("form", "body"), FORMS)
def test_a_form_for_another_board_answers_404_and_changes_nothing(
    signed_in: TestClient, app: App, form: str, body: dict[str, str]
) -> None:
    token = csrf_of(signed_in.get("/besturen/12345/").text)
    other_form = form.replace("12345", "54321")
    answer = signed_in.post(
        f"/besturen/54321{other_form}", data={**body, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 404
    from vogscreen.pipeline.boards import show_board

    assert show_board(app, "54321").recipients == ["hr@anderescholen.nl"]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_a_session_goes_to_the_login_page(
    portal: TestClient, board: str, path: str
) -> None:
    answer = portal.get(f"/besturen/12345{path}", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/inloggen")


@pytest.mark.parametrize(("form", "body"), FORMS)
def test_a_form_without_a_session_goes_to_the_login_page(
    portal: TestClient, board: str, form: str, body: dict[str, str]
) -> None:
    answer = portal.post(f"/besturen/12345{form}", data=body, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/inloggen")


@pytest.mark.parametrize(("form", "body"), FORMS)
@pytest.mark.parametrize("token", ["none", "forged", "another browser's"])
def test_a_board_form_without_this_browsers_csrf_token_is_refused(
    signed_in: TestClient, app: App, form: str, body: dict[str, str], token: str
) -> None:
    sent = dict(body)
    if token == "forged":
        sent["csrf_token"] = "eyJ4Ijp9.aaaa.bbbb"
    elif token == "another browser's":
        with TestClient(create_app(app), base_url="http://127.0.0.1:8000") as other:
            log_in(other, app, "hr@testscholen.nl")
            sent["csrf_token"] = csrf_of(other.get("/besturen/12345/").text)
    answer = signed_in.post(f"/besturen/12345{form}", data=sent, follow_redirects=False)

    assert answer.status_code == 403
    assert "Het formulier kon niet worden verstuurd" in answer.text


@pytest.mark.parametrize(("form", "body"), OPEN_FORMS)
def test_a_form_outside_a_board_without_a_csrf_token_is_refused(
    signed_in: TestClient, form: str, body: dict[str, str]
) -> None:
    answer = signed_in.post(form, data=body, follow_redirects=False)
    assert answer.status_code == 403
    # Nothing happened: still logged in.
    assert signed_in.get("/besturen/12345/", follow_redirects=False).status_code == 200


def test_every_board_page_and_form_of_the_portal_is_covered_here(portal: TestClient) -> None:
    routes = {
        (method, route.path.removeprefix("/besturen/{number}"))  # type: ignore[attr-defined]
        for route in portal.app.routes  # type: ignore[attr-defined]
        if getattr(route, "path", "").startswith("/besturen/{number}")
        for method in route.methods  # type: ignore[attr-defined]
    }

    def pattern(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"

    for method, path in routes:
        listed = PAGES if method == "GET" else [form for form, _ in FORMS]
        assert any(re.match(pattern(path), item) for item in listed), (method, path)


def test_a_body_declared_over_the_limit_is_refused_before_it_is_read_in_the_readers_language(
    app: App, board: str
) -> None:
    """A page answers in Dutch, the API with a problem document: never Starlette's plain
    English "Content Too Large"."""

    from vogscreen.web.app import create_app

    portal = create_app(app)
    limit = app.settings.max_upload_bytes + 64 * 1024

    from vogscreen.pipeline.tokens import create_token

    _, token = create_token(app, board, "koppeling", "test")

    def call(path: str) -> tuple[int, dict[str, str], bytes, int]:
        sent: list[dict[str, object]] = []
        reads = 0

        async def receive() -> dict[str, object]:
            nonlocal reads
            reads += 1
            return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"multipart/form-data; boundary=x"),
                (b"content-length", str(limit + 1).encode()),
                (b"authorization", f"Bearer {token}".encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        run_apart(portal(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers = {k.decode(): v.decode() for k, v in start["headers"]}  # type: ignore[attr-defined]
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
        return int(start["status"]), headers, body, reads  # type: ignore[call-overload]

    status, headers, body, reads = call(f"/besturen/{board}/aanleveren")
    assert (status, reads) == (413, 0)
    assert headers["content-type"].startswith("text/html")
    assert "Het bestand is te groot" in body.decode()
    status, headers, body, reads = call(f"/api/v1/boards/{board}/staff-lists")
    assert (status, reads) == (413, 0)
    assert headers["content-type"] == "application/problem+json"
    assert b'"status":413' in body
