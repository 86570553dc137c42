"""SMTP settings and delivery rules, against a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import pytest

from tests.smtp_server import smtp_server
from vogscreen.domain.errors import ConfigurationError, DeliveryError
from vogscreen.mail.compose import Letter, OutgoingMessage, TemplateSet, subject_of
from vogscreen.mail.delivery import SmtpConfig, SmtpMailer
from vogscreen.runtime.settings import load_settings


def config(url: str, **env: str) -> SmtpConfig:
    return SmtpConfig.from_settings(load_settings({"VOGSCREEN_SMTP_URL": url, **env}))


def test_smtp_urls_are_read_with_their_tls_mode_and_credentials() -> None:
    plain = config("smtp://mail.example.nl")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
        "mail.example.nl",
        25,
        False,
        "opportunistic",
    )
    required = config("smtp://u%40x:p%25w@mail.example.nl:587?starttls=required")
    assert (required.port, required.starttls, required.user, required.password) == (
        587,
        "required",
        "u@x",
        "p%w",
    )
    implicit = config(
        "smtps://mail.example.nl", VOGSCREEN_SMTP_USER="hr", VOGSCREEN_SMTP_PASSWORD="s"
    )
    assert (implicit.port, implicit.implicit_tls, implicit.user, implicit.password) == (
        465,
        True,
        "hr",
        "s",
    )
    with pytest.raises(ConfigurationError):
        config("http://mail.example.nl")
    with pytest.raises(ConfigurationError):
        config("smtp://mail.example.nl?starttls=maybe")


def message() -> OutgoingMessage:
    letter = Letter(
        "hit",
        "Stichting X",
        "J. Vries",
        "P1",
        "VS-10001-000001",
        dt.date(2026, 8, 1),
        dt.date(2026, 6, 1),
    )
    return TemplateSet().compose(
        letter,
        sender="vogscreen <v@x.nl>",
        recipients=["hr@x.nl"],
        message_id="<a@b>",
        reply_to="hr@x.nl",
        now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )


def test_starttls_required_refuses_a_server_that_does_not_offer_it_and_sends_nothing() -> None:
    with smtp_server() as (inbox, port):
        mailer = SmtpMailer(config(f"smtp://127.0.0.1:{port}?starttls=required"))
        with mailer, pytest.raises(DeliveryError, match="STARTTLS") as refused:
            mailer.send(message())
        assert not refused.value.permanent
        assert inbox.messages == []


def test_opportunistic_starttls_delivers_in_the_clear_to_a_server_without_tls() -> None:
    with smtp_server() as (inbox, port), SmtpMailer(config(f"smtp://127.0.0.1:{port}")) as mailer:
        assert mailer.send(message()) == []
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["Reply-To"] == "hr@x.nl"
    assert "1 augustus 2026" in inbox.messages[0].as_string()


def reference(letter: Letter, recipients: list[str]) -> EmailMessage:
    """The same message built field by field with the email package, as a receiver reads it."""
    environment = TemplateSet().environment
    values = letter.template_values()
    built = EmailMessage()
    built["Subject"] = subject_of(letter)
    built["From"] = "vogscreen <v@x.nl>"
    built["To"] = ", ".join(recipients)
    built["Message-ID"] = "<hit.7.3@vogscreen.invalid>"
    built.set_content(environment.get_template(f"{letter.kind}.txt").render(values))
    built.add_alternative(
        environment.get_template(f"{letter.kind}.html").render(values), subtype="html"
    )
    wire = built.as_bytes(policy=email.policy.SMTP)
    received = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    return received


@pytest.mark.parametrize("kind", ["hit", "reminder"])
@pytest.mark.parametrize(
    ("board", "name", "number"),
    [
        ("Stichting Noorderlicht", "J. de Vries", "P1"),
        ('Stichting <Zuid> & "Oost"', "Ünal Öztürk-Çelik", "Pé-" + "7" * 70),
        ("Vereniging Zuiderzon", "(onbekend)", None),
    ],
)
def test_a_composed_message_reads_back_as_the_email_package_would_build_it(
    kind: str, board: str, name: str, number: str | None
) -> None:
    letter = Letter(
        kind, board, name, number, "VS-10001-000007", dt.date(2026, 8, 1), dt.date(2026, 6, 1)
    )
    recipients = ["hr@x.nl", "po@x.nl"]
    composed = TemplateSet().compose(
        letter,
        sender="vogscreen <v@x.nl>",
        recipients=recipients,
        message_id="<hit.7.3@vogscreen.invalid>",
        reply_to=None,
        now=dt.datetime(2026, 6, 1, 12, 30, tzinfo=dt.UTC),
    )
    assert (composed.sender, composed.recipients) == ("v@x.nl", ("hr@x.nl", "po@x.nl"))
    assert composed.data.isascii() and b"\r\n" in composed.data
    assert all(len(line) <= 78 for line in composed.data.split(b"\r\n"))
    parsed, expected = composed.as_email(), reference(letter, recipients)
    for header in ("Subject", "From", "To", "Message-ID"):
        assert str(parsed[header]) == str(expected[header])
    assert parsed["Date"].datetime == dt.datetime(2026, 6, 1, 12, 30, tzinfo=dt.UTC)
    assert parsed["Content-Language"] == "nl" and "Reply-To" not in parsed
    assert parsed.get_content_type() == "multipart/alternative"
    for subtype in ("plain", "html"):
        part, wanted = parsed.get_body((subtype,)), expected.get_body((subtype,))
        assert part is not None and wanted is not None
        assert part.get_content() == wanted.get_content()
        assert part.get_content_charset() == "utf-8"
