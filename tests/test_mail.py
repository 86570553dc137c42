"""SMTP settings and delivery rules, against a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest

from tests.smtp_server import smtp_server
from vogscreen.exceptions import ConfigurationError
from vogscreen.mail import DeliveryError, Letter, SmtpConfig, SmtpMailer, TemplateSet
from vogscreen.settings import load_settings


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


def message() -> EmailMessage:
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
