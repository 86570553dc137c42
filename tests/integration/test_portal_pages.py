"""The board's pages, as a person at the board reads them: Overzicht, Geschiedenis and
Ontvangers, in Dutch, and never a BSN or birth date."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.portal_helpers import csrf_of, log_in
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.boards import show_board
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent
from vogscreen.testing import fake_employees, staff_csv

STAFF = fake_employees(4, seed=31)


@pytest.fixture
def signed_in(portal: TestClient, app: App, board: str) -> TestClient:
    log_in(portal, app)
    return portal


def _hand_in(app: App, tmp_path: Path, name: str = "personeel.csv", count: int = 4) -> None:
    path = tmp_path / name
    path.write_text(staff_csv(STAFF[:count]), encoding="utf-8", newline="")
    upload(app, "12345", path, received_by="hr@testscholen.nl")


def _no_personal_data(html: str) -> None:
    for employee in STAFF:
        assert employee.bsn not in html
        assert employee.birth_date.isoformat() not in html


def test_the_overview_shows_the_staff_and_the_last_list(
    signed_in: TestClient, app: App, tmp_path: Path, mock: MockAuthority
) -> None:
    _hand_in(app, tmp_path)
    reconcile(app, mock)
    html = signed_in.get("/besturen/12345/").text

    assert "<h1>Overzicht</h1>" in html
    assert "<dt>Medewerkers</dt><dd>4</dd>" in html
    assert "Laatste personeelslijst" in html
    assert "verwerkt" in html
    assert "<dt>Ingeschreven bij Justis</dt><dd>4</dd>" in html
    assert "1 juni 2026, 11:00" in html  # received at 09:00 UTC: 11:00 in Amsterdam
    _no_personal_data(html)


def test_the_overview_of_a_board_without_lists_says_so(signed_in: TestClient) -> None:
    assert (
        "Uw bestuur heeft nog geen personeelslijst aangeleverd."
        in signed_in.get("/besturen/12345/").text
    )


def test_the_history_shows_every_list_newest_first_with_counts_and_who(
    signed_in: TestClient, app: App, tmp_path: Path
) -> None:
    _hand_in(app, tmp_path, "eerste.csv", 3)
    _hand_in(app, tmp_path, "tweede.csv", 4)
    html = signed_in.get("/besturen/12345/geschiedenis").text

    assert html.index("tweede.csv") < html.index("eerste.csv")
    assert html.count("hr@testscholen.nl</td>") == 2
    assert '<th scope="col">Uit dienst</th>' in html.replace(' class="numeric"', "")
    _no_personal_data(html)


def _form(signed_in: TestClient, path: str, **fields: str) -> tuple[int, str]:
    token = csrf_of(signed_in.get("/besturen/12345/ontvangers").text)
    answer = signed_in.post(f"/besturen/12345{path}", data={**fields, "csrf_token": token})
    return answer.status_code, answer.text


def test_a_recipient_is_added_and_removed_and_both_are_audited_with_the_address(
    signed_in: TestClient, app: App
) -> None:
    status, html = _form(signed_in, "/ontvangers/toevoegen", adres="Pz@Testscholen.nl")
    assert status == 200
    assert "Het adres is toegevoegd." in html
    assert show_board(app, "12345").recipients == ["hr@testscholen.nl", "Pz@testscholen.nl"]

    status, html = _form(signed_in, "/ontvangers/verwijderen", adres="Pz@testscholen.nl")
    assert "Het adres is verwijderd." in html
    assert show_board(app, "12345").recipients == ["hr@testscholen.nl"]
    with app.sessions() as session:
        changes = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action.like("board.%"), AuditEvent.board_id.is_not(None)
            )
        ).all()
    assert len([event for event in changes if event.action != "board.added"]) == 2


def test_removing_the_last_recipient_is_refused(signed_in: TestClient, app: App) -> None:
    status, html = _form(signed_in, "/ontvangers/verwijderen", adres="hr@testscholen.nl")
    assert status == 409
    assert "U kunt het laatste adres niet verwijderen" in html
    assert show_board(app, "12345").recipients == ["hr@testscholen.nl"]


def test_a_wrong_address_is_not_added(signed_in: TestClient, app: App) -> None:
    status, html = _form(signed_in, "/ontvangers/toevoegen", adres="geen-adres")
    assert status == 422
    assert "Vul een geldig e-mailadres in" in html
    assert show_board(app, "12345").recipients == ["hr@testscholen.nl"]


def test_removing_ones_own_address_ends_ones_own_session(signed_in: TestClient, app: App) -> None:
    _form(signed_in, "/ontvangers/toevoegen", adres="tweede@testscholen.nl")
    _form(signed_in, "/ontvangers/verwijderen", adres="hr@testscholen.nl")
    answer = signed_in.get("/besturen/12345/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/inloggen")


def test_the_pages_can_be_used_with_the_keyboard_and_without_javascript(
    signed_in: TestClient,
) -> None:
    html = signed_in.get("/besturen/12345/ontvangers").text
    # A skip link to the content, the current page marked, every field with its label,
    # and forms that post by themselves (htmx only spares a page load).
    assert '<a class="skip-link" href="#inhoud">' in html
    assert 'aria-current="page"' in html
    assert '<label class="form-label" for="nieuw-adres">' in html
    assert 'id="nieuw-adres"' in html
    assert 'method="post" action="/besturen/12345/ontvangers/toevoegen"' in html
    assert "onclick" not in html
