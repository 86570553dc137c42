"""The portal's outermost layer: headers every answer carries, and the last resort.

- Every answer says it may not be framed by another site (``X-Frame-Options``, CSP
  ``frame-ancestors``: the buttons that confirm a held list or revoke a key cannot be
  clickjacked), may not be sniffed as another type, and sends no referrer off the site.
- An API call without a valid token is answered 401 before a byte of its body is read
  (:class:`TokenFirst`): FastAPI reads and parses a body before it runs the token check,
  so a stranger could otherwise make the portal take in a 50 MB upload, or learn from a
  422 what a well-formed request looks like. The route's own check (board, audit) follows.
- An error no handler answered (a bug) still gets the portal's own answer, a problem
  document under ``/api`` or a Dutch page, and one log line through structlog (JSON, BSNs
  redacted). Starlette would answer and then raise it on to the server, which prints a
  raw traceback of its own that no redaction sees; here it stops.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vogscreen.pipeline.tokens import authenticate
from vogscreen.runtime.bootstrap import App as Vogscreen
from vogscreen.web.problems import unauthorized

log = structlog.get_logger(__name__)
API_V1 = "/api/v1/"

ErrorAnswer = Callable[[Request, Exception], Awaitable[Response]]

HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class Guard:
    def __init__(self, app: ASGIApp, answer: ErrorAnswer) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name for name, _ in message.get("headers", ())}
                extra = [(name, value) for name, value in HEADERS if name not in names]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception as exc:
            if started:
                # Answered (and logged) by the portal's handler, which Starlette then
                # raises on: it ends here.
                return
            log.error(
                "portal.failed",
                path=scope.get("path"),
                method=scope.get("method"),
                error=type(exc).__name__,
                exc_info=True,
            )
            response = await self.answer(Request(scope, receive), exc)
            await response(scope, receive, with_headers)


class TokenFirst:
    """401 for a call under ``/api/v1/`` whose bearer token is missing, unknown or revoked,
    before the call's body is read."""

    def __init__(self, app: ASGIApp, portal: Vogscreen, answer: ErrorAnswer) -> None:
        self.app = app
        self.portal = portal
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(API_V1):
            token = _bearer(scope)
            valid = token is not None and (
                await run_in_threadpool(authenticate, self.portal, token) is not None
            )
            if not valid:
                response = await self.answer(Request(scope, receive), unauthorized())
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None
