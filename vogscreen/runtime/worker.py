"""``vogscreen worker``: the whole service on a schedule, in any number of processes.

Each process runs APScheduler 3 with an in-memory job store (a shared APScheduler 3 job
store runs jobs twice: its FAQ says so). Exactly-once per slot comes from the database:
every fire claims ``(job, board, slot)`` and only one worker's insert wins; a per-board
lease keeps runs for one board apart. Coalescing and a misfire grace make a restart run
a missed nightly slot once, not never and not five times: at start every job fires once,
and a slot that already ran is simply not claimed again.

SIGTERM (and Ctrl+C) stops taking new work, lets running jobs finish or release what
they hold, and exits 0. After a SIGKILL, leases expire and a sweeper in another worker
takes over the abandoned runs.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import threading
from collections.abc import Mapping
from types import FrameType

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.leases import (
    ALL_BOARDS,
    Run,
    abandoned_runs,
    running,
    take_over,
    worker_name,
)
from vogscreen.runtime.schedule import (
    JobSpec,
    latest_slot,
    parse_schedule,
    period_seconds,
    slot_name,
)
from vogscreen.store.boards import board_numbers

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, app: App, jobs: Mapping[str, JobSpec], *, name: str | None = None) -> None:
        self.app = app
        self.jobs = dict(jobs)
        self.name = name or worker_name()
        self.stopping = threading.Event()
        self.triggers: dict[str, BaseTrigger] = {}
        for spec in self.jobs.values():
            trigger = parse_schedule(app.settings.schedules.get(spec.name, spec.schedule))
            if trigger is not None:
                self.triggers[spec.name] = trigger
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=dt.UTC,
        )

    def grace(self, spec: JobSpec) -> int:
        return spec.grace_seconds or max(int(period_seconds(self.triggers[spec.name])), 1)

    def start(self) -> None:
        lease = self.app.settings.lease_seconds
        for name, trigger in self.triggers.items():
            spec = self.jobs[name]
            self.scheduler.add_job(
                self.fire,
                trigger,
                args=[spec],
                id=name,
                name=name,
                misfire_grace_time=self.grace(spec),
                # Catch up at start: a slot that already ran is not claimed twice.
                next_run_time=dt.datetime.now(dt.UTC),
            )
        self.scheduler.add_job(
            self.sweep, "interval", seconds=max(lease / 2, 1), id="sweeper", name="sweeper"
        )
        self.scheduler.start()
        log.info("worker.started", worker=self.name, jobs=sorted(self.triggers))

    def stop(self) -> None:
        """Take no new work; wait for the running jobs, which stop between boards."""
        self.stopping.set()
        self.scheduler.shutdown(wait=True)
        log.info("worker.stopped", worker=self.name)

    def fire(self, spec: JobSpec) -> None:
        if self.stopping.is_set():
            return
        now = self.app.now()
        moment = latest_slot(self.triggers[spec.name], now)
        if moment is None or (now - moment).total_seconds() > self.grace(spec):
            return  # the slot is too old to make up for
        slot = slot_name(moment)
        try:
            if spec.per_board:
                with self.app.sessions() as session:
                    boards = board_numbers(session)
                random.shuffle(boards)  # workers spread over the boards instead of queueing
                for board in boards:
                    if self.stopping.is_set():
                        return
                    self._run(spec, board, slot)
            if not self.stopping.is_set():
                self._run(spec, ALL_BOARDS, slot)
        except Exception as exc:  # recorded on the run; the scheduler must keep going
            log.error("worker.job_failed", job=spec.name, error=type(exc).__name__)

    def _run(self, spec: JobSpec, board: str, slot: str, run_id: int | None = None) -> None:
        with running(
            self.app,
            spec.name,
            board,
            slot=slot,
            run_id=run_id,
            worker=self.name,
            lease_seconds=self.app.settings.lease_seconds,
        ) as run:
            if run is not None:
                spec.run(self.app, run)

    def sweep(self) -> None:
        """Take over runs whose worker died (their heartbeat stopped) and finish them."""
        if self.stopping.is_set():
            return
        stale = self.app.now() - dt.timedelta(seconds=2 * self.app.settings.lease_seconds)
        for run_id, job, board, slot in abandoned_runs(self.app, stale):
            spec = self.jobs.get(job)
            if spec is None or self.stopping.is_set():
                continue
            if take_over(self.app, run_id, self.name, stale):
                log.warning("worker.took_over", run=run_id, job=job, board=board, slot=slot)
                try:
                    self._run(spec, board, slot, run_id=run_id)
                except Exception as exc:
                    log.error("worker.job_failed", job=job, error=type(exc).__name__)


def run_worker(app: App, jobs: Mapping[str, JobSpec]) -> int:
    """Run until SIGTERM or SIGINT; return the exit code (0)."""
    worker = Worker(app, jobs)
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("worker.signal", signal=signal.Signals(signum).name)
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    while not done.wait(1.0):
        pass
    worker.stop()
    return 0


__all__ = ["Run", "Worker", "run_worker"]
