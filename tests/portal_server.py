"""The portal on a real uvicorn server, on a free loopback port, for tests that need real
HTTP (a browser, or an answer that must come before work done after it)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from vogscreen.runtime.bootstrap import App
from vogscreen.web.app import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: App) -> Iterator[str]:
    """``vogscreen serve``'s app for ``app`` (its portal URL set to where it listens)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    served = dataclasses.replace(app, settings=dataclasses.replace(app.settings, portal_url=url))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(served),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, name="portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
