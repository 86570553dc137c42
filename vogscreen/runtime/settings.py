"""Every setting vogscreen reads, in one place.

Settings come from ``VOGSCREEN_*`` environment variables. Nothing is read at import time:
:func:`load_settings` is called once by :func:`vogscreen.runtime.bootstrap.bootstrap`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vogscreen.domain.errors import ConfigurationError

PREFIX = "VOGSCREEN_"


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    maildir: Path
    key_file: Path | None
    bsn_hmac_key: str | None = field(default=None, repr=False)
    bsn_encryption_key: str | None = field(default=None, repr=False)
    authority: str = "mock"
    authority_url: str | None = None
    authority_token: str | None = field(default=None, repr=False)
    authority_client_cert: str | None = None
    authority_client_key: str | None = None
    max_upload_bytes: int = 50 * 1024 * 1024
    max_xlsx_unpacked_bytes: int = 200 * 1024 * 1024
    smtp_url: str | None = field(default=None, repr=False)
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "vogscreen <vogscreen@localhost>"
    mail_reply_to: str | None = None
    reminder_days: int = 14
    retention_days: int = 183
    inbox_dir: Path = Path("inbox")
    inbox_settle_seconds: int = 10
    lease_seconds: int = 60
    schedules: dict[str, str] = field(default_factory=dict)
    log_format: str = "auto"
    log_level: str = "info"
    actor: str = "operator"
    # Where boards reach the portal: links in letters and login e-mails start here. An
    # https URL also marks the session cookie Secure.
    portal_url: str = "http://127.0.0.1:8000"

    @property
    def is_embedded(self) -> bool:
        """True for the embedded default: a SQLite database on this machine."""
        return self.database_url.startswith("sqlite")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{PREFIX}{name} must be at least {minimum}, got {value}")
    return value


def normalise_database_url(url: str) -> str:
    """Pick our driver for a plain ``postgresql://`` URL, so the URL works as given."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    var_dir = Path(env.get(PREFIX + "VAR_DIR", "var"))
    database_url = env.get(PREFIX + "DATABASE_URL") or f"sqlite:///{var_dir / 'vogscreen.db'}"
    key_file = env.get(PREFIX + "KEY_FILE")
    authority = env.get(PREFIX + "AUTHORITY", "mock")
    log_format = env.get(PREFIX + "LOG_FORMAT", "auto")
    if log_format not in ("auto", "json", "console"):
        raise ConfigurationError(f"{PREFIX}LOG_FORMAT must be auto, json or console")
    return Settings(
        database_url=normalise_database_url(database_url),
        var_dir=var_dir,
        maildir=Path(env.get(PREFIX + "MAILDIR") or var_dir / "mail"),
        key_file=Path(key_file) if key_file else None,
        bsn_hmac_key=env.get(PREFIX + "BSN_HMAC_KEY") or None,
        bsn_encryption_key=env.get(PREFIX + "BSN_ENCRYPTION_KEY") or None,
        authority=authority,
        authority_url=env.get(PREFIX + "AUTHORITY_URL") or None,
        authority_token=env.get(PREFIX + "AUTHORITY_TOKEN") or None,
        authority_client_cert=env.get(PREFIX + "AUTHORITY_CLIENT_CERT") or None,
        authority_client_key=env.get(PREFIX + "AUTHORITY_CLIENT_KEY") or None,
        max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
        max_xlsx_unpacked_bytes=_int(env, "MAX_XLSX_UNPACKED_BYTES", 200 * 1024 * 1024),
        smtp_url=env.get(PREFIX + "SMTP_URL") or None,
        smtp_user=env.get(PREFIX + "SMTP_USER") or None,
        smtp_password=env.get(PREFIX + "SMTP_PASSWORD") or None,
        mail_from=env.get(PREFIX + "MAIL_FROM") or "vogscreen <vogscreen@localhost>",
        mail_reply_to=env.get(PREFIX + "MAIL_REPLY_TO") or None,
        reminder_days=_int(env, "REMINDER_DAYS", 14),
        retention_days=_int(env, "RETENTION_DAYS", 183),
        inbox_dir=Path(env.get(PREFIX + "INBOX") or "inbox"),
        inbox_settle_seconds=_int(env, "INBOX_SETTLE_SECONDS", 10, minimum=0),
        lease_seconds=_int(env, "LEASE_SECONDS", 60),
        schedules={
            name[len(PREFIX + "SCHEDULE_") :].lower(): value
            for name, value in env.items()
            if name.startswith(PREFIX + "SCHEDULE_")
        },
        log_format=log_format,
        log_level=env.get(PREFIX + "LOG_LEVEL", "info").lower(),
        actor=env.get(PREFIX + "ACTOR") or os.environ.get("USER") or "operator",
        portal_url=(env.get(PREFIX + "PORTAL_URL") or "http://127.0.0.1:8000").rstrip("/"),
    )
