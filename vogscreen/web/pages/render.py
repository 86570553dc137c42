"""Rendering the pages: Jinja2 with the i18n extension on the portal's catalogs.

Every text on a page is an English message id marked with ``_()`` in a template (or
``msg()`` here) whose Dutch is in ``portal.po``. The language is Dutch unless the
browser chose English (the ``vogscreen_taal`` cookie, set from the footer's link).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from babel.dates import format_date, format_datetime, get_timezone
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from vogscreen.domain.language import DEFAULT_LANGUAGE, LANGUAGES, Text, msg, translations
from vogscreen.domain.statuses import (
    CaseOutcome,
    CaseStatus,
    HoldReason,
    StaffListStatus,
    SubscriptionStatus,
    UploadOutcome,
)
from vogscreen.web.session import CSRF_FIELD, browser_cookie, csrf_token, principal

LANGUAGE_COOKIE = "vogscreen_taal"

# What a board reads for each status word, per vocabulary (the words stay the codes the
# API returns; one word, "pending", is in two vocabularies).
LABELS: dict[str, dict[str, Text]] = {
    "list": {
        StaffListStatus.PENDING: msg("accepted, waiting to be processed"),
        StaffListStatus.APPLIED: msg("processed"),
        StaffListStatus.HELD: msg("waiting for your decision"),
        StaffListStatus.DISCARDED: msg("not processed (rejected after the hold)"),
        StaffListStatus.SUPERSEDED: msg("replaced by a newer list"),
        StaffListStatus.REJECTED: msg("rejected: the file has mistakes"),
    },
    "upload": {
        UploadOutcome.ACCEPTED: msg("accepted, the list will be processed"),
        UploadOutcome.UNCHANGED: msg("the same as the previous list"),
        UploadOutcome.HELD: msg("waiting for your decision"),
        UploadOutcome.REJECTED: msg("rejected: the file has mistakes"),
    },
    "case": {
        CaseStatus.OPEN: msg("still open"),
        CaseStatus.RESOLVED: msg("handled"),
    },
    "outcome": {
        CaseOutcome.NEW_VOG: msg("new VOG received"),
        CaseOutcome.EMPLOYMENT_ENDED: msg("employment ended"),
        CaseOutcome.OTHER: msg("otherwise handled"),
    },
    "screening": {
        SubscriptionStatus.ACTIVE: msg("screened"),
        SubscriptionStatus.PENDING: msg("registration in progress"),
        SubscriptionStatus.ENDING: msg("registration ending"),
        SubscriptionStatus.ENDED: msg("registration ended"),
        SubscriptionStatus.FAILED: msg("refused by Justis"),
    },
    "hold": {
        HoldReason.REMOVALS: msg("The list would remove more employees than your board's limit."),
        HoldReason.OLDER_FILE: msg(
            "The file was saved before the list that was already processed."
        ),
        HoldReason.OTHER_BOARD: msg("The list names schools of another board."),
        HoldReason.KNOWN_PERSON: msg(
            "Someone on the list is already known to vogscreen with another birth date."
        ),
    },
}


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("vogscreen.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = lambda value: _date(value, language)
    env.filters["moment"] = lambda value: _moment(value, language)
    env.filters["label"] = lambda value, kind: label(value, kind, language)
    env.filters["text"] = lambda value: value.render(language) if isinstance(value, Text) else value
    # A message (written to stand in a table) as a sentence of its own; "capitalize" would
    # lower the rest ("BRIN" → "Brin").
    env.filters["sentence"] = lambda value: value[:1].upper() + value[1:] if value else value
    return env


def label(value: object, kind: str, language: str) -> str:
    known = LABELS[kind].get(str(value)) if value is not None else None
    return known.render(language) if known else str(value or "")


def _date(value: dt.date | str | None, language: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, format="long", locale=language)


def _moment(value: dt.datetime | str | None, language: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return format_datetime(
        value, format="d MMMM y, HH:mm", tzinfo=get_timezone("Europe/Amsterdam"), locale=language
    )


def page(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` filled in for ``request``: who is signed in, the form token, the
    language, and ``values``."""
    language = language_of(request)
    html = (
        environment(language)
        .get_template(template)
        .render(
            principal=principal(request),
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(request),
            language=language,
            path=request.url.path,
            statuses={
                "list": StaffListStatus,
                "upload": UploadOutcome,
                "case": CaseStatus,
                "outcome": CaseOutcome,
            },
            **values,
        )
    )
    response = HTMLResponse(html, status_code=status)
    browser_cookie(request, response)
    return response
