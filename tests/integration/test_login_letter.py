"""The login letter: a one-time link into the portal, in Dutch by default, over real SMTP."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.smtp_server import smtp_server
from vogscreen.domain.errors import InvalidInput
from vogscreen.mail.compose import OutgoingMessage, compose_login_link
from vogscreen.mail.delivery import SmtpConfig, SmtpMailer
from vogscreen.runtime.settings import load_settings

LINK = "http://127.0.0.1:8000/inloggen/link?token=Zx9-aB_12&lang=nl"
NOW = dt.datetime(2026, 6, 1, 9, 15, tzinfo=dt.UTC)


def login_letter(language: str = "nl", *, link: str = LINK, minutes: int = 15) -> OutgoingMessage:
    return compose_login_link(
        board_name='Stichting <Zuid> & "Oost"',
        link=link,
        valid_minutes=minutes,
        sender="vogscreen <noreply@vogscreen.nl>",
        recipient="hr@zuid.nl",
        message_id="<login.1@vogscreen.invalid>",
        reply_to="servicedesk@vogscreen.nl",
        now=NOW,
        language=language,
    )


def bodies(message: OutgoingMessage) -> tuple[str, str]:
    parsed = message.as_email()
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_the_login_letter_is_dutch_by_default_and_carries_the_link_once_usable() -> None:
    message = login_letter()
    parsed = message.as_email()
    subject = 'Uw inloglink voor het vogscreen-portaal van Stichting <Zuid> & "Oost"'
    assert parsed["Subject"] == subject
    assert parsed["Content-Language"] == "nl"
    assert (message.sender, message.recipients) == ("noreply@vogscreen.nl", ("hr@zuid.nl",))
    assert parsed["Reply-To"] == "servicedesk@vogscreen.nl"
    assert parsed["Date"].datetime == NOW
    text, html = bodies(message)
    assert 'Beste HR-medewerker van Stichting <Zuid> & "Oost",' in text
    assert "De link werkt één keer en is 15 minuten geldig." in text
    assert LINK in text.splitlines()  # on a line of its own, whole
    assert "Heeft u niet om deze link gevraagd?" in text
    assert '<html lang="nl">' in html
    # The board's name and the link are escaped in HTML; the link is still the same link.
    assert "Stichting &lt;Zuid&gt; &amp; &#34;Oost&#34;" in html
    assert f'<a href="{LINK.replace("&", "&amp;")}">Inloggen op het portaal</a>' in html
    assert "15 minuten geldig" in html
    assert all(len(line) <= 78 for line in message.data.split(b"\r\n"))


def test_one_minute_is_singular_and_english_is_there_too() -> None:
    text, _ = bodies(login_letter(minutes=1))
    assert "is 1 minuut geldig" in text
    english = login_letter("en")
    assert english.as_email()["Subject"].startswith("Your login link for the vogscreen portal")
    assert english.as_email()["Content-Language"] == "en"
    text, html = bodies(english)
    assert "The link works once and is valid for 15 minutes." in text
    assert '<html lang="en">' in html and "Log in to the portal</a>" in html
    assert "geldig" not in text + html


def test_a_link_with_a_line_break_is_refused() -> None:
    with pytest.raises(InvalidInput):
        login_letter(link=LINK + "\r\nBcc: someone@example.org")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        login_letter("de")


def test_the_login_letter_is_delivered_over_smtp_as_composed() -> None:
    with smtp_server() as (inbox, port):
        settings = load_settings({"VOGSCREEN_SMTP_URL": f"smtp://127.0.0.1:{port}"})
        with SmtpMailer(SmtpConfig.from_settings(settings)) as mailer:
            assert mailer.send(login_letter()) == []
    assert inbox.envelopes == [("noreply@vogscreen.nl", ["hr@zuid.nl"])]
    received = inbox.messages[0]
    assert received["Message-ID"] == "<login.1@vogscreen.invalid>"
    plain = received.get_body(("plain",))
    assert plain is not None and LINK in plain.get_content()
