"""Composing and delivering email: Jinja2 templates in Dutch, SMTP or a local Maildir.

``VOGSCREEN_SMTP_URL`` chooses SMTP: ``smtp://[user[:password]@]host[:port]`` uses
STARTTLS when the server offers it (``?starttls=required`` refuses a server that does
not), ``smtps://`` speaks TLS from the start. Without it (the embedded default) messages
are written to the Maildir at ``VOGSCREEN_MAILDIR``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vogscreen.exceptions import ConfigurationError
from vogscreen.settings import Settings

_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
SUBJECTS = {
    "hit": "Actie nodig: nieuwe VOG voor personeelsnummer {personeelsnummer} (zaak {reference})",
    "reminder": "Herinnering: zaak {reference} staat nog open",
}


def dutch_date(value: dt.date) -> str:
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


@dataclass(frozen=True)
class Letter:
    """Everything a notification says. Never a BSN, birth date or offence detail."""

    kind: str
    board_name: str
    person_name: str
    personeelsnummer: str | None
    reference: str
    deadline: dt.date
    opened: dt.date


class TemplateSet:
    def __init__(self) -> None:
        self.environment = Environment(
            loader=PackageLoader("vogscreen", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def compose(
        self,
        letter: Letter,
        *,
        sender: str,
        recipients: list[str],
        message_id: str,
        reply_to: str | None,
        now: dt.datetime,
    ) -> EmailMessage:
        values = {
            "board_name": letter.board_name,
            "person_name": letter.person_name,
            "personeelsnummer": letter.personeelsnummer,
            "reference": letter.reference,
            "deadline": dutch_date(letter.deadline),
            "opened": dutch_date(letter.opened),
        }
        message = EmailMessage()
        message["Subject"] = SUBJECTS[letter.kind].format(
            personeelsnummer=letter.personeelsnummer or "onbekend", reference=letter.reference
        )
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        if reply_to:
            message["Reply-To"] = reply_to
        message["Message-ID"] = message_id
        message["Date"] = format_datetime(now)
        message.set_content(self.environment.get_template(f"{letter.kind}.txt").render(values))
        message.add_alternative(
            self.environment.get_template(f"{letter.kind}.html").render(values), subtype="html"
        )
        # Set after the parts exist: making a multipart moves Content-* headers into them.
        message["Content-Language"] = "nl"
        return message


class DeliveryError(Exception):
    """A message was not delivered. ``permanent`` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


class Mailer(Protocol):
    """Delivers messages; used as a context manager so many share one connection."""

    def __enter__(self) -> Mailer: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, message: EmailMessage) -> list[str]:
        """Deliver; return the recipients the server refused (the rest accepted it)."""
        ...

    def describe(self) -> str: ...


class MaildirMailer:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> MaildirMailer:
        # Maildir(create=True) makes tmp/new/cur only for a folder it creates itself.
        for part in ("tmp", "new", "cur"):
            (self.path / part).mkdir(parents=True, exist_ok=True)
        self.box = mailbox.Maildir(self.path, create=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self.box.close()

    def send(self, message: EmailMessage) -> list[str]:
        self.box.add(message)
        return []

    def describe(self) -> str:
        return f"the Maildir {self.path.resolve()}"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # opportunistic | required | never
    user: str | None
    password: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        assert settings.smtp_url is not None
        parts = urlsplit(settings.smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                "VOGSCREEN_SMTP_URL must look like smtp://host:port or smtps://host:port"
            )
        starttls = parse_qs(parts.query).get("starttls", ["opportunistic"])[0]
        if starttls not in ("opportunistic", "required", "never"):
            raise ConfigurationError("starttls= must be opportunistic, required or never")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            implicit_tls=parts.scheme == "smtps",
            starttls=starttls,
            user=unquote(parts.username) if parts.username else settings.smtp_user,
            password=unquote(parts.password) if parts.password else settings.smtp_password,
        )


class SmtpMailer:
    def __init__(self, config: SmtpConfig, timeout: float = 30.0) -> None:
        self.config = config
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        return self

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        try:
            if config.implicit_tls:
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
                connection.ehlo()
                if config.starttls != "never" and connection.has_extn("starttls"):
                    connection.starttls(context=ssl.create_default_context())
                    connection.ehlo()
                elif config.starttls == "required":
                    connection.quit()
                    raise DeliveryError(
                        "the SMTP server does not offer STARTTLS, which is required",
                        permanent=False,
                    )
            if config.user:
                connection.login(config.user, config.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise ConfigurationError(
                f"the SMTP server refused the login ({exc.smtp_code})"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"cannot reach the SMTP server: {exc}", permanent=False, unreachable=True
            ) from None
        return connection

    def send(self, message: EmailMessage) -> list[str]:
        if self.connection is None:
            self.connection = self._connect()
        try:
            refused = self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"every recipient was refused ({', '.join(map(str, codes))})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise DeliveryError(
                f"the SMTP server answered {exc.smtp_code}", permanent=exc.smtp_code >= 500
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(
                f"the SMTP connection failed: {exc}", permanent=False, unreachable=True
            ) from None
        return sorted(refused)

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None

    def __exit__(self, *exc: object) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self._drop()

    def describe(self) -> str:
        return f"the SMTP server {self.config.host}:{self.config.port}"


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(SmtpConfig.from_settings(settings))
    return MaildirMailer(settings.maildir)
