"""The mock authority server: our REST contract over real HTTP, with fault injection.

It serves ``docs/authority-api.yaml`` in front of :class:`MockAuthority`, the same class
the in-process ``mock`` adapter uses, on a database of its own, so the rules live once.
For tests, demos and the benchmark: ``vogscreen mock-authority serve``.

Faults, drawn per request of the public API (``/v1``) from a seeded generator:

* ``fail_rate``: that share of requests fails. A failure is a 500, 502 or 503 answered
  before any work, or a *hang*: the work is done and committed, then the answer is held
  back until the client gives up. That is the case idempotency keys exist for: the
  client's retry must replay, not apply twice.
* ``latency_ms``: every request waits this long first.
* ``rate_limit``: requests per second; beyond it, 429 with ``Retry-After``.

``GET /`` answers 200 once the server is ready. The admin API under ``/_admin`` is not
part of the contract: ``POST /_admin/hits`` raises a hit, ``GET /_admin/stats`` counts
requests, faults and applications per idempotency key, ``POST /_admin/reset`` forgets
everything.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import random
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vogscreen.adapters import wire
from vogscreen.adapters.mock import MockAuthority, derive_key
from vogscreen.domain.errors import AuthorityMisconfigured, AuthorityUnavailable, NotFound
from vogscreen.domain.statuses import AnswerField
from vogscreen.store.database import make_engine, session_factory
from vogscreen.testing.authority_schema import create_tables

R = TypeVar("R")
Handler = Callable[[Request], Awaitable[Response]]
Work = Callable[[], Any]
_FAILURES = ("500", "502", "503", "hang")


@dataclass(frozen=True)
class Faults:
    fail_rate: float = 0.0
    latency_ms: int = 0
    rate_limit: int | None = None
    seed: int | None = None
    # A hang never outlasts this, whether or not the client gave up.
    hang_seconds: float = 60.0


class _BadRequest(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


class MockAuthorityServer:
    """The ASGI app (``.app``) and its counters; ``faults`` may be changed while it runs."""

    def __init__(
        self, authority: MockAuthority, *, faults: Faults | None = None, token: str | None = None
    ) -> None:
        self.authority = authority
        self.token = token
        self.faults = faults or Faults()
        # SQLite takes one writer at a time, and an in-memory database is one connection:
        # the authority is called from one thread at a time.
        self._lock = threading.Lock()
        self._reset_counters()
        self.app = Starlette(
            routes=[
                Route("/", self._ready, methods=["GET"]),
                Route(
                    "/v1/subscriptions:batchCreate", self._public(self._subscribe), methods=["POST"]
                ),
                Route(
                    "/v1/subscriptions:batchDelete",
                    self._public(self._unsubscribe),
                    methods=["POST"],
                ),
                Route("/v1/subscriptions", self._public(self._list), methods=["GET"]),
                Route("/v1/hits", self._public(self._hits), methods=["GET"]),
                Route("/_admin/hits", self._admin(self._raise_hit), methods=["POST"]),
                Route("/_admin/stats", self._admin(self._stats), methods=["GET"]),
                Route("/_admin/reset", self._admin(self._reset), methods=["POST"]),
            ]
        )

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        # A new seed starts a new sequence, so a run with the same faults repeats.
        self._faults = faults
        self._random = random.Random(faults.seed)

    def _reset_counters(self) -> None:
        self.requests = 0
        self.rate_limited = 0
        self.replayed_requests = 0
        self.faults_injected: Counter[str] = Counter()
        self._request_keys: set[str] = set()
        self._window, self._window_count = 0, 0

    # -- the public API ---------------------------------------------------------------

    # Each reads and checks its request, and returns the work to do on the authority.

    async def _subscribe(self, request: Request) -> Work:
        items = wire.read_subscribe_request(await _body(request))
        self._note_request_key(request)
        return lambda: wire.batch_answer(self.authority.subscribe(items))

    async def _unsubscribe(self, request: Request) -> Work:
        items = wire.read_unsubscribe_request(await _body(request))
        self._note_request_key(request)
        return lambda: wire.batch_answer(self.authority.unsubscribe(items))

    async def _list(self, request: Request) -> Work:
        token = request.query_params.get("page_token")
        return lambda: wire.subscription_page(self.authority.list_subscriptions(token))

    async def _hits(self, request: Request) -> Work:
        after = request.query_params.get("after")
        return lambda: wire.hit_page(self.authority.fetch_hits(after))

    def _public(self, parse: Callable[[Request], Awaitable[Work]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            self.requests += 1
            refused = self._unauthenticated(request) or self._rate_limited()
            if refused is not None:
                return refused
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000)
            failure = self._draw_failure()
            if failure is not None and failure != "hang":
                return _error(int(failure), "injected_fault", "a fault injected by the mock")
            try:
                work = await parse(request)
                body = await self._call(work)
            except wire.WireError as invalid:
                return _error(422, invalid.error, str(invalid))
            except _BadRequest as bad:
                return _error(bad.status, bad.error, bad.detail)
            if failure == "hang":
                await _hang(request, self.faults.hang_seconds)
            return JSONResponse(body)

        return endpoint

    def _unauthenticated(self, request: Request) -> Response | None:
        if self.token is None:
            return None
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            return _error(401, "unauthenticated", "a bearer token is required")
        if not hmac.compare_digest(given.removeprefix("Bearer ").encode(), self.token.encode()):
            return _error(403, "forbidden", "the token is not valid")
        return None

    def _rate_limited(self) -> Response | None:
        limit = self.faults.rate_limit
        if not limit:
            return None
        now = time.monotonic()
        # A fixed one-second window: simple, and what the Retry-After below assumes.
        if int(now) != self._window:
            self._window, self._window_count = int(now), 0
        self._window_count += 1
        if self._window_count <= limit:
            return None
        self.rate_limited += 1
        retry = max(1, round(self._window + 1 - now))
        return _error(429, "rate_limited", "too many requests", headers={"Retry-After": str(retry)})

    def _draw_failure(self) -> str | None:
        if self.faults.fail_rate <= 0 or self._random.random() >= self.faults.fail_rate:
            return None
        failure = self._random.choice(_FAILURES)
        self.faults_injected[failure] += 1
        return failure

    def _note_request_key(self, request: Request) -> None:
        key = request.headers.get("Idempotency-Key")
        if not key:
            raise _BadRequest(
                400, "missing_idempotency_key", "an Idempotency-Key header is required"
            )
        if key in self._request_keys:
            self.replayed_requests += 1
        self._request_keys.add(key)

    async def _call(self, work: Callable[[], R]) -> R:
        def locked() -> R:
            with self._lock:
                try:
                    return work()
                except AuthorityMisconfigured as exc:
                    raise _BadRequest(400, "invalid_cursor", str(exc)) from None
                except AuthorityUnavailable as exc:
                    raise _BadRequest(503, "conflict", str(exc)) from None
                except NotFound as exc:
                    raise _BadRequest(404, "not_found", str(exc)) from None

        return await run_in_threadpool(locked)

    # -- readiness and the admin API ----------------------------------------------------

    async def _ready(self, request: Request) -> Response:
        return JSONResponse({"status": "ready"})

    def _admin(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            refused = self._unauthenticated(request)
            if refused is not None:
                return refused
            try:
                return await handler(request)
            except _BadRequest as bad:
                return _error(bad.status, bad.error, bad.detail)

        return endpoint

    async def _raise_hit(self, request: Request) -> Response:
        body = await _body(request)
        ref = body.get("subscription_ref")
        if not isinstance(ref, str) or not 0 < len(ref) <= wire.MAX_KEY:
            raise _BadRequest(422, "invalid_body", "subscription_ref must be a reference")
        hit_id = await self._call(lambda: self.authority.raise_hit(ref))
        return JSONResponse({"hit_id": hit_id, "subscription_ref": ref}, status_code=201)

    async def _stats(self, request: Request) -> Response:
        applied = await self._call(self.authority.applied_counts)
        stats: dict[str, Any] = {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "replayed_requests": self.replayed_requests,
            "faults": dict(self.faults_injected),
            "keys": len(applied),
            "applied_more_than_once": sum(1 for n in applied.values() if n > 1),
        }
        # ?summary=1 leaves out the count per key: half a million keys make a large answer.
        if request.query_params.get("summary") != "1":
            stats[AnswerField.APPLIED] = applied
        return JSONResponse(stats)

    async def _reset(self, request: Request) -> Response:
        await self._call(self.authority.reset)
        self._reset_counters()
        return Response(status_code=204)


# -- request bodies -----------------------------------------------------------------------


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise _BadRequest(400, "invalid_json", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise _BadRequest(422, "invalid_body", "the body must be a JSON object")
    return data


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _hang(request: Request, limit: float) -> None:
    # The work is committed; hold the answer until the client hangs up (its timeout fired).
    try:
        async with asyncio.timeout(limit):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        pass


# -- running it ---------------------------------------------------------------------------


def authority_engine(url: str) -> Engine:
    """The server's own database, with the mock authority's tables (and none of
    vogscreen's own); ``sqlite://`` keeps it in memory."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        # One connection shared by every thread, or each would see an empty database.
        engine = create_engine(
            "sqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            # Errors would otherwise quote the statement's parameters: birth dates.
            hide_parameters=True,
        )
    else:
        engine = make_engine(url)
    create_tables(engine)
    return engine


def uvicorn_config(
    app: Starlette, host: str, port: int, *, log_level: str = "warning"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        # A hung request must not hold up a shutdown.
        timeout_graceful_shutdown=1,
    )


def serve(
    *,
    host: str,
    port: int,
    database: str,
    secret: bytes,
    faults: Faults,
    token: str | None,
    log_level: str = "warning",
) -> None:
    """Run the mock authority server until interrupted (``vogscreen mock-authority serve``)."""
    engine = authority_engine(database)
    try:
        authority = MockAuthority(
            session_factory(engine), key=derive_key(secret), clock=lambda: dt.datetime.now(dt.UTC)
        )
        server = MockAuthorityServer(authority, faults=faults, token=token)
        uvicorn.Server(uvicorn_config(server.app, host, port, log_level=log_level)).run()
    finally:
        engine.dispose()
