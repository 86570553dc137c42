"""Logging in to the portal by e-mail link: the same answer for every address, a link that
works once and expires, rate limits, the session cookie, CSRF tokens and logging out."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.portal_helpers import ask_for_link, csrf_of, follow, links_in, log_in, mails
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.login import ADDRESS_LIMIT, CLIENT_LIMIT
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent, LoginLink, LoginRequest, PortalSession
from vogscreen.testing import FakeClock
from vogscreen.web.app import create_app


def _audit(app: App, action: str) -> list[AuditEvent]:
    with app.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_the_known_one_a_mail(
    portal: TestClient, app: App, board: str
) -> None:
    token = csrf_of(portal.get("/inloggen").text)
    known = portal.post("/inloggen", data={"adres": "hr@testscholen.nl", "csrf_token": token})
    unknown = portal.post("/inloggen", data={"adres": "iemand@elders.nl", "csrf_token": token})

    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "Kijk in uw e-mail" in known.text
    assert len(mails(app)) == 1
    assert "Stichting Testscholen" in mails(app)[0]
    assert "15 minuten" in mails(app)[0]
    with app.sessions() as session:
        # Both requests count for the limits; neither address is kept in clear.
        assert len(session.scalars(select(LoginRequest)).all()) == 2
        assert [link.address for link in session.scalars(select(LoginLink))] == [
            "hr@testscholen.nl"
        ]


def test_a_login_link_opens_a_session_once(portal: TestClient, app: App, board: str) -> None:
    assert ask_for_link(portal, "hr@testscholen.nl") == 303
    [link] = links_in(app)

    assert follow(portal, link) == 303
    assert portal.get("/besturen/12345/", follow_redirects=False).status_code == 200
    # The same link again, in another browser: used.
    with TestClient(create_app(app), base_url="http://127.0.0.1:8000") as other:
        assert follow(other, link) == 410
        assert other.get("/besturen/12345/", follow_redirects=False).status_code == 303
    [login] = _audit(app, "portal.login")
    assert login.actor == "hr@testscholen.nl"


def test_opening_the_link_without_pressing_the_button_does_not_use_it(
    portal: TestClient, app: App, board: str
) -> None:
    # A mail scanner fetches links: a GET must leave the link usable.
    ask_for_link(portal, "hr@testscholen.nl")
    [link] = links_in(app)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert portal.get(path).status_code == 200
    assert portal.get(path).status_code == 200
    assert follow(portal, link) == 303


def test_a_login_link_expires_after_15_minutes(
    portal: TestClient, app: App, board: str, clock: FakeClock
) -> None:
    ask_for_link(portal, "hr@testscholen.nl")
    [link] = links_in(app)
    clock.advance(minutes=15)

    assert follow(portal, link) == 410
    assert "Deze link werkt niet meer" in portal.get(link.split("8000", 1)[1]).text
    with app.sessions() as session:
        assert session.scalars(select(PortalSession)).all() == []


def test_a_link_of_an_address_the_board_removed_since_opens_nothing(
    portal: TestClient, app: App, board: str
) -> None:
    from vogscreen.pipeline.boards import update_board

    update_board(app, board, add_recipients=["tweede@testscholen.nl"])
    ask_for_link(portal, "tweede@testscholen.nl")
    [link] = links_in(app)
    update_board(app, board, remove_recipients=["tweede@testscholen.nl"])

    assert follow(portal, link) == 410


def test_link_requests_are_limited_per_address(portal: TestClient, app: App, board: str) -> None:
    for _ in range(ADDRESS_LIMIT):
        assert ask_for_link(portal, "hr@testscholen.nl") == 303
    assert ask_for_link(portal, "HR@testscholen.nl") == 429
    assert len(mails(app)) == ADDRESS_LIMIT


def test_link_requests_are_limited_per_client(portal: TestClient, app: App, board: str) -> None:
    for number in range(CLIENT_LIMIT):
        assert ask_for_link(portal, f"iemand{number}@elders.nl") == 303
    assert ask_for_link(portal, "hr@testscholen.nl") == 429
    assert mails(app) == []


def test_the_limits_count_a_window_of_a_quarter_of_an_hour(
    portal: TestClient, app: App, board: str, clock: FakeClock
) -> None:
    for _ in range(ADDRESS_LIMIT):
        ask_for_link(portal, "hr@testscholen.nl")
    clock.advance(minutes=16)
    assert ask_for_link(portal, "hr@testscholen.nl") == 303


def test_an_address_of_two_boards_gets_a_link_for_each(
    portal: TestClient, app: App, board: str
) -> None:
    add_board(app, "54321", "Stichting Andere Scholen", ["hr@testscholen.nl"])
    ask_for_link(portal, "hr@testscholen.nl")
    _first, second = links_in(app)
    follow(portal, second)
    assert portal.get("/", follow_redirects=False).headers["location"] == "/besturen/54321/"


def test_something_that_is_no_address_is_said_so(portal: TestClient, board: str) -> None:
    token = csrf_of(portal.get("/inloggen").text)
    answer = portal.post("/inloggen", data={"adres": "geen adres", "csrf_token": token})
    assert answer.status_code == 422
    assert "Vul een geldig e-mailadres in" in answer.text
    assert 'aria-invalid="true"' in answer.text


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(
    portal: TestClient, app: App, board: str
) -> None:
    ask_for_link(portal, "hr@testscholen.nl")
    [link] = links_in(app)
    token = link.rsplit("=", 1)[1]
    landing = portal.get(f"/inloggen/link?token={token}")
    answer = portal.post(
        "/inloggen/link",
        data={"token": token, "csrf_token": csrf_of(landing.text)},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith("vogscreen_sessie=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


def test_the_session_cookie_is_secure_when_the_request_came_over_https(
    app: App, board: str
) -> None:
    with TestClient(create_app(app), base_url="https://portaal.example.nl") as client:
        ask_for_link(client, "hr@testscholen.nl")
        token = links_in(app)[0].rsplit("=", 1)[1]
        landing = client.get(f"/inloggen/link?token={token}")
        answer = client.post(
            "/inloggen/link",
            data={"token": token, "csrf_token": csrf_of(landing.text)},
            follow_redirects=False,
        )
    assert answer.status_code == 303
    assert "secure" in answer.headers["set-cookie"].lower()


def test_every_cookie_is_secure_when_the_portal_url_is_https(app: App, board: str) -> None:
    # Behind a proxy that does not say X-Forwarded-Proto, the portal_url still says https.
    settings = dataclasses.replace(app.settings, portal_url="https://portaal.example.nl")
    served = dataclasses.replace(app, settings=settings)
    with TestClient(create_app(served), base_url="http://127.0.0.1:8000") as client:
        answer = client.get("/inloggen")
    assert "secure" in answer.headers["set-cookie"].lower()


def test_logging_out_ends_the_session_and_is_audited(
    portal: TestClient, app: App, board: str
) -> None:
    log_in(portal, app)
    session_cookie = portal.cookies.get("vogscreen_sessie")
    page = portal.get("/besturen/12345/")
    answer = portal.post(
        "/uitloggen", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )

    assert answer.status_code == 303
    assert "U bent uitgelogd" in portal.get(answer.headers["location"]).text
    # The old cookie, kept by someone, opens nothing any more.
    portal.cookies.set("vogscreen_sessie", session_cookie or "")
    assert portal.get("/besturen/12345/", follow_redirects=False).status_code == 303
    [logout] = _audit(app, "portal.logout")
    assert logout.actor == "hr@testscholen.nl"


def test_a_session_lasts_eight_hours(
    portal: TestClient, app: App, board: str, clock: FakeClock
) -> None:
    log_in(portal, app)
    clock.advance(hours=8)
    answer = portal.get("/besturen/12345/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/inloggen")


def test_the_pages_are_in_english_when_the_browser_asks(portal: TestClient, board: str) -> None:
    portal.get("/taal/en?terug=/inloggen")
    assert "Send me a login link" in portal.get("/inloggen").text
    portal.get("/taal/nl")
    assert "Stuur mij een inloglink" in portal.get("/inloggen").text


def test_the_language_link_goes_back_only_to_this_site(portal: TestClient) -> None:
    for elsewhere in ("https://example.com/", "//example.com/", "/\\example.com"):
        answer = portal.get(f"/taal/en?terug={elsewhere}", follow_redirects=False)
        assert answer.headers["location"] == "/"
