"""Personeelslijst aanleveren: the preview first (a dry run), then hand it in; a file
with mistakes shows every one of them in Dutch, by line and column."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.portal_helpers import csrf_of, log_in
from vogscreen.pipeline.staff import history
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import fake_employees, staff_csv

STAFF = fake_employees(5, seed=41)
GOOD = staff_csv(STAFF)
# The second employee's BSN fails the 11-check, the fourth has no surname.
BAD = staff_csv(
    [
        *STAFF[:1],
        dataclasses.replace(
            STAFF[1], bsn=STAFF[1].bsn[:-1] + str((int(STAFF[1].bsn[-1]) + 1) % 10)
        ),
        *STAFF[2:3],
        dataclasses.replace(STAFF[3], surname=""),
        *STAFF[4:],
    ]
)


@pytest.fixture
def signed_in(portal: TestClient, app: App, board: str) -> TestClient:
    log_in(portal, app)
    return portal


def _preview(client: TestClient, name: str, content: str) -> tuple[int, str]:
    token = csrf_of(client.get("/besturen/12345/aanleveren").text)
    answer = client.post(
        "/besturen/12345/aanleveren",
        data={"stap": "voorbeeld", "csrf_token": token},
        files={"bestand": (name, content.encode(), "text/csv")},
    )
    return answer.status_code, answer.text


def _hand_in(client: TestClient, preview_html: str) -> tuple[int, str]:
    key = re.search(r'name="voorbeeld" value="([^"]+)"', preview_html)
    assert key, "the preview has no hand-in button"
    answer = client.post(
        "/besturen/12345/aanleveren",
        data={"stap": "inleveren", "voorbeeld": key.group(1), "csrf_token": csrf_of(preview_html)},
    )
    return answer.status_code, answer.text


def test_a_preview_changes_nothing_and_handing_in_stores_the_list(
    signed_in: TestClient, app: App
) -> None:
    status, html = _preview(signed_in, "personeel.csv", GOOD)
    assert status == 200
    assert "Voorbeeld van personeel.csv" in html
    assert "<dt>Nieuw</dt><dd>5</dd>" in html
    assert history(app, "12345") == []

    status, html = _hand_in(signed_in, html)
    assert status == 200
    assert "Bedankt, de lijst is aangeleverd" in html
    [stored] = history(app, "12345")
    assert (stored["file"], stored["received_by"]) == ("personeel.csv", "hr@testscholen.nl")


def test_a_preview_is_handed_in_only_once(signed_in: TestClient, app: App) -> None:
    _status, preview = _preview(signed_in, "personeel.csv", GOOD)
    _hand_in(signed_in, preview)
    status, html = _hand_in(signed_in, preview)
    assert status == 410
    assert "Kies het bestand opnieuw" in html
    assert len(history(app, "12345")) == 1


def test_a_file_with_mistakes_shows_every_problem_by_line_and_column(
    signed_in: TestClient, app: App
) -> None:
    status, html = _preview(signed_in, "fouten.csv", BAD)
    assert status == 422
    assert "Het bestand bevat 2 fouten. Er is niets gewijzigd." in html
    rows = re.findall(r'<td class="numeric">(\d+)</td>\s*<td>([^<]*)</td>', html)
    assert [line for line, _column in rows] == ["3", "5"]
    assert "Lever deze lijst in" not in html
    for employee in STAFF:
        assert employee.bsn not in html
    assert history(app, "12345") == []


def test_a_preview_without_a_file_asks_for_one(signed_in: TestClient) -> None:
    token = csrf_of(signed_in.get("/besturen/12345/aanleveren").text)
    answer = signed_in.post(
        "/besturen/12345/aanleveren", data={"stap": "voorbeeld", "csrf_token": token}
    )
    assert answer.status_code == 422
    assert "Kies een bestand." in answer.text


def test_a_preview_of_another_session_cannot_be_handed_in(signed_in: TestClient, app: App) -> None:
    from vogscreen.web.app import create_app

    _status, preview = _preview(signed_in, "personeel.csv", GOOD)
    key = re.search(r'name="voorbeeld" value="([^"]+)"', preview)
    assert key
    with TestClient(create_app(app), base_url="http://127.0.0.1:8000") as other:
        log_in(other, app)
        token = csrf_of(other.get("/besturen/12345/aanleveren").text)
        answer = other.post(
            "/besturen/12345/aanleveren",
            data={"stap": "inleveren", "voorbeeld": key.group(1), "csrf_token": token},
        )
    assert answer.status_code == 410
    assert history(app, "12345") == []


def test_a_kept_preview_is_encrypted(signed_in: TestClient, app: App) -> None:
    _preview(signed_in, "personeel.csv", GOOD)
    [kept] = list((Path(app.settings.var_dir) / "portal-previews").glob("*.bin"))
    assert STAFF[0].bsn.encode() not in kept.read_bytes()
    assert kept.stat().st_mode & 0o077 == 0


def test_the_mistakes_of_a_file_download_as_csv_in_dutch(signed_in: TestClient, app: App) -> None:
    _status, html = _preview(signed_in, "fouten.csv", BAD)
    link = re.search(r'href="(/besturen/12345/aanleveren/[^"]+/fouten.csv)"', html)
    assert link, "the report has no CSV download"
    answer = signed_in.get(link.group(1))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.splitlines()
    assert len(lines) == 3  # the header and the two problems
    assert lines[0].lstrip("\ufeff").startswith("regel;kolom")
    for employee in STAFF:
        assert employee.bsn not in answer.text


def test_a_preview_names_who_is_new_leaving_and_changed_and_never_a_bsn(
    signed_in: TestClient, app: App, mock: object
) -> None:
    from vogscreen.pipeline.intake import upload
    from vogscreen.pipeline.reconcile import run as reconcile

    first = Path(app.settings.var_dir) / "eerste.csv"
    first.write_text(GOOD)
    upload(app, "12345", first)
    with app.authority() as authority:
        reconcile(app, authority, actor="test")
    # (A number with a run of 8 digits or more would be shown redacted, as BSN-like.)
    joiner = dataclasses.replace(fake_employees(7, seed=43)[6], personeelsnummer="N-777")
    moved = dataclasses.replace(STAFF[2], function="Conciërge")
    status, html = _preview(
        signed_in, "nieuw.csv", staff_csv([*STAFF[:2], moved, *STAFF[3:4], joiner])
    )
    assert status == 200
    people = html[html.index("Om wie het gaat") :]
    new = people[people.index("Nieuw (1)") : people.index("Uit dienst (1)")]
    leaving = people[people.index("Uit dienst (1)") : people.index("Gewijzigd (1)")]
    changed = people[people.index("Gewijzigd (1)") :]
    assert joiner.surname in new and joiner.personeelsnummer in new
    assert STAFF[4].surname in leaving
    assert STAFF[2].surname in changed
    for employee in (*STAFF, joiner):
        assert employee.bsn not in html
        assert employee.birth_date.isoformat() not in html
