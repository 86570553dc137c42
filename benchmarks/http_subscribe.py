"""Subscriptions per second through the http adapter against the mock authority server.

Starts ``vogscreen mock-authority serve`` in its own process on loopback, subscribes
``--persons`` fake persons in batches of ``--batch`` through :class:`HttpAuthority`, and
checks with the server's admin API that every idempotency key was applied exactly once::

    .venv/bin/python benchmarks/http_subscribe.py --persons 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vogscreen.adapters.http import HttpAuthority
from vogscreen.authority import SubscribeItem
from vogscreen.testing import bsn_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database", default="sqlite://", help="the server's database URL")
    args = parser.parse_args()

    numbers = bsn_stream(seed=42)
    # 999… numbers are refused by the mock's rules; the benchmark measures subscriptions.
    bsns = [n for n in (next(numbers) for _ in range(args.persons * 2)) if n[:3] != "999"]
    items = [
        SubscribeItem(f"bench:{i}", bsn, dt.date(1970, 1, 1) + dt.timedelta(days=i % 15_000))
        for i, bsn in enumerate(bsns[: args.persons])
    ]

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "vogscreen"), "mock-authority", "serve"),
            *("--port", str(port), "--database", args.database),
        ],
        env={**os.environ, "VOGSCREEN_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_until_ready(url)
        authority = HttpAuthority(httpx.Client(base_url=url, timeout=60))
        started = time.perf_counter()
        for start in range(0, len(items), args.batch):
            results = authority.subscribe(items[start : start + args.batch])
            assert all(r.ok for r in results), "a subscription was refused"
        elapsed = time.perf_counter() - started
        authority.close()
        stats = httpx.get(url + "/_admin/stats", params={"summary": "1"}, timeout=60).json()
        print(
            f"{len(items)} subscriptions in {elapsed:.2f} s: {len(items) / elapsed:,.0f}/s "
            f"({stats['requests']} requests; keys applied {stats['keys']}, "
            f"more than once {stats['applied_more_than_once']})"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


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


if __name__ == "__main__":
    main()
