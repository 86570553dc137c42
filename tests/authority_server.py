"""The mock authority server in a background thread, on loopback, for tests and benchmarks.

A helper module rather than conftest fixtures, so each test module picks the scope and
the faults it needs::

    @pytest.fixture(scope="module")
    def server() -> Iterator[RunningServer]:
        with running_server() as running:
            yield running
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from vogscreen.adapters.mock import PAGE_SIZE, MockAuthority, derive_key
from vogscreen.adapters.server import (
    Faults,
    MockAuthorityServer,
    authority_engine,
    uvicorn_config,
)
from vogscreen.store.database import session_factory


@dataclass
class RunningServer:
    url: str
    server: MockAuthorityServer

    @property
    def authority(self) -> MockAuthority:
        return self.server.authority

    def admin(self) -> httpx.Client:
        token = self.server.token
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return httpx.Client(base_url=self.url, timeout=10, headers=headers)

    def reset(self, faults: Faults | None = None) -> None:
        """Forget every subscription, hit and count; set the faults (none by default)."""
        with self.admin() as client:
            client.post("/_admin/reset").raise_for_status()
        self.server.faults = faults or Faults()

    def stats(self) -> dict[str, Any]:
        with self.admin() as client:
            response = client.get("/_admin/stats")
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

    def raise_hit(self, subscription_ref: str) -> str:
        with self.admin() as client:
            response = client.post("/_admin/hits", json={"subscription_ref": subscription_ref})
            response.raise_for_status()
            return str(response.json()["hit_id"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    *, database: str = "sqlite://", token: str | None = None, page_size: int = PAGE_SIZE
) -> Iterator[RunningServer]:
    engine = authority_engine(database)
    authority = MockAuthority(
        session_factory(engine),
        key=derive_key(os.urandom(32)),
        clock=lambda: dt.datetime.now(dt.UTC),
        page_size=page_size,
    )
    server = MockAuthorityServer(authority, token=token)
    port = free_port()
    uvicorn_server = uvicorn.Server(uvicorn_config(server.app, "127.0.0.1", port))
    thread = threading.Thread(target=uvicorn_server.run, name="mock-authority", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, thread)
        yield RunningServer(url, server)
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def _wait_until_ready(url: str, thread: threading.Thread, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError("the mock authority server stopped while starting")
            try:
                if client.get(url + "/").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"the mock authority server at {url} did not become ready")
