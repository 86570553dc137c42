"""Choosing the mailer from the settings: SMTP when ``VOGSCREEN_SMTP_URL`` is set, the
Maildir at ``VOGSCREEN_MAILDIR`` otherwise."""

from __future__ import annotations

from vogscreen.mail.delivery import MaildirMailer, Mailer, SmtpConfig, SmtpMailer
from vogscreen.runtime.settings import Settings


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(SmtpConfig.from_settings(settings))
    return MaildirMailer(settings.maildir)
