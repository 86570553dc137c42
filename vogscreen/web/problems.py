"""Errors of the API as RFC 9457 problem documents (``application/problem+json``).

Every error under ``/api`` answers with ``type``, ``title``, ``status`` and ``detail`` (and,
for a malformed request, ``errors``: where and what), in Dutch, and never with a
traceback or the values that were sent: those may hold personal data.

- :class:`~vogscreen.domain.errors.NotFound` is 404 with one and the same text, whether the
  thing does not exist or is another board's: the answer never tells which.
- :class:`~vogscreen.domain.errors.InvalidInput` and a request that does not fit the API
  are 422; :class:`~vogscreen.domain.errors.StateConflict` is 409.
- No or a wrong token is 401 (:class:`ApiProblem`, raised by the API's token check).
- Anything else is 500, logged for the operator and told to the caller in one line.

Outside ``/api`` (the pages) the handlers leave the answer to the pages: a callable set as
``portal.state.page_errors`` (``(request, exc) -> Response``) when there is one, else
Starlette's plain answers.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from vogscreen.domain.errors import (
    DatabaseBusy,
    InvalidInput,
    NotFound,
    StateConflict,
    VogscreenError,
)
from vogscreen.domain.language import DEFAULT_LANGUAGE, Text, msg
from vogscreen.store.database import translate_error

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"


class FieldError(BaseModel):
    location: str = Field(description="Where in the request, e.g. `body.vog_date`.")
    message: str = Field(description="What is wrong there (English, for programs).")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem, in Dutch.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(None, description="What went wrong this time, in Dutch.")
    errors: list[FieldError] | None = Field(
        None, description="For a malformed request: each field that is wrong."
    )


class ApiProblem(Exception):
    """A problem the API raises itself (no token, a wrong one), with its answer."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: Text,
        detail: Text,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title.msgid)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}


NOT_FOUND_TITLE = msg("Not found")
NOT_FOUND_DETAIL = msg("This does not exist, or it does not belong to your board.")


def unauthorized() -> ApiProblem:
    return ApiProblem(
        401,
        "unauthorized",
        msg("Not authenticated"),
        msg("Send a valid, unrevoked token of your board as 'Authorization: Bearer <token>'."),
        {"WWW-Authenticate": 'Bearer realm="vogscreen"'},
    )


def _type(slug: str) -> str:
    return f"urn:vogscreen:problem:{slug}"


def problem(
    status: int,
    slug: str,
    title: Text,
    detail: Text | str | None,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> JSONResponse:
    document = Problem(
        type=_type(slug),
        title=title.render(language),
        status=status,
        detail=detail.render(language) if isinstance(detail, Text) else detail,
        errors=errors,
    )
    return JSONResponse(
        document.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _text_of(exc: Exception) -> Text | str:
    """The message an error carries: a :class:`Text` (rendered in Dutch) or English."""
    first = exc.args[0] if exc.args else ""
    return first if isinstance(first, Text) else str(first)


_TITLES = {
    401: msg("Not authenticated"),
    404: NOT_FOUND_TITLE,
    405: msg("Method not allowed"),
    409: msg("This cannot be done now"),
    413: msg("The request is too large"),
    415: msg("Unsupported media type"),
    422: msg("Invalid request"),
    503: msg("Try again later"),
}


def _api_answer(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ApiProblem):
        return problem(exc.status, exc.slug, exc.title, exc.detail, headers=exc.headers)
    if isinstance(exc, NotFound):
        return problem(404, "not-found", NOT_FOUND_TITLE, NOT_FOUND_DETAIL)
    if isinstance(exc, InvalidInput):
        return problem(422, "invalid-input", msg("Invalid input"), _text_of(exc))
    if isinstance(exc, StateConflict):
        return problem(409, "conflict", _TITLES[409], _text_of(exc))
    if isinstance(exc, DatabaseBusy):
        return problem(
            503,
            "database-busy",
            _TITLES[503],
            msg("The database is busy; try again in a moment."),
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, RequestValidationError):
        return problem(
            422,
            "malformed-request",
            _TITLES[422],
            msg("The request does not match the API; see 'errors'."),
            errors=[
                FieldError(
                    location=".".join(str(part) for part in error.get("loc", ())),
                    message=str(error.get("msg", "")),
                )
                for error in exc.errors()
            ],
        )
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return problem(404, "not-found", NOT_FOUND_TITLE, NOT_FOUND_DETAIL)
        if exc.status_code == 413:
            limit = request.app.state.vogscreen.settings.max_upload_bytes
            return problem(
                413,
                "too-large",
                _TITLES[413],
                msg("A file may be at most %(kib)s KiB.", kib=limit // 1024),
            )
        title = _TITLES.get(exc.status_code)
        phrase = HTTPStatus(exc.status_code).phrase
        return problem(
            exc.status_code,
            phrase.lower().replace(" ", "-"),
            title or msg("Request failed"),
            None,
            headers=dict(exc.headers or {}),
        )
    log.error(
        "api.failed",
        path=request.url.path,
        method=request.method,
        error=type(exc).__name__,
        exc_info=not isinstance(exc, VogscreenError),
    )
    return problem(
        500,
        "internal-error",
        msg("Internal error"),
        msg("Something went wrong on our side; the operator has been told. Try again later."),
    )


async def _page_answer(request: Request, exc: Exception) -> Response:
    pages = getattr(request.app.state, "page_errors", None)
    if pages is not None:
        answer: Response = await pages(request, exc)
        return answer
    if isinstance(exc, RequestValidationError):
        return await request_validation_exception_handler(request, exc)
    if isinstance(exc, HTTPException):
        return await http_exception_handler(request, exc)
    status = {NotFound: 404, InvalidInput: 422, StateConflict: 409, DatabaseBusy: 503}
    for kind, code in status.items():
        if isinstance(exc, kind):
            return PlainTextResponse(HTTPStatus(code).phrase, status_code=code)
    log.error("page.failed", path=request.url.path, error=type(exc).__name__, exc_info=True)
    return PlainTextResponse("Internal Server Error", status_code=500)


async def handle(request: Request, exc: Exception) -> Response:
    # A driver's error that is ours to name (a locked database, a deadlock: try again).
    ours = translate_error(exc, request.app.state.vogscreen.settings.database_url)
    if ours is not None:
        exc = ours
    if request.url.path.startswith(API_PREFIX):
        return _api_answer(request, exc)
    return await _page_answer(request, exc)


def install(portal: FastAPI) -> None:
    """Answer every error: a problem document under ``/api``, the pages' answer elsewhere."""
    for kind in (
        ApiProblem,
        NotFound,
        InvalidInput,
        StateConflict,
        DatabaseBusy,
        RequestValidationError,
        HTTPException,
        Exception,
    ):
        portal.add_exception_handler(kind, handle)


RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "description": description,
    }
    for status, description in (
        (401, "No token, or a wrong or revoked one."),
        (404, "Not found, or not your board's (the answer does not tell which)."),
        (422, "A malformed request, or a value that is not allowed."),
    )
}
