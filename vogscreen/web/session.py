"""The portal's sessions and CSRF tokens, as the pages see them.

- The session cookie holds a random token; the database keeps its digest
  (:mod:`vogscreen.pipeline.login`). The cookie is HttpOnly and SameSite=Lax, and Secure
  when the portal is reached over https (its ``portal_url``, or the request itself, which
  uvicorn takes from X-Forwarded-Proto behind a proxy).
- Every form carries a CSRF token: signed with itsdangerous, bound to the session (or,
  before login, to a random browser cookie), and valid for a session's lifetime. A form
  posted without it, or with another browser's, is refused with 403.
- A page of another board answers 404, as for a board that does not exist; a page
  without a session sends the browser to ``/inloggen``.
"""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Request, Response
from itsdangerous import BadData, URLSafeTimedSerializer

from vogscreen.pipeline.login import SESSION_VALID, Principal, portal_key, principal_of
from vogscreen.runtime.bootstrap import App

SESSION_COOKIE = "vogscreen_sessie"
BROWSER_COOKIE = "vogscreen_browser"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No (live) session: the page sends the browser to the login page."""


class PageNotFound(Exception):
    """A page that is not there, or not the signed-in board's: the same answer."""


class FormRefused(Exception):
    """A form posted without this browser's CSRF token: 403."""


def vogscreen(request: Request) -> App:
    app: App = request.app.state.vogscreen
    return app


def secure(request: Request) -> bool:
    portal_url = vogscreen(request).settings.portal_url
    return portal_url.startswith("https://") or request.url.scheme == "https"


def principal(request: Request) -> Principal | None:
    """Who holds the request's session, once per request."""
    if not hasattr(request.state, "principal"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.principal = principal_of(vogscreen(request), token) if token else None
    found: Principal | None = request.state.principal
    return found


def signed_in(request: Request, number: str) -> Principal:
    """The principal of a page of board ``number``: dependency of every board page."""
    who = principal(request)
    if who is None:
        raise LoginRequired
    if who.board != number:
        raise PageNotFound
    return who


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_VALID.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=secure(request), path="/"
    )


def browser_cookie(request: Request, response: Response) -> None:
    """Before login, forms are bound to a random cookie of the browser's own."""
    if BROWSER_COOKIE not in request.cookies and not hasattr(request.state, "browser"):
        request.state.browser = secrets.token_urlsafe(24)
    if hasattr(request.state, "browser"):
        response.set_cookie(
            BROWSER_COOKIE,
            request.state.browser,
            httponly=True,
            samesite="lax",
            secure=secure(request),
            path="/",
        )


def _binding(request: Request) -> str | None:
    """What a CSRF token is bound to: the session, or before login the browser cookie."""
    session = request.cookies.get(SESSION_COOKIE)
    if session and principal(request) is not None:
        return "s:" + hashlib.sha256(b"csrf:" + session.encode()).hexdigest()
    browser = request.cookies.get(BROWSER_COOKIE) or getattr(request.state, "browser", None)
    return "b:" + hashlib.sha256(b"csrf:" + browser.encode()).hexdigest() if browser else None


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(portal_key(vogscreen(request), "csrf"), salt="portal-form")


def csrf_token(request: Request) -> str:
    """The token the request's forms carry."""
    binding = _binding(request)
    if binding is None:  # a first visit: the browser cookie is set with this answer
        request.state.browser = secrets.token_urlsafe(24)
        binding = _binding(request)
    return str(_serializer(request).dumps(binding))


async def check_csrf(request: Request) -> None:
    """Dependency of every form's POST: 403 unless the form carries this browser's token."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    binding = _binding(request)
    if not isinstance(sent, str) or binding is None:
        raise FormRefused
    try:
        bound = _serializer(request).loads(sent, max_age=int(SESSION_VALID.total_seconds()))
    except BadData:
        raise FormRefused from None
    if not secrets.compare_digest(str(bound), binding):
        raise FormRefused


async def signed_in_form(request: Request, number: str) -> Principal:
    """The principal of a form of board ``number``: first the session (no session goes to
    the login page, another board's is 404), then the form's CSRF token (403)."""
    who = signed_in(request, number)
    await check_csrf(request)
    return who
