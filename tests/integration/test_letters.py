"""Letters about the board's own data: queued once, drained by notify, over real SMTP.

A rejected list (how many problems), a held list (why, what to do), a person the
authority refused (names the personeelsnummer, never the BSN or birth date).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.reconcile_helpers import FAST, hand_in
from tests.smtp_server import Inbox, smtp_server
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.statuses import HoldReason, NotificationKind
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.letters import queue_list_held, queue_list_rejected
from vogscreen.pipeline.notify import notify
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Board, Notification, StaffList
from vogscreen.testing import fake_employees

UNKNOWN_BSN = "999990019"  # the mock authority does not know it


@pytest.fixture
def smtp(app: App) -> Iterator[Inbox]:
    with smtp_server() as (inbox, port):
        app.settings = dataclasses.replace(
            app.settings,
            smtp_url=f"smtp://127.0.0.1:{port}",
            portal_url="https://portaal.vogscreen.example",
        )
        yield inbox


def bodies(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def a_staff_list(app: App, board: str, tmp_path: Path) -> tuple[int, int]:
    """(board id, staff list id) of a list handed in."""
    hand_in(app, board, fake_employees(3), tmp_path)
    with app.sessions() as session:
        board_id = session.scalars(select(Board.id).where(Board.number == board)).one()
        list_id = session.scalars(select(StaffList.id).where(StaffList.board_id == board_id)).one()
    return board_id, list_id


def test_a_rejected_list_gets_one_letter_with_its_problems_and_a_link(
    app: App, board: str, smtp: Inbox, tmp_path: Path
) -> None:
    board_id, list_id = a_staff_list(app, board, tmp_path)
    with app.sessions() as session, session.begin():
        now = app.now()
        assert queue_list_rejected(
            session, board_id=board_id, staff_list_id=list_id, problems=3, now=now
        )
        # Queued again (a retried run): still one letter.
        assert not queue_list_rejected(
            session, board_id=board_id, staff_list_id=list_id, problems=3, now=now
        )
    summary = notify(app)
    assert (summary.sent, summary.failed) == (1, 0)
    assert notify(app).sent == 0
    (message,) = smtp.messages
    assert smtp.envelopes[0][1] == ["hr@testscholen.nl"]
    assert message["Subject"] == "Uw personeelslijst is afgekeurd (3 fouten)"
    text, html = bodies(message)
    assert "Beste HR-medewerker van Stichting Testscholen," in text
    assert "we hebben er 3 fouten in gevonden" in text
    assert "Er is niets van overgenomen" in text
    link = f"https://portaal.vogscreen.example/besturen/{board}/geschiedenis/{list_id}"
    assert link in text.splitlines()
    assert f'<a href="{link}">Naar het portaal</a>' in html


def test_a_held_list_gets_a_letter_saying_why_and_what_to_do(
    app: App, board: str, smtp: Inbox, tmp_path: Path
) -> None:
    board_id, list_id = a_staff_list(app, board, tmp_path)
    with app.sessions() as session, session.begin():
        assert queue_list_held(
            session,
            board_id=board_id,
            staff_list_id=list_id,
            hold=HoldReason.REMOVALS,
            now=app.now(),
        )
    assert notify(app).sent == 1
    (message,) = smtp.messages
    assert message["Subject"] == "Uw personeelslijst wacht op uw bevestiging"
    text, html = bodies(message)
    assert "is nog niet verwerkt: deze wacht op uw bevestiging." in text
    assert "meer dienstverbanden beëindigen dan de grens die voor uw bestuur" in text
    # What to do is what the portal says for this hold (domain.plan.HOLD_HINTS).
    assert "Controleer of het bestand compleet is." in text and "Wat u moet doen" in html
    link = f"https://portaal.vogscreen.example/besturen/{board}/wachtend/{list_id}"
    assert link in text.splitlines()


def test_a_refused_person_gets_one_letter_per_board_naming_only_the_personeelsnummer(
    app: App, board: str, mock: MockAuthority, smtp: Inbox, tmp_path: Path
) -> None:
    add_board(app, "23456", "Vereniging Zuiderzon", ["personeel@zuiderzon.nl"])
    staff = fake_employees(4)
    refused = dataclasses.replace(staff[2], bsn=UNKNOWN_BSN)
    staff[2] = refused
    hand_in(app, board, staff, tmp_path)
    at_other = dataclasses.replace(refused, personeelsnummer="ZZ-77")
    hand_in(app, "23456", [at_other, *fake_employees(2, seed=9)], tmp_path)
    assert reconcile(app, mock, retry=FAST).drain.rejected == 1
    assert reconcile(app, mock, retry=FAST).drain.sent == 0  # nothing resent, nothing requeued
    with app.sessions() as session:
        kinds = session.scalars(select(Notification.kind)).all()
    assert sorted(kinds) == [NotificationKind.PERSON_REFUSED] * 2

    summary = notify(app)
    assert (summary.sent, summary.failed) == (2, 0)
    by_recipient = {
        tuple(rcpts): message
        for (_, rcpts), message in zip(smtp.envelopes, smtp.messages, strict=True)
    }
    ours = by_recipient[("hr@testscholen.nl",)]
    theirs = by_recipient[("personeel@zuiderzon.nl",)]
    assert (
        ours["Subject"] == f"Controleer de gegevens van personeelsnummer {refused.personeelsnummer}"
    )
    assert theirs["Subject"] == "Controleer de gegevens van personeelsnummer ZZ-77"
    text, html = bodies(ours)
    assert "Het BSN op uw personeelslijst is bij de autoriteit niet bekend." in text
    assert "Controleer het BSN en de geboortedatum van deze medewerker" in text
    assert f"  Personeelsnummer:  {refused.personeelsnummer}" in text.splitlines()
    assert "ZZ-77" not in text + html and "Zuiderzon" not in text + html
    birth = refused.birth_date
    for message in smtp.messages:
        raw = message.as_string()
        for value in (
            UNKNOWN_BSN,
            f"{UNKNOWN_BSN[:4]}.{UNKNOWN_BSN[4:6]}.{UNKNOWN_BSN[6:]}",
            birth.isoformat(),
            birth.strftime("%d-%m-%Y"),
            birth.strftime("%d/%m/%Y"),
        ):
            assert value not in raw
