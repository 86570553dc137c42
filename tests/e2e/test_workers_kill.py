"""Three worker processes share one PostgreSQL; one is SIGKILLed mid-run; nothing is lost.

Real components throughout: PostgreSQL (started by the tests), the mock authority server
over HTTP on loopback, an SMTP server on loopback, and `vogscreen worker` processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.authority_server import RunningServer, running_server
from tests.smtp_server import Inbox, smtp_server
from vogscreen.adapters.server import Faults
from vogscreen.pipeline.boards import add_board
from vogscreen.runtime.bootstrap import App, bootstrap
from vogscreen.runtime.crypto import create_key_file
from vogscreen.runtime.settings import load_settings
from vogscreen.store.database import upgrade
from vogscreen.store.models import AuthorityOperation, Case, JobRun, Notification, Subscription
from vogscreen.testing import fake_employees, staff_csv

VOGSCREEN = str(Path(sys.executable).parent / "vogscreen")
BOARDS = ("31001", "31002", "31003", "31004")


@pytest.fixture
def pg_env(postgres_base_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    from tests.pg import create_database, drop_database

    name = "w_" + uuid.uuid4().hex[:10]
    url = create_database(postgres_base_url, name)
    key_file = tmp_path / "keys.json"
    create_key_file(key_file)
    yield {
        "VOGSCREEN_DATABASE_URL": url,
        "VOGSCREEN_KEY_FILE": str(key_file),
        "VOGSCREEN_VAR_DIR": str(tmp_path / "var"),
        "VOGSCREEN_LOG_FORMAT": "json",
    }
    drop_database(postgres_base_url, name)


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def scalar(app: App, query: object) -> int:
    with app.sessions() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def test_three_workers_share_the_work_and_a_sigkill_loses_nothing(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    with running_server() as server, smtp_server() as (inbox, smtp_port):
        run_scenario(pg_env, tmp_path, server, inbox, smtp_port)


def run_scenario(
    base_env: dict[str, str], tmp_path: Path, server: RunningServer, inbox: Inbox, smtp_port: int
) -> None:
    app = bootstrap(load_settings(base_env), migrate=False)
    upgrade(app.engine)
    inbox_dir = tmp_path / "inbox"
    people = 0
    shared = fake_employees(2, seed=900)
    for index, number in enumerate(BOARDS):
        add_board(app, number, f"Bestuur {number}", [f"hr@{number}.example.nl"])
        brin = f"{10 + index}AB"  # each board its own school
        staff = fake_employees(25, seed=index + 1, brin=brin)
        if index < 2:  # two teachers work at the first two boards
            staff += [
                dataclasses.replace(e, personeelsnummer=f"S{index}-{i}", brin=brin)
                for i, e in enumerate(shared)
            ]
        folder = inbox_dir / number
        folder.mkdir(parents=True)
        (folder / "personeel.csv").write_text(staff_csv(staff))
        people += 25
    people += len(shared)
    # Slow answers make runs long enough to be killed in the middle of one.
    server.server.faults = Faults(latency_ms=150)
    env = {
        **base_env,
        "PATH": "/usr/bin:/bin",
        "VOGSCREEN_AUTHORITY": "http",
        "VOGSCREEN_AUTHORITY_URL": server.url,
        "VOGSCREEN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "VOGSCREEN_INBOX": str(inbox_dir),
        "VOGSCREEN_INBOX_SETTLE_SECONDS": "0",
        "VOGSCREEN_LEASE_SECONDS": "2",
        "VOGSCREEN_SCHEDULE_DROPFOLDER": "interval: 2",
        "VOGSCREEN_SCHEDULE_RECONCILE": "interval: 3",
        "VOGSCREEN_SCHEDULE_DRAIN": "interval: 2",
        "VOGSCREEN_SCHEDULE_HITS": "interval: 2",
        "VOGSCREEN_SCHEDULE_NOTIFY": "interval: 1",
        "VOGSCREEN_SCHEDULE_VALIDATE": "off",
        "VOGSCREEN_SCHEDULE_REMINDERS": "off",
        "VOGSCREEN_SCHEDULE_RETENTION": "off",
    }
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    handles = [log.open("w") for log in logs]
    workers = [
        subprocess.Popen([VOGSCREEN, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=handle)
        for handle in handles
    ]
    try:
        # Kill whichever worker is first seen in the middle of an authority-bound run.
        def victim() -> int | None:
            with app.sessions() as session:
                for worker in session.scalars(
                    select(JobRun.worker).where(
                        JobRun.outcome == "running", JobRun.job.in_(("reconcile", "drain"))
                    )
                ):
                    pid = int(worker.rsplit(":", 1)[1])
                    if any(process.pid == pid for process in workers):
                        return pid
            return None

        killed: list[int] = []

        def kill_one() -> bool:
            pid = victim()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            return bool(killed)

        wait_for("a worker in the middle of a run", kill_one, timeout=60)
        wait_for(
            "every person subscribed",
            lambda: (
                scalar(app, select(func.count()).where(Subscription.status == "active")) == people
            ),
        )
        refs = [item.subscription_ref for item in server.authority.list_subscriptions().items]
        for ref in refs[:3]:
            server.raise_hit(ref)
        wait_for("cases opened", lambda: scalar(app, select(func.count()).select_from(Case)) >= 3)
        wait_for(
            "every notification sent",
            lambda: (
                scalar(app, select(func.count()).where(Notification.status != "sent")) == 0
                and scalar(app, select(func.count()).select_from(Notification)) >= 3
            ),
        )
        wait_for(
            "the killed run taken over",
            lambda: scalar(app, select(func.count()).where(JobRun.outcome == "running")) == 0,
            timeout=60,
        )
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {process.pid: process.wait(timeout=60) for process in workers}
        for handle in handles:
            handle.close()
    assert codes[killed[0]] == -signal.SIGKILL
    assert [code for pid, code in codes.items() if pid != killed[0]] == [0, 0]

    with app.sessions() as session:
        runs = session.execute(
            select(JobRun.job, JobRun.board_key, JobRun.slot, JobRun.attempts)
        ).all()
        workers_used = set(session.scalars(select(JobRun.worker)))
        notifications = session.scalar(select(func.count()).select_from(Notification))
    # Every slot ran exactly once (one row each, none left running), shared by the workers.
    assert len(runs) == len({(job, board, slot) for job, board, slot, _ in runs})
    assert any(attempts == 2 for *_, attempts in runs), "no run was taken over"
    assert len(workers_used) >= 2
    # Every authority operation reached the authority exactly once, counted by the server.
    stats = server.stats()
    assert stats["applied_more_than_once"] == 0
    with app.sessions() as session:
        person_ids = set(session.scalars(select(Subscription.person_id)))
        queued = session.execute(
            select(AuthorityOperation.person_id, AuthorityOperation.idempotency_key)
        ).all()
    assert sorted(person for person, _ in queued) == sorted(person_ids)  # one subscribe each
    assert set(stats["applied"]) == {key for _, key in queued}
    # Every notification was sent once, counted by the SMTP server.
    ids = inbox.message_ids()
    assert len(ids) == notifications == len(set(ids))
    # Nothing in the workers' logs carries a BSN; every run's line carries its run id.
    text = "".join(log.read_text() for log in logs)
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert all("run_id" in e and "job" in e for e in events if e["event"] == "run.finished")
    for number in BOARDS:
        for employee in fake_employees(25, seed=BOARDS.index(number) + 1):
            assert employee.bsn not in text
    app.close()
