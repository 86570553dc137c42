"""Composing email: the Dutch letters, rendered from Jinja2 templates into ready messages.

A :class:`Letter` says what a notification tells the board; :class:`TemplateSet` renders
it as an :class:`OutgoingMessage` (envelope and RFC 5322 bytes) that a mailer in
:mod:`vogscreen.mail.delivery` sends.
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.policy
import functools
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from vogscreen.domain.errors import InvalidInput
from vogscreen.domain.statuses import NotificationKind

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
SUBJECTS: dict[str, str] = {
    NotificationKind.HIT: (
        "Actie nodig: nieuwe VOG voor personeelsnummer {personeelsnummer} (zaak {reference})"
    ),
    NotificationKind.REMINDER: "Herinnering: zaak {reference} staat nog open",
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
