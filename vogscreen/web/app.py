"""The portal's FastAPI app: health, readiness, the API and the pages, wired once.

:func:`create_app` takes the :class:`~vogscreen.runtime.bootstrap.App` that bootstrap
built (settings, engine, keys, clock), so tests and ``vogscreen serve`` build it the same
way. The worker is another process on the same database; either runs without the other.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from vogscreen import __version__
from vogscreen.runtime.bootstrap import App
from vogscreen.store.database import answers
from vogscreen.web import api, pages, problems
from vogscreen.web.guard import Guard, TokenFirst
from vogscreen.web.limits import DeclaredSize, max_body_size


class _Portal(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside FastAPI's own body limit, which would put its plain English answer in the
        # place of ours for a body declared too large.
        limit = max_body_size(self.state.vogscreen.settings)
        inner = DeclaredSize(super().build_middleware_stack(), limit, problems.handle)
        gated = TokenFirst(inner, self.state.vogscreen, problems.handle)
        return Guard(gated, problems.handle)


def create_app(app: App) -> FastAPI:
    portal = _Portal(
        title="vogscreen portal API",
        version=__version__,
        description=(
            "The board portal's API for HR systems: hand in staff lists, read their "
            "reports, decide held lists, read current staff and handle cases. Every call "
            "authenticates with a board's token (`Authorization: Bearer <token>`)."
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        max_body_size=max_body_size(app.settings),
    )
    portal.state.vogscreen = app

    @portal.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        """200 while the process lives."""
        return PlainTextResponse("alive")

    @portal.get("/readyz", include_in_schema=False)
    def readyz(request: Request) -> JSONResponse:
        """200 when the database answers, 503 when it does not."""
        if answers(app.engine):
            return JSONResponse({"database": "answers"})
        return JSONResponse({"database": "does not answer"}, status_code=503)

    api.install(portal)
    pages.install(portal)
    problems.install(portal)
    portal.mount("/static", StaticFiles(packages=[("vogscreen.web", "static")]), name="static")
    return portal
