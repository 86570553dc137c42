"""Notify workers on PostgreSQL share one queue and never send a message twice."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import BACKEND
from tests.followup_helpers import BOARD_A, BOARD_B, two_boards_with_a_shared_teacher
from tests.smtp_server import smtp_server
from vogscreen.adapters.mock import MockAuthority
from vogscreen.mail.compose import OutgoingMessage
from vogscreen.mail.delivery import Mailer, SmtpConfig, SmtpMailer
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.notify import NotifySummary, notify
from vogscreen.runtime.authorities import subscription_ref_of
from vogscreen.runtime.bootstrap import App


class SlowMailer:
    """A real SMTP mailer that takes its time, so that two workers overlap."""

    def __init__(self, inner: SmtpMailer, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    def __enter__(self) -> Mailer:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)

    def send(self, message: OutgoingMessage) -> list[str]:
        time.sleep(self.seconds)
        return self.inner.send(message)

    def describe(self) -> str:
        return self.inner.describe()


@pytest.mark.skipif(BACKEND != "postgresql", reason="workers share a queue on PostgreSQL")
def test_two_workers_draining_one_queue_send_every_message_once(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    staff_a, staff_b, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    for board, staff in ((BOARD_A, staff_a), (BOARD_B, staff_b[:6])):
        for person in staff:
            mock.raise_hit(subscription_ref_of(app, board, person.personeelsnummer))
    assert poll(app, mock).cases == 13  # the teacher at both boards has two
    summaries: list[NotifySummary] = []
    with smtp_server() as (inbox, port):
        app.settings = dataclasses.replace(app.settings, smtp_url=f"smtp://127.0.0.1:{port}")
        config = SmtpConfig.from_settings(app.settings)

        def worker() -> None:
            summaries.append(notify(app, SlowMailer(SmtpMailer(config), seconds=0.02)))

        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=60)
    ids = inbox.message_ids()
    assert len(ids) == len(set(ids)) == 13
    assert sorted(summary.sent for summary in summaries) != [0, 13]  # the work was shared
    assert sum(summary.sent for summary in summaries) == 13
