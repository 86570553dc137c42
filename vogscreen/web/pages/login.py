"""Logging in by e-mail link, logging out, and the language of the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vogscreen.domain.errors import InvalidInput
from vogscreen.domain.language import LANGUAGES
from vogscreen.pipeline.login import (
    LINK_VALID,
    TooManyRequests,
    end_session,
    link_is_usable,
    open_session_by_link,
    request_link,
    send_links,
)
from vogscreen.web.pages.render import LANGUAGE_COOKIE, page
from vogscreen.web.session import (
    SESSION_COOKIE,
    check_csrf,
    clear_session_cookie,
    principal,
    secure,
    set_session_cookie,
    vogscreen,
)

router = APIRouter(include_in_schema=False)
MINUTES = int(LINK_VALID.total_seconds() // 60)


@router.get("/")
def home(request: Request) -> Response:
    who = principal(request)
    return RedirectResponse(f"/besturen/{who.board}/" if who else "/inloggen", status_code=303)


@router.get("/inloggen")
def login_form(request: Request, uitgelogd: bool = False) -> HTMLResponse:
    return page(request, "login.html", logged_out=uitgelogd, error=None, address="")


@router.post("/inloggen", dependencies=[Depends(check_csrf)])
def ask_for_link(
    request: Request, background: BackgroundTasks, adres: Annotated[str, Form()] = ""
) -> Response:
    client = request.client.host if request.client else "unknown"
    app = vogscreen(request)
    try:
        # Sent after the answer has gone, known address or not (the answer's time says
        # nothing of which it was).
        background.add_task(send_links, app, request_link(app, adres, client))
    except InvalidInput:
        return page(
            request, "login.html", status=422, logged_out=False, error="address", address=adres
        )
    except TooManyRequests:
        return page(request, "login.html", status=429, logged_out=False, error="limit", address="")
    return RedirectResponse("/inloggen/verstuurd", status_code=303)


@router.get("/inloggen/verstuurd")
def link_sent(request: Request) -> HTMLResponse:
    return page(request, "login_sent.html", minutes=MINUTES)


@router.get("/inloggen/link")
def link_landing(request: Request, token: str = "") -> HTMLResponse:
    """A mail scanner that opens the link only sees this page: the link is taken by the
    button's POST, so it still works for the person it was sent to."""
    if not token or not link_is_usable(vogscreen(request), token):
        return page(request, "link_invalid.html", status=410)
    return page(request, "login_link.html", token=token)


@router.post("/inloggen/link", dependencies=[Depends(check_csrf)])
def follow_link(request: Request, token: Annotated[str, Form()] = "") -> Response:
    opened = open_session_by_link(vogscreen(request), token) if token else None
    if opened is None:
        return page(request, "link_invalid.html", status=410)
    session_token, who = opened
    response = RedirectResponse(f"/besturen/{who.board}/", status_code=303)
    set_session_cookie(request, response, session_token)
    return response


@router.post("/uitloggen", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(vogscreen(request), token)
    response = RedirectResponse("/inloggen?uitgelogd=true", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.get("/taal/{language}")
def choose_language(request: Request, language: str, terug: str = "/") -> Response:
    # Only a path of this site: never a link onwards to somewhere else.
    back = terug if terug.startswith("/") and not terug.startswith(("//", "/\\")) else "/"
    response = RedirectResponse(back, status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=secure(request),
            httponly=True,
        )
    return response
