"""Subscriptions per second through the http adapter against the mock authority server.

Starts ``vogscreen mock-authority serve`` in its own process on loopback, subscribes
``--persons`` fake persons in batches of ``--batch`` through :class:`HttpAuthority`, and
checks with the server's admin API that every idempotency key was applied exactly once::

    .venv/bin/python benchmarks/http_subscribe.py --persons 50000

The national benchmark (``national.py``) calls :func:`measure` for its
``http_subscribe_per_s``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from generate import bsns, peak_rss_mb

from vogscreen.adapters.http import HttpAuthority
from vogscreen.ports.authority import SubscribeItem


@dataclass(frozen=True)
class HttpResult:
    persons: int
    seconds: float
    requests: int
    keys_applied: int
    applied_more_than_once: int
    server_peak_rss_mb: float | None

    @property
    def per_second(self) -> float:
        return self.persons / self.seconds


def measure(
    persons: int, *, batch: int = 1000, database: str = "sqlite://", seed: int = 42
) -> HttpResult:
    """Subscribe ``persons`` fake persons through the adapter; time only the subscribes."""
    items = [
        SubscribeItem(f"bench:{i}", bsn, dt.date(1970, 1, 1) + dt.timedelta(days=i % 15_000))
        for i, bsn in enumerate(bsns(random.Random(seed), persons))
    ]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="vogscreen-mock-authority-") as var_dir:
        # Only what the server needs: no VOGSCREEN_* setting of the caller leaks in.
        env = {
            name: value for name, value in os.environ.items() if not name.startswith("VOGSCREEN_")
        }
        env |= {"VOGSCREEN_LOG_LEVEL": "warning", "VOGSCREEN_VAR_DIR": var_dir}
        server = subprocess.Popen(
            [
                *(str(Path(sys.executable).parent / "vogscreen"), "mock-authority", "serve"),
                *("--port", str(port), "--database", database),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_until_ready(url)
            authority = HttpAuthority(httpx.Client(base_url=url, timeout=60))
            started = time.perf_counter()
            for start in range(0, len(items), batch):
                results = authority.subscribe(items[start : start + batch])
                if not all(r.ok for r in results):
                    raise RuntimeError("the mock authority refused a subscription")
            elapsed = time.perf_counter() - started
            authority.close()
            stats = httpx.get(url + "/_admin/stats", params={"summary": "1"}, timeout=60).json()
            peak = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return HttpResult(
        persons=len(items),
        seconds=elapsed,
        requests=int(stats["requests"]),
        keys_applied=int(stats["keys"]),
        applied_more_than_once=int(stats["applied_more_than_once"]),
        server_peak_rss_mb=peak,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"the mock authority server at {url} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database", default="sqlite://", help="the server's database URL")
    args = parser.parse_args()
    result = measure(args.persons, batch=args.batch, database=args.database)
    print(
        f"{result.persons} subscriptions in {result.seconds:.2f} s: {result.per_second:,.0f}/s "
        f"({result.requests} requests; keys applied {result.keys_applied}, "
        f"more than once {result.applied_more_than_once})"
    )


if __name__ == "__main__":
    main()
