"""The Dutch pages for people at a board, under ``/``.

Every board page lives under ``/besturen/{number}/`` and needs a session of that board: a
page of another board answers 404, as one that does not exist; without a session the
browser goes to ``/inloggen``. Every form carries a CSRF token (:mod:`vogscreen.web.session`).
The pages work without JavaScript; htmx only spares a full page load.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vogscreen.web.pages import board, decisions, lists, login, tokens
from vogscreen.web.pages.render import page
from vogscreen.web.session import FormRefused, LoginRequired, PageNotFound


def install(portal: FastAPI) -> None:
    portal.include_router(login.router)
    portal.include_router(board.router)
    portal.include_router(lists.router)
    portal.include_router(decisions.router)
    portal.include_router(tokens.router)

    @portal.exception_handler(LoginRequired)
    async def _login_first(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/inloggen", status_code=303)

    @portal.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> HTMLResponse:
        return page(request, "not_found.html", status=404)

    @portal.exception_handler(FormRefused)
    async def _refused(request: Request, exc: FormRefused) -> HTMLResponse:
        return page(request, "refused.html", status=403)
