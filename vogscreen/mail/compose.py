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
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from vogscreen.domain.errors import InvalidInput
from vogscreen.domain.language import DEFAULT_LANGUAGE, Text, check_language, msg, translations
from vogscreen.domain.statuses import NotificationKind

SUBJECTS: dict[str, Text] = {
    NotificationKind.HIT: msg(
        "Action needed: new VOG for personeelsnummer %(personeelsnummer)s (case %(reference)s)"
    ),
    NotificationKind.REMINDER: msg("Reminder: case %(reference)s is still open"),
}
UNKNOWN = msg("unknown")


@functools.lru_cache(maxsize=4096)
def long_date(value: dt.date, language: str = DEFAULT_LANGUAGE) -> str:
    """A date written out: "1 augustus 2026", "August 1, 2026"."""
    return format_date(value, format="long", locale=check_language(language))


def dutch_date(value: dt.date) -> str:
    return long_date(value, "nl")


def subject_of(letter: Letter, language: str = DEFAULT_LANGUAGE) -> str:
    """The subject line of a hit or reminder letter."""
    template = translations(language).gettext(SUBJECTS[letter.kind].msgid)
    number = letter.personeelsnummer or UNKNOWN.render(language)
    return template % {"personeelsnummer": number, "reference": letter.reference}


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

    def template_values(self, language: str = DEFAULT_LANGUAGE) -> dict[str, object]:
        """What the templates fill in, dates written out in ``language``."""
        return {
            "board_name": self.board_name,
            "person_name": self.person_name,
            "personeelsnummer": self.personeelsnummer or UNKNOWN.render(language),
            "reference": self.reference,
            "deadline": long_date(self.deadline, language),
            "opened": long_date(self.opened, language),
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


def _skeleton(language: str) -> _Skeleton:
    message = EmailMessage()
    message.set_content(_TEXT_SLOT, cte="quoted-printable")
    message.add_alternative(_HTML_SLOT, subtype="html", cte="quoted-printable")
    # Set after the parts exist: making a multipart moves Content-* headers into them.
    message["Content-Language"] = language
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


def _environment(language: str) -> Environment:
    environment = Environment(
        loader=PackageLoader("vogscreen.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # The text is in the templates in English, marked with {% trans %}; Dutch comes from
    # the mail catalog (vogscreen/locale/nl/LC_MESSAGES/mail.po).
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations(language), newstyle=True
    )
    environment.globals["language"] = language
    return environment


# The second step of rendering (see TemplateSet._templates_of): the translated templates.
_PLAIN = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
_ESCAPED = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=True)


class TemplateSet:
    """Renders letters as messages, in Dutch (``environment``) or another language.

    The email package's header and MIME handling cost more than the rest of sending
    together, so it is used once per message shape: the MIME structure around the two
    bodies is built once per language, and headers that repeat (sender, a board's
    recipients) are folded once. Per message only the subject, the Message-ID, the date
    and the two rendered bodies are encoded.
    """

    def __init__(self) -> None:
        self._environments: dict[str, Environment] = {}
        self.environment = self.environment_of(DEFAULT_LANGUAGE)
        self._templates: dict[tuple[str, str, tuple[Any, ...]], tuple[Template, Template]] = {}
        self._skeletons: dict[str, _Skeleton] = {}
        self._headers: dict[tuple[str, str], bytes] = {}
        self._senders: dict[str, str] = {}

    def environment_of(self, language: str) -> Environment:
        environment = self._environments.get(language)
        if environment is None:
            environment = self._environments[language] = _environment(check_language(language))
        return environment

    def compose(
        self,
        letter: Letter,
        *,
        sender: str,
        recipients: list[str],
        message_id: str,
        reply_to: str | None,
        now: dt.datetime,
        language: str = DEFAULT_LANGUAGE,
    ) -> OutgoingMessage:
        """A hit or reminder letter."""
        return self.message(
            letter.kind,
            letter.template_values(language),
            subject_of(letter, language),
            sender=sender,
            recipients=recipients,
            message_id=message_id,
            reply_to=reply_to,
            now=now,
            language=language,
        )

    def message(
        self,
        template: str,
        values: dict[str, object],
        subject: str,
        *,
        sender: str,
        recipients: list[str],
        message_id: str,
        reply_to: str | None,
        now: dt.datetime,
        language: str = DEFAULT_LANGUAGE,
    ) -> OutgoingMessage:
        """The message of ``template`` (its ``.txt`` and ``.html``), filled in with ``values``."""
        text, html = self._templates_of(template, language, values)
        skeleton = self._skeleton_of(language)
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

    def _templates_of(
        self, name: str, language: str, values: dict[str, object]
    ) -> tuple[Template, Template]:
        """The letter's two templates with their text already translated.

        Calling gettext from a template costs more per message than all the rest of the
        rendering, and the translated text is the same for every message of a language.
        So each template is rendered once per language with the i18n extension and a
        placeholder (``{{ name }}``) for every value, and what comes out is compiled as
        the template that the messages are rendered from. Numbers choose a plural, so they
        are filled in at the first step and are part of the key. (The templates only
        print their values; ``test_mail`` checks the outcome against one rendering.)
        """
        numbers = tuple(sorted((k, v) for k, v in values.items() if isinstance(v, int)))
        key = (name, language, numbers)
        pair = self._templates.get(key)
        if pair is None:
            placeholders = {
                k: v if isinstance(v, int) else "{{ %s }}" % k  # noqa: UP031
                for k, v in values.items()
            }
            get = self.environment_of(language).get_template
            pair = self._templates[key] = (
                _PLAIN.from_string(get(f"{name}.txt").render(placeholders)),
                _ESCAPED.from_string(get(f"{name}.html").render(placeholders)),
            )
        return pair

    def _skeleton_of(self, language: str) -> _Skeleton:
        skeleton = self._skeletons.get(language)
        if skeleton is None:
            skeleton = self._skeletons[language] = _skeleton(language)
        return skeleton

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


LOGIN_SUBJECT = msg("Your login link for the vogscreen portal of %(board_name)s")


def compose_login_link(
    *,
    board_name: str,
    link: str,
    valid_minutes: int,
    sender: str,
    recipient: str,
    message_id: str,
    reply_to: str | None,
    now: dt.datetime,
    language: str = DEFAULT_LANGUAGE,
) -> OutgoingMessage:
    """The letter with a one-time login link into the portal, to one address."""
    return default_templates().message(
        "login_link",
        {"board_name": board_name, "link": _single_line("link", link), "minutes": valid_minutes},
        Text(LOGIN_SUBJECT.msgid, {"board_name": board_name}).render(language),
        sender=sender,
        recipients=[recipient],
        message_id=message_id,
        reply_to=reply_to,
        now=now,
        language=language,
    )
