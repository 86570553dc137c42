"""The worker: exactly one run per slot, leases, takeover, drop folder, retention, signals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from tests.conftest import Cli
from tests.reconcile_helpers import hand_in, subscription_states
from vogscreen.adapters.mock import MockAuthority, create
from vogscreen.cli.worker import job_registry
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.retention import purge
from vogscreen.pipeline.status import status
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.leases import acquire_lease, claim_slot, running
from vogscreen.runtime.schedule import latest_slot, parse_schedule
from vogscreen.runtime.worker import Worker
from vogscreen.store.models import Employment, JobRun, Person
from vogscreen.testing import FakeClock, fake_employees, staff_csv

VOGSCREEN = str(Path(sys.executable).parent / "vogscreen")


@pytest.fixture
def mock(app: App) -> Iterator[MockAuthority]:
    authority = create(app)
    yield authority
    authority.close()


def runs_by_slot(app: App) -> dict[tuple[str, str, str], int]:
    with app.sessions() as session:
        rows = session.execute(
            select(JobRun.job, JobRun.board_key, JobRun.slot, func.count()).group_by(
                JobRun.job, JobRun.board_key, JobRun.slot
            )
        ).all()
    return {(job, board, slot): count for job, board, slot, count in rows}


def test_the_latest_slot_is_the_same_for_every_worker_and_respects_the_schedule() -> None:
    nightly = parse_schedule("cron: 0 2 * * *")
    every_minute = parse_schedule("interval: 60")
    now = dt.datetime(2026, 6, 1, 9, 30, 15, tzinfo=dt.UTC)  # 11:30 in Amsterdam
    assert latest_slot(nightly, now) == dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.UTC)  # 02:00 CEST
    assert latest_slot(every_minute, now) == dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
    assert parse_schedule("off") is None
    with pytest.raises(Exception, match="bad schedule"):
        parse_schedule("sometimes")


def test_two_workers_firing_the_same_slot_run_each_board_once(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    from vogscreen.pipeline.boards import add_board

    add_board(app, "54321", "Tweede", ["hr@tweede.nl"])
    hand_in(app, board, fake_employees(5, seed=1), tmp_path)
    hand_in(app, "54321", fake_employees(5, seed=2), tmp_path)
    clock.current = dt.datetime(2026, 6, 2, 1, 0, tzinfo=dt.UTC)  # 03:00, after the 02:00 slot
    jobs = job_registry()
    first, second = Worker(app, jobs, name="one"), Worker(app, jobs, name="two")
    for worker in (first, second, first):
        worker.fire(jobs["reconcile"])
    slots = runs_by_slot(app)
    reconcile_slots = {key: n for key, n in slots.items() if key[0] == "reconcile"}
    assert sorted(board_key for _, board_key, _ in reconcile_slots) == ["*", "12345", "54321"]
    assert set(reconcile_slots.values()) == {1}
    assert set(subscription_states(app).values()) == {"active"}
    with app.sessions() as session:
        assert set(session.scalars(select(JobRun.outcome))) == {"ok"}


def test_a_restart_makes_up_a_missed_nightly_slot_once_but_not_a_stale_one(
    app: App, board: str, clock: FakeClock
) -> None:
    jobs = {"reconcile": job_registry()["reconcile"]}
    clock.current = dt.datetime(2026, 6, 2, 3, 0, tzinfo=dt.UTC)  # 05:00 in Amsterdam
    Worker(app, jobs, name="restarted").fire(jobs["reconcile"])
    Worker(app, jobs, name="restarted-again").fire(jobs["reconcile"])
    assert set(runs_by_slot(app).values()) == {1}
    assert len(runs_by_slot(app)) == 2  # the board and the all-boards step
    clock.current = dt.datetime(2026, 6, 2, 10, 0, tzinfo=dt.UTC)  # past the 6 h grace
    Worker(app, jobs, name="late").fire(jobs["reconcile"])
    assert len(runs_by_slot(app)) == 2


def test_a_manual_run_says_so_and_exits_4_while_the_board_is_leased(
    app: App, board: str, run: Cli, clock: FakeClock
) -> None:
    clock.current = dt.datetime.now(dt.UTC)  # the CLI runs on the real clock
    assert acquire_lease(app, board, "worker-x/run-7", 60)
    result = run("reconcile", "--board", board)
    assert result.exit_code == 4
    assert "already going" in result.output and "worker-x/run-7" in result.output
    generic = run("run", "reconcile", "--board", board)
    assert generic.exit_code == 4


def test_an_abandoned_run_is_taken_over_and_finished_by_another_worker(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    hand_in(app, board, fake_employees(4), tmp_path)
    jobs = job_registry()
    slot = "2026-06-01T09:00:00Z"
    with app.sessions.begin() as session:
        session.execute(
            insert(JobRun).values(
                job="reconcile",
                board_key=board,
                slot=slot,
                worker="dead:1",
                started_at=clock(),
                heartbeat_at=clock(),
                outcome="running",
                attempts=1,
                counts={},
            )
        )
    clock.advance(minutes=10)
    Worker(app, jobs, name="survivor").sweep()
    with app.sessions() as session:
        taken = session.scalars(select(JobRun).where(JobRun.slot == slot)).one()
    assert (taken.outcome, taken.attempts, taken.worker) == ("ok", 2, "survivor")
    assert runs_by_slot(app)[("reconcile", board, slot)] == 1


def test_the_drop_folder_hands_in_files_and_files_them_with_their_report(
    app: App, board: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    app.settings = dataclasses.replace(app.settings, inbox_dir=inbox, inbox_settle_seconds=0)
    folder = inbox / board
    folder.mkdir(parents=True)
    staff = fake_employees(8)
    (folder / "personeel.csv").write_text(staff_csv(staff))
    (folder / "kapot.csv").write_text(staff_csv(staff).replace(staff[2].bsn, "123"))
    os.utime(folder / "kapot.csv", (time.time() - 60, time.time() - 60))  # the older one first
    (folder / "notes.docx").write_bytes(b"ignored: not a staff list")
    with running(app, "dropfolder", board) as run_:
        assert run_ is not None
        job_registry()["dropfolder"].run(app, run_)
    assert run_.counts["files"] == 2 and run_.counts["accepted"] == 1
    assert run_.counts["rejected"] == 1
    done = sorted(path.name for path in (folder / "done").iterdir())
    rejected = sorted(path.name for path in (folder / "rejected").iterdir())
    assert [name.split("-", 1)[1] for name in done] == [
        "personeel.csv",
        "personeel.csv.report.json",
    ]
    assert [name.split("-", 1)[1] for name in rejected] == ["kapot.csv", "kapot.csv.report.json"]
    report = json.loads((folder / "rejected" / rejected[1]).read_text())
    assert report["status"] == "rejected" and report["problems"][0]["code"] == "bsn_invalid"
    assert (folder / "notes.docx").exists()


def test_retention_purges_leavers_long_gone_but_only_once_unsubscribed(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    staff = fake_employees(6)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock)
    hand_in(app, board, staff[2:], tmp_path)
    reconcile(app, mock)
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 6
    assert purge(app) == {
        "employments": 0,
        "staff_list_rows": 0,
        "persons": 0,
        "portal_logins": 0,
        "portal_previews": 0,
    }
    clock.advance(days=200)
    hand_in(app, board, staff[2:], tmp_path)  # a fresh list; the old ones grow stale
    counts = purge(app)
    assert counts["employments"] == 2 and counts["persons"] == 2
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 4
        assert session.scalar(select(func.count()).select_from(Employment)) == 4


def test_status_is_unhealthy_after_a_failed_run_and_shows_the_last_run_per_board(
    app: App, board: str, clock: FakeClock, run: Cli
) -> None:
    assert status(app)["healthy"] is True
    with pytest.raises(RuntimeError), running(app, "dropfolder", board):
        raise RuntimeError("disk full")
    report = status(app)
    assert report["healthy"] is False and "1 run(s) failed" in report["problems"][0]
    assert report["boards"][0]["last_run"]["outcome"] == "failed"
    failed = json.loads(run("runs", "--failed", "--json").stdout)
    assert [(r["job"], r["board"], r["error"]) for r in failed] == [
        ("dropfolder", board, "RuntimeError: disk full")
    ]
    clock.advance(days=2)
    assert status(app)["healthy"] is True


def test_the_worker_stops_on_sigterm_with_exit_0_and_logs_each_run_with_its_id(
    app: App, board: str, env: dict[str, str], tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(5), tmp_path)
    worker_env = {
        **env,
        "PATH": "/usr/bin:/bin",
        "VOGSCREEN_SCHEDULE_RECONCILE": "interval: 1",
        "VOGSCREEN_SCHEDULE_NOTIFY": "interval: 1",
        "VOGSCREEN_SCHEDULE_VALIDATE": "off",
        "VOGSCREEN_INBOX": str(tmp_path / "inbox"),
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        worker = subprocess.Popen(
            [VOGSCREEN, "worker"], env=worker_env, stdout=subprocess.DEVNULL, stderr=log_file
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and set(subscription_states(app).values()) != {"active"}:
            time.sleep(0.3)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    assert set(subscription_states(app).values()) == {"active"}
    events = [
        json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")
    ]
    finished = [event for event in events if event["event"] == "run.finished"]
    assert finished and all({"run_id", "job", "board"} <= set(event) for event in finished)
    assert any(event["event"] == "worker.stopped" for event in events)
    with app.sessions() as session:
        assert "running" not in set(session.scalars(select(JobRun.outcome)))


def dead_run(app: App, job: str, board: str, slot: str) -> int:
    """A run whose process was SIGKILLed: claimed, its lease taken, then nothing."""
    run_id = claim_slot(app, job, board, slot, "dead:1")
    assert run_id is not None
    assert acquire_lease(app, board, f"dead:1/run-{run_id}", app.settings.lease_seconds)
    return run_id


def test_a_killed_manual_run_is_marked_abandoned_when_its_lease_is_taken_over(
    app: App, board: str, run: Cli, clock: FakeClock
) -> None:
    dead = dead_run(app, "reconcile", board, "manual:dead")
    clock.advance(minutes=5)
    with running(app, "reconcile", board) as alive:
        assert alive is not None
    runs = {entry["id"]: entry for entry in json.loads(run("runs", "--json").stdout)}
    assert runs[dead]["outcome"] == "abandoned"
    assert runs[dead]["finished_at"] is not None
    assert "taken over" in runs[dead]["error"]
    assert runs[alive.id]["outcome"] == "ok"
    assert not status(app)["healthy"]  # a run that died is a problem an operator sees
    # A worker does not run a manual run again: it was the operator's, and it is over.
    Worker(app, job_registry(), name="survivor").sweep()
    assert json.loads(run("runs", "--json").stdout)[-1]["outcome"] == "abandoned"


def test_a_killed_scheduled_run_marked_abandoned_is_still_taken_over_and_finished(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    hand_in(app, board, fake_employees(3), tmp_path)
    slot = "2026-06-01T09:00:00Z"
    dead = dead_run(app, "reconcile", board, slot)
    clock.advance(minutes=5)
    with running(app, "drain", board):  # another job of the board takes its lease first
        pass
    with app.sessions() as session:
        assert session.get(JobRun, dead).outcome == "abandoned"  # type: ignore[union-attr]
    Worker(app, job_registry(), name="survivor").sweep()
    with app.sessions() as session:
        taken = session.get(JobRun, dead)
        assert taken is not None
        assert (taken.outcome, taken.attempts, taken.worker) == ("ok", 2, "survivor")


def test_the_nightly_reconcile_refreshes_the_statistics_after_a_large_apply_on_postgresql(
    app: App, board: str, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no statistics to refresh")

    def analysed() -> int:
        with app.engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT analyze_count FROM pg_stat_user_tables "
                        "WHERE relname = 'employments'"
                    )
                ).scalar_one()
            )

    hand_in(app, board, fake_employees(5_000), tmp_path)  # 5,000 subscribes to queue
    before = analysed()
    clock.current = dt.datetime(2026, 6, 2, 1, 0, tzinfo=dt.UTC)  # 03:00, after the 02:00 slot
    jobs = job_registry()
    Worker(app, jobs, name="nightly").fire(jobs["reconcile"])
    assert set(subscription_states(app).values()) == {"active"}
    assert analysed() > before
