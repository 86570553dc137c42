"""Delivering composed messages: over SMTP, or into a local Maildir.

``VOGSCREEN_SMTP_URL`` chooses SMTP: ``smtp://[user[:password]@]host[:port]`` uses
STARTTLS when the server offers it (``?starttls=required`` refuses a server that does
not), ``smtps://`` speaks TLS from the start. Without it (the embedded default) messages
are written to the Maildir at ``VOGSCREEN_MAILDIR``. :func:`vogscreen.runtime.mailer.make_mailer`
chooses from the settings.
"""

from __future__ import annotations

import contextlib
import mailbox
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from vogscreen.domain.errors import ConfigurationError, DeliveryError
from vogscreen.mail.compose import OutgoingMessage


class SmtpSettings(Protocol):
    """What SMTP delivery reads from the settings (:class:`vogscreen.runtime.settings.Settings`
    has it): mail is a layer below the runtime and does not import it."""

    @property
    def smtp_url(self) -> str | None: ...

    @property
    def smtp_user(self) -> str | None: ...

    @property
    def smtp_password(self) -> str | None: ...


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
    def from_settings(cls, settings: SmtpSettings) -> SmtpConfig:
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
