"""Composing and delivering email: Jinja2 templates in Dutch, SMTP or a local Maildir.

``VOGSCREEN_SMTP_URL`` chooses SMTP: ``smtp://[user[:password]@]host[:port]`` uses
STARTTLS when the server offers it (``?starttls=required`` refuses a server that does
not), ``smtps://`` speaks TLS from the start. Without it (the embedded default) messages
are written to the Maildir at ``VOGSCREEN_MAILDIR``.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
import email.policy
import functools
import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from vogscreen.domain.errors import ConfigurationError, InvalidInput
from vogscreen.runtime.settings import Settings

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

    def template_values(self) -> dict[str, object]:
        """What the templates fill in, dates written out in Dutch."""
        return {
            "board_name": self.board_name,
            "person_name": self.person_name,
            "personeelsnummer": self.personeelsnummer,
            "reference": self.reference,
            "deadline": dutch_date(self.deadline),
            "opened": dutch_date(self.opened),
        }


@dataclass(frozen=True)
class OutgoingMessage:
    """A composed message: its SMTP envelope and the message itself, ready to send.

    ``data`` is the whole RFC 5322 message with CRLF line ends. ``international`` says an
    address is not ASCII, so delivery needs SMTPUTF8.
    """

    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes
    international: bool = False

    def as_email(self) -> EmailMessage:
        parsed = BytesParser(policy=email.policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


# Stand-ins for the two bodies while the email package builds the MIME structure once.
_TEXT_SLOT = "vogscreen-text-body"
_HTML_SLOT = "vogscreen-html-body"


@dataclass(frozen=True)
class _Skeleton:
    """A message's MIME headers and the bytes around its two quoted-printable bodies."""

    head: bytes
    before_text: bytes
    between: bytes
    after_html: bytes


def _skeleton() -> _Skeleton:
    message = EmailMessage()
    message.set_content(_TEXT_SLOT, cte="quoted-printable")
    message.add_alternative(_HTML_SLOT, subtype="html", cte="quoted-printable")
    # Set after the parts exist: making a multipart moves Content-* headers into them.
    message["Content-Language"] = "nl"
    head, body = message.as_bytes(policy=email.policy.SMTP).split(b"\r\n\r\n", 1)
    before_text, rest = body.split(_TEXT_SLOT.encode() + b"\r\n", 1)
    between, after_html = rest.split(_HTML_SLOT.encode() + b"\r\n", 1)
    return _Skeleton(head + b"\r\n\r\n", before_text, between, after_html)


def _quoted_printable(text: str) -> bytes:
    # Quoted-printable never writes "==" (a literal "=" becomes "=3D"), so no body can
    # contain the skeleton's boundary ("===============<digits>==").
    lines = text.encode("utf-8").splitlines()
    return binascii.b2a_qp(b"\r\n".join(lines) + b"\r\n", istext=True)


def _single_line(name: str, value: str) -> str:
    """``value`` when it is one line; a line break would start a header line of its own
    (a ``Bcc:`` smuggled in by a personeelsnummer, say)."""
    if len(value.splitlines()) > 1 or "\r" in value or "\n" in value:
        # Not the value: it may hold what a board typed, a BSN even.
        raise InvalidInput(f"the {name} header would contain a line break; nothing was sent")
    return value


def _plain_header(name: str, value: str) -> bytes:
    """A header whose value we make ourselves and know to be short, single-line ASCII."""
    if not value.isascii() or not _single_line(name, value).isprintable() or len(value) > 200:
        raise InvalidInput(f"the {name} header must be short printable ASCII")
    return f"{name}: {value}\r\n".encode("ascii")


class TemplateSet:
    """Renders letters as messages.

    The email package's header and MIME handling cost more than the rest of sending
    together, so it is used once per message shape: the MIME structure around the two
    bodies is built once, and headers that repeat (sender, a board's recipients) are
    folded once. Per message only the subject, the Message-ID, the date and the two
    rendered bodies are encoded.
    """

    def __init__(self) -> None:
        self.environment = Environment(
            loader=PackageLoader("vogscreen.mail", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self._templates: dict[str, tuple[Template, Template]] = {}
        self._skeleton: _Skeleton | None = None
        self._headers: dict[tuple[str, str], bytes] = {}
        self._senders: dict[str, str] = {}

    def compose(
        self,
        letter: Letter,
        *,
        sender: str,
        recipients: list[str],
        message_id: str,
        reply_to: str | None,
        now: dt.datetime,
    ) -> OutgoingMessage:
        values = letter.template_values()
        text, html = self._templates_of(letter.kind)
        skeleton = self._skeleton or self._build_skeleton()
        subject = SUBJECTS[letter.kind].format(
            personeelsnummer=letter.personeelsnummer or "onbekend", reference=letter.reference
        )
        to = ", ".join(recipients)
        international = not all(address.isascii() for address in (sender, *recipients))
        data = b"".join(
            (
                _folded("Subject", subject, email.policy.SMTP),
                self._repeated("From", sender),
                self._repeated("To", to),
                self._repeated("Reply-To", reply_to) if reply_to else b"",
                _plain_header("Message-ID", message_id),
                _plain_header("Date", format_datetime(now)),
                skeleton.head,
                skeleton.before_text,
                _quoted_printable(text.render(values)),
                skeleton.between,
                _quoted_printable(html.render(values)),
                skeleton.after_html,
            )
        )
        return OutgoingMessage(
            sender=self._envelope_sender(sender),
            recipients=tuple(recipients),
            message_id=message_id,
            data=data,
            international=international,
        )

    def _templates_of(self, kind: str) -> tuple[Template, Template]:
        # Kept here rather than asked of the environment per message, which checks the
        # template files for changes every time.
        pair = self._templates.get(kind)
        if pair is None:
            get = self.environment.get_template
            pair = self._templates[kind] = (get(f"{kind}.txt"), get(f"{kind}.html"))
        return pair

    def _build_skeleton(self) -> _Skeleton:
        self._skeleton = _skeleton()
        return self._skeleton

    def _repeated(self, name: str, value: str) -> bytes:
        folded = self._headers.get((name, value))
        if folded is None:
            policy = email.policy.SMTP if value.isascii() else email.policy.SMTPUTF8
            folded = self._headers[name, value] = _folded(name, value, policy)
        return folded

    def _envelope_sender(self, sender: str) -> str:
        address = self._senders.get(sender)
        if address is None:
            address = self._senders[sender] = getaddresses([sender])[0][1]
        return address


def _folded(name: str, value: str, policy: email.policy.EmailPolicy[EmailMessage]) -> bytes:
    """One header as the email package writes it: encoded words where needed, folded."""
    header = policy.header_factory(name, _single_line(name, value))
    return str(header.fold(policy=policy)).encode("utf-8" if policy.utf8 else "ascii")


@functools.cache
def default_templates() -> TemplateSet:
    """The process's template set: templates parsed and structures built only once."""
    return TemplateSet()


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

    def send(self, message: OutgoingMessage) -> list[str]:
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

    def send(self, message: OutgoingMessage) -> list[str]:
        # A file in a Maildir has the local line ends.
        self.box.add(message.data.replace(b"\r\n", b"\n"))
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

    def send(self, message: OutgoingMessage) -> list[str]:
        if self.connection is None:
            self.connection = self._connect()
        options: tuple[str, ...] = ()
        if message.international:
            if not self.connection.has_extn("smtputf8"):
                raise DeliveryError(
                    "an address is not ASCII and the SMTP server does not offer SMTPUTF8",
                    permanent=True,
                )
            options = ("SMTPUTF8", "BODY=8BITMIME")
        try:
            refused = self.connection.sendmail(
                message.sender, list(message.recipients), message.data, mail_options=options
            )
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
