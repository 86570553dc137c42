"""The limit on a request body's size, applied while it streams in.

Starlette's :class:`~starlette.middleware.body_limit.RequestBodyLimitMiddleware` (through
FastAPI's ``max_body_size``) refuses a body with 413 as soon as its ``Content-Length`` says
it is too large, before a byte of it is read, and otherwise counts the bytes as they
arrive and stops at the first chunk past the limit: also when the ``Content-Length``
understates the body or is missing (a chunked upload). It covers the whole portal, the
API and the pages.

Its answer to a declared size is its own plain "Content Too Large"; :class:`DeclaredSize`
answers that case first, as the portal answers every other error: a problem document
under ``/api`` (:mod:`vogscreen.web.problems`), a Dutch page elsewhere. What is caught
while streaming reaches those handlers as an ``HTTPException(413)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vogscreen.runtime.settings import Settings

# A multipart body carries the file and, around it, boundaries, part headers and the
# other fields: room for those, so that a file just under the limit still gets its report.
MULTIPART_ALLOWANCE = 64 * 1024

ErrorAnswer = Callable[[Request, Exception], Awaitable[Response]]


def max_body_size(settings: Settings) -> int:
    """The largest request body the portal reads: the largest file, plus the envelope."""
    return settings.max_upload_bytes + MULTIPART_ALLOWANCE


class DeclaredSize:
    """Refuse a request whose ``Content-Length`` is over ``limit`` before a byte of its
    body is read, with the portal's own answer for a 413 (``answer``)."""

    def __init__(self, app: ASGIApp, limit: int, answer: ErrorAnswer) -> None:
        self.app = app
        self.limit = limit
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _declared(scope) > self.limit:
            request = Request(scope, receive)
            response = await self.answer(request, HTTPException(413))
            # The body is left unread: the connection is closed after the answer.
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _declared(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # not a length: the streaming limit counts what comes
    return 0
