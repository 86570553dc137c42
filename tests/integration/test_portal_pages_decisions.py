"""Wachtende lijst, Zaken and API-sleutels: a board confirms or rejects a held list,
resolves a case with its outcome, VOG date and note, and creates and revokes API keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.portal_helpers import csrf_of, log_in
from tests.reconcile_helpers import hand_in
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.statuses import CaseOutcome, StaffListStatus
from vogscreen.pipeline.board_portal import authenticate, cases_of
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.staff import history
from vogscreen.runtime.authorities import subscription_ref_of
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent
from vogscreen.testing import fake_employees

STAFF = fake_employees(10, seed=51)


@pytest.fixture
def signed_in(portal: TestClient, app: App, board: str) -> TestClient:
    log_in(portal, app)
    return portal


@pytest.fixture
def held(app: App, board: str, tmp_path: Path, mock: MockAuthority) -> int:
    hand_in(app, board, STAFF, tmp_path)
    reconcile(app, mock)
    report = hand_in(app, board, STAFF[:3], tmp_path)  # 7 of 10 would leave: held
    assert report.id is not None and report.hold is not None
    return report.id


def _post(client: TestClient, page: str, action: str, **fields: str) -> tuple[int, str]:
    token = csrf_of(client.get(page).text)
    answer = client.post(action, data={**fields, "csrf_token": token})
    return answer.status_code, answer.text


def test_a_held_list_shows_why_and_who_would_leave(signed_in: TestClient, held: int) -> None:
    html = signed_in.get(f"/besturen/12345/wachtend/{held}").text
    assert "Deze lijst wacht op uw besluit." in html
    assert "7 medewerkers worden bij Justis uitgeschreven" in html
    for employee in STAFF[3:]:
        assert f"<td>{employee.personeelsnummer}</td>" in html
    for employee in STAFF:
        assert employee.bsn not in html
        assert employee.birth_date.isoformat() not in html


def test_confirming_a_held_list_is_audited_with_the_address(
    signed_in: TestClient, app: App, held: int
) -> None:
    page = f"/besturen/12345/wachtend/{held}"
    status, html = _post(signed_in, page, f"{page}/bevestigen")
    assert status == 200
    assert "Deze lijst is bevestigd." in html
    assert history(app, "12345")[-1]["status"] == StaffListStatus.PENDING
    with app.sessions() as session:
        actors = set(
            session.scalars(select(AuditEvent.actor).where(AuditEvent.entity == "staff_list"))
        )
    assert "hr@testscholen.nl" in actors


def test_rejecting_a_held_list_needs_a_reason(signed_in: TestClient, app: App, held: int) -> None:
    page = f"/besturen/12345/wachtend/{held}"
    status, html = _post(signed_in, page, f"{page}/afwijzen", reden="  ")
    assert status == 422
    assert "Geef een reden waarom u de lijst afwijst." in html
    assert history(app, "12345")[-1]["status"] == StaffListStatus.HELD

    status, html = _post(signed_in, page, f"{page}/afwijzen", reden="Export was onvolledig")
    assert "U heeft deze lijst afgewezen." in html
    assert history(app, "12345")[-1]["status"] == StaffListStatus.DISCARDED
    # Deciding twice: already decided.
    status, html = _post(signed_in, page, f"{page}/bevestigen")
    assert status == 409 or "al besloten" in html


@pytest.fixture
def case(app: App, board: str, tmp_path: Path, mock: MockAuthority) -> str:
    hand_in(app, board, STAFF[:4], tmp_path)
    reconcile(app, mock)
    mock.raise_hit(subscription_ref_of(app, board, STAFF[0].personeelsnummer))
    poll(app, mock)
    [opened] = cases_of(app, board, only_open=True)
    return str(opened["reference"])


def test_an_open_case_is_resolved_with_its_outcome_vog_date_and_note(
    signed_in: TestClient, app: App, case: str
) -> None:
    html = signed_in.get("/besturen/12345/zaken").text
    assert "Openstaande zaken" in html
    assert case in html
    assert STAFF[0].personeelsnummer in html

    status, html = _post(
        signed_in,
        "/besturen/12345/zaken",
        f"/besturen/12345/zaken/{case}/afhandelen",
        uitkomst=CaseOutcome.NEW_VOG,
        vog_datum="2026-06-01",
        toelichting="VOG gezien",
    )
    assert status == 200
    assert f"Zaak {case} is afgehandeld." in html
    [resolved] = cases_of(app, "12345", only_open=False)
    assert (resolved["outcome"], resolved["vog_date"], resolved["note"]) == (
        CaseOutcome.NEW_VOG,
        "2026-06-01",
        "VOG gezien",
    )
    assert resolved["resolved_by"] == "hr@testscholen.nl"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"uitkomst": CaseOutcome.NEW_VOG}, "vul de datum van de nieuwe VOG in"),
        ({"uitkomst": CaseOutcome.NEW_VOG, "vog_datum": "2020-01-01"}, "niet van vóór de melding"),
        ({"uitkomst": "weg"}, "kies hoe de zaak is afgehandeld"),
    ],
)
def test_a_case_is_not_resolved_with_a_missing_or_early_vog_date(
    signed_in: TestClient, app: App, case: str, fields: dict[str, str], said: str
) -> None:
    status, html = _post(
        signed_in, "/besturen/12345/zaken", f"/besturen/12345/zaken/{case}/afhandelen", **fields
    )
    assert status == 422
    assert said in html
    assert len(cases_of(app, "12345", only_open=True)) == 1


def test_an_api_key_is_shown_once_works_and_is_revoked(signed_in: TestClient, app: App) -> None:
    page = "/besturen/12345/api-sleutels"
    status, html = _post(signed_in, page, f"{page}/aanmaken", naam="AFAS koppeling")
    assert status == 201
    token = re.search(r'<p class="token" id="nieuwe-sleutel">([^<]+)</p>', html)
    assert token
    holder = authenticate(app, token.group(1))
    assert holder is not None and holder.board == "12345"
    assert token.group(1) not in signed_in.get(page).text

    status, html = _post(signed_in, page, f"{page}/{holder.token_id}/intrekken")
    assert "De API-sleutel is ingetrokken." in html
    assert authenticate(app, token.group(1)) is None
