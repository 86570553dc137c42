"""The Dutch pages for people at a board, under ``/``.

Every board page lives under ``/besturen/{number}/`` and needs a session of that board: a
page of another board answers 404, as one that does not exist; without a session the
browser goes to ``/inloggen``. Every form carries a CSRF token (:mod:`vogscreen.web.session`).
The pages work without JavaScript; htmx only spares a full page load.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from vogscreen.domain.errors import DatabaseBusy, InvalidInput, NotFound, StateConflict
from vogscreen.domain.language import Text, msg
from vogscreen.web.pages import board, decisions, lists, login, tokens
from vogscreen.web.pages.render import language_of, page
from vogscreen.web.session import FormRefused, LoginRequired, PageNotFound, vogscreen

log = structlog.get_logger(__name__)


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

    portal.state.page_errors = _error_page


# What a page says of an error (web.problems answers the API's): in the reader's language,
# never the exception's own text, which is for operators.
_PAGE_ERRORS: dict[int, tuple[Text, Text]] = {
    409: (
        msg("This cannot be done now"),
        msg("Someone may have done it already. Reload the page and look again."),
    ),
    413: (msg("The file is too large"), msg("A file may be at most %(kib)s KiB.")),
    422: (
        msg("The form is not filled in right"),
        msg("Go back, check what you filled in and try again."),
    ),
    503: (msg("vogscreen is busy"), msg("Try again in a moment.")),
    500: (
        msg("Something went wrong"),
        msg("Something went wrong on our side; the operator has been told. Try again later."),
    ),
}


async def _error_page(request: Request, exc: Exception) -> Response:
    status = _status_of(exc)
    if status == 404:
        return page(request, "not_found.html", status=404)
    title, detail = _PAGE_ERRORS.get(status, _PAGE_ERRORS[500])
    if status == 500:
        log.error("page.failed", path=request.url.path, error=type(exc).__name__, exc_info=True)
    language = language_of(request)
    kib = vogscreen(request).settings.max_upload_bytes // 1024
    return page(
        request,
        "error.html",
        status=status,
        title=title.render(language),
        detail=Text(detail.msgid, {"kib": kib} if status == 413 else {}).render(language),
    )


def _status_of(exc: Exception) -> int:
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError | InvalidInput):
        return 422
    for kind, status in ((NotFound, 404), (StateConflict, 409), (DatabaseBusy, 503)):
        if isinstance(exc, kind):
            return status
    return 500
