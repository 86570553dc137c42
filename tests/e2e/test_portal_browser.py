"""The portal as a person at a board uses it, in Debian's chromium against a real uvicorn
server on loopback: log in through the link from the Maildir, hand in a file with mistakes
and read the Dutch report, fix it, preview and hand it in, confirm a held list, resolve a
case. Screenshots of the main pages go to docs/portal/."""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.portal_helpers import links_in
from tests.portal_server import serving
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.statuses import CaseOutcome
from vogscreen.pipeline.board_portal import cases_of
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.authorities import subscription_ref_of
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import fake_employees, staff_csv

CHROMIUM = "/usr/bin/chromium"
# The screenshots of the main pages (docs/portal/, linked from the README) are remade when
# asked: VOGSCREEN_PORTAL_SCREENSHOTS=docs/portal. Otherwise they go to a scratch folder,
# so a test run leaves the working tree as it was.
SHOTS = Path(os.environ.get("VOGSCREEN_PORTAL_SCREENSHOTS") or tempfile.mkdtemp(prefix="shots-"))
# Personeelsnummers as HR systems often write them (a run of eight digits or more would be
# shown redacted, as BSN-like, in reports and previews).
STAFF = [
    dataclasses.replace(employee, personeelsnummer=f"M-{1041 + position}")
    for position, employee in enumerate(fake_employees(10, seed=61))
]
GOOD = staff_csv(STAFF)
# Line 3: a BSN that fails the 11-check; line 5: no surname.
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

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")


@pytest.fixture(scope="session")
def base_url() -> str | None:
    # Each test has its own server (live_portal); pytest-base-url's own fixture is
    # written in a way this pytest warns about, and warnings are errors here.
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # playwright cannot download its own browsers here: Debian's chromium, as root too.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "nl-NL"}


@pytest.fixture
def live_portal(app: App, board: str) -> Iterator[str]:
    """``vogscreen serve``'s app on a real uvicorn server, on a free loopback port."""
    with serving(app) as url:
        yield url


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _log_in(page: Page, app: App, url: str, *, shots: bool = False) -> None:
    page.goto(f"{url}/inloggen")
    page.get_by_label("E-mailadres").fill("hr@testscholen.nl")
    if shots:
        _shot(page, "inloggen")
    page.get_by_role("button", name="Stuur mij een inloglink").click()
    expect(page.get_by_role("heading", name="Kijk in uw e-mail")).to_be_visible()
    link = links_in(app)[-1]
    assert link.startswith(url)
    page.goto(link)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Overzicht")).to_be_visible()


def _choose_and_preview(page: Page, tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8", newline="")
    page.get_by_role("link", name="Personeelslijst aanleveren").first.click()
    page.get_by_label("Personeelslijst").set_input_files(str(path))
    page.get_by_role("button", name="Bekijk het voorbeeld").click()


def test_a_board_hands_in_its_list_decides_a_held_list_and_resolves_a_case(
    page: Page, app: App, mock: MockAuthority, live_portal: str, tmp_path: Path
) -> None:
    _log_in(page, app, live_portal, shots=True)

    # A file with mistakes: every one, in Dutch, by line and column, with how to fix it.
    _choose_and_preview(page, tmp_path, "personeel-april.csv", BAD)
    expect(page.get_by_text("Het bestand bevat 2 fouten. Er is niets gewijzigd.")).to_be_visible()
    rows = page.locator("table.problems tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").first).to_have_text("3")
    expect(rows.nth(1).locator("td").first).to_have_text("5")
    expect(rows.nth(0)).to_contain_text("het BSN voldoet niet aan de elfproef")
    expect(rows.nth(1)).to_contain_text("achternaam is leeg")
    expect(page.get_by_role("button", name="Lever deze lijst in")).to_have_count(0)
    assert STAFF[1].bsn[:-1] not in page.content()
    _shot(page, "fouten")

    # Fixed: the preview, then hand it in.
    _choose_and_preview(page, tmp_path, "personeel-mei.csv", GOOD)
    expect(page.get_by_role("heading", name="Voorbeeld van personeel-mei.csv")).to_be_visible()
    expect(page.locator(".figure", has_text="Nieuw").locator("dd")).to_have_text("10")
    _shot(page, "voorbeeld")
    page.get_by_role("button", name="Lever deze lijst in").click()
    expect(page.get_by_role("heading", name="Bedankt, de lijst is aangeleverd")).to_be_visible()
    reconcile(app, mock)

    # A list that would remove 7 of 10 is held: the board confirms it.
    _choose_and_preview(page, tmp_path, "personeel-juni.csv", staff_csv(STAFF[:3]))
    expect(page.get_by_text("Nadat u deze lijst heeft aangeleverd, wacht de lijst")).to_be_visible()
    page.get_by_role("button", name="Lever deze lijst in").click()
    page.get_by_role("link", name="Beslis over de wachtende lijst").click()
    expect(page.get_by_text("7 medewerkers worden bij Justis uitgeschreven")).to_be_visible()
    _shot(page, "wachtende-lijst")
    page.get_by_role("button", name="Lijst bevestigen").click()
    expect(page.get_by_text("Deze lijst is bevestigd.")).to_be_visible()
    reconcile(app, mock)

    # A hit opens a case; the board resolves it with the date of the new VOG and a note.
    mock.raise_hit(subscription_ref_of(app, "12345", STAFF[0].personeelsnummer))
    poll(app, mock)
    [case] = cases_of(app, "12345", only_open=True)
    page.get_by_role("link", name="Zaken").click()
    section = page.locator("section.case", has_text=str(case["reference"]))
    _shot(page, "zaken")
    section.get_by_label("nieuwe VOG ontvangen").check()
    section.get_by_label("Datum van de nieuwe VOG").fill("2026-06-01")
    section.get_by_label("Toelichting (niet verplicht)").fill("Nieuwe VOG ingeleverd bij P&O")
    section.get_by_role("button", name="Zaak afhandelen").click()
    expect(page.get_by_text(f"Zaak {case['reference']} is afgehandeld.")).to_be_visible()
    [resolved] = cases_of(app, "12345", only_open=False)
    assert (resolved["outcome"], resolved["vog_date"]) == (CaseOutcome.NEW_VOG, "2026-06-01")

    for name, link in (
        ("overzicht", "Overzicht"),
        ("geschiedenis", "Geschiedenis"),
        ("ontvangers", "Ontvangers"),
        ("api-sleutels", "API-sleutels"),
    ):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", name=link, exact=True)).to_be_visible()
        _shot(page, name)


def test_the_portal_works_without_javascript_and_with_the_keyboard(
    browser: Browser, app: App, live_portal: str
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    page = context.new_page()
    try:
        page.goto(f"{live_portal}/inloggen")
        # The first Tab reaches the skip link; the form is filled and sent by keyboard.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Direct naar de inhoud")).to_be_focused()
        page.get_by_label("E-mailadres").focus()
        page.keyboard.type("hr@testscholen.nl")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Kijk in uw e-mail")).to_be_visible()
        page.goto(links_in(app)[-1])
        page.get_by_role("button", name="Inloggen").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Overzicht")).to_be_visible()

        page.get_by_role("link", name="Ontvangers").click()
        page.get_by_label("E-mailadres").fill("pz@testscholen.nl")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Het adres is toegevoegd.")).to_be_visible()
        expect(page.get_by_text("pz@testscholen.nl", exact=True)).to_be_visible()

        page.get_by_role("button", name="Uitloggen").click()
        expect(page.get_by_text("U bent uitgelogd.")).to_be_visible()
        assert re.search(r"/inloggen\?uitgelogd=true$", page.url)
    finally:
        context.close()
