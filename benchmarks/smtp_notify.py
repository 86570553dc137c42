"""Notifications per second to an SMTP server on loopback, for the national benchmark.

The mock authority raises a hit for each of ``messages`` subscribed persons, the hit intake
(``vogscreen.pipeline.hits.poll``) routes them to notifications, and
``vogscreen.pipeline.notify.notify``
sends them through ``SmtpMailer`` to aiosmtpd's ``Sink`` handler, running in its own
process on 127.0.0.1 like a real mail server would. Only the sending is timed; the hit
intake is timed on its own. Returns None while ``vogscreen.pipeline.notify`` does not exist (or
aiosmtpd, a development dependency, is missing).
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from generate import peak_rss_mb
from sqlalchemy import select

from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Subscription


@dataclass(frozen=True)
class NotifyResult:
    hits: int
    hit_intake_s: float
    messages: int
    seconds: float
    failed: int
    deferred: int
    server_peak_rss_mb: float | None

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def available() -> bool:
    return all(importlib.util.find_spec(name) for name in ("vogscreen.pipeline.notify", "aiosmtpd"))


def measure(app: App, messages: int) -> NotifyResult | None:
    if not available():
        return None
    from vogscreen.adapters.mock import create as create_mock
    from vogscreen.mail.delivery import SmtpConfig, SmtpMailer
    from vogscreen.pipeline.hits import poll
    from vogscreen.pipeline.notify import notify

    authority = create_mock(app)
    with app.sessions() as session:
        refs = session.scalars(
            select(Subscription.authority_ref)
            .where(Subscription.status == "active", Subscription.authority_ref.is_not(None))
            .order_by(Subscription.id)
            .limit(messages)
        ).all()
    for ref in refs:
        assert ref is not None
        authority.raise_hit(ref)
    started = time.perf_counter()
    polled = poll(app, authority)
    hit_intake_s = time.perf_counter() - started

    port = _free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "aiosmtpd", "-n"),
            *("-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port)
        mailer = SmtpMailer(
            SmtpConfig(
                host="127.0.0.1",
                port=port,
                implicit_tls=False,
                starttls="never",
                user=None,
                password=None,
            )
        )
        started = time.perf_counter()
        summary = notify(app, mailer)
        elapsed = time.perf_counter() - started
        peak = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if summary.stopped or not summary.sent:
        raise SystemExit(f"the notifications did not go out: {summary.as_dict()}")
    return NotifyResult(
        hits=polled.new,
        hit_intake_s=hit_intake_s,
        messages=summary.sent,
        seconds=elapsed,
        failed=summary.failed,
        deferred=summary.deferred,
        server_peak_rss_mb=peak,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(3) == b"220":
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the SMTP sink on 127.0.0.1:{port} did not start")
