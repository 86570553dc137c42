"""Runs and leases: each job slot runs once, and two runs for one board never overlap.

* A scheduled run claims ``(job, board, slot)`` with an insert that only one worker can
  win (a unique constraint). A manual run claims a slot of its own.
* A lease per board (or per global job) keeps runs apart. It is renewed while the run
  lasts and expires when its worker dies, so another worker can take over.
* Every run is recorded: job, board, start, end, outcome, counts and error.

Every log line inside a run carries its run id, job and board (structlog contextvars).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from vogscreen.domain.errors import LeaseHeld
from vogscreen.domain.statuses import RunOutcome
from vogscreen.runtime.bootstrap import App
from vogscreen.store import runs
from vogscreen.store.database import transaction
from vogscreen.store.runs import MANUAL_SLOT, AbandonedRun, LeaseHolder

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

ALL_BOARDS = "*"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_key(job: str, board: str) -> str:
    """Board work shares the board's lease; a global job has a lease of its own."""
    return board if board != ALL_BOARDS else f"job:{job}"


def acquire_lease(app: App, key: str, holder: str, seconds: int) -> bool:
    now = app.now()
    expires = now + dt.timedelta(seconds=seconds)
    with transaction(app.sessions) as session:
        lapsed = runs.lapsed_holder(session, key, holder, now)
        if runs.take_lease(session, key, holder, now, expires):
            if lapsed is not None:
                _abandon(session, lapsed, holder, now)
            return True
    return runs.insert_lease(app.sessions, key, holder, expires)


_HOLDER_RUN = re.compile(r"/run-(\d+)$")


def _abandon(session: Session, lapsed: str, taker: str, now: dt.datetime) -> None:
    """The run whose lease lapsed (its process was killed) is recorded as abandoned, not
    left "running" for ever. A run that takes over its own lease (a worker adopting it)
    is the same run going on, not an abandoned one."""
    dead, alive = _HOLDER_RUN.search(lapsed), _HOLDER_RUN.search(taker)
    if dead is None or (alive is not None and alive.group(1) == dead.group(1)):
        return
    runs.mark_abandoned(
        session,
        int(dead.group(1)),
        now,
        f"abandoned: its process stopped renewing the lease; taken over by {taker}",
    )
    log.warning("run.abandoned", abandoned_run=int(dead.group(1)), taken_over_by=taker)


def renew_lease(app: App, key: str, holder: str, seconds: int) -> bool:
    with transaction(app.sessions) as session:
        return runs.renew_lease(session, key, holder, app.now() + dt.timedelta(seconds=seconds))


def release_lease(app: App, key: str, holder: str) -> None:
    with transaction(app.sessions) as session:
        runs.release_lease(session, key, holder)


def lease_holder(app: App, key: str) -> LeaseHolder | None:
    with app.sessions() as session:
        return runs.lease_holder(session, key, app.now())


def claim_slot(app: App, job: str, board: str, slot: str, worker: str) -> int | None:
    """Insert the run for this slot; None when another worker already claimed it."""
    return runs.claim_slot(app.sessions, job, board, slot, worker, app.now())


def take_over(app: App, run_id: int, worker: str, stale_before: dt.datetime) -> bool:
    """Adopt an abandoned run (its worker stopped renewing); only one taker wins."""
    now = app.now()
    with transaction(app.sessions) as session:
        return runs.take_over(session, run_id, worker, now, stale_before)


def abandoned_runs(app: App, stale_before: dt.datetime) -> list[AbandonedRun]:
    with app.sessions() as session:
        return runs.abandoned_runs(session, stale_before)


@dataclass
class Run:
    """A claimed run, inside its lease. Jobs add counts; the context records the end."""

    id: int
    job: str
    board: str
    counts: dict[str, Any] = field(default_factory=dict)


def _finish(
    app: App, run_id: int, outcome: RunOutcome, counts: dict[str, Any], error: str | None
) -> None:
    with transaction(app.sessions) as session:
        runs.finish(session, run_id, outcome, app.now(), counts, error)


class _Heartbeat(threading.Thread):
    def __init__(self, app: App, run_id: int, key: str, holder: str, seconds: int) -> None:
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.app, self.run_id, self.key, self.holder, self.seconds = (
            app,
            run_id,
            key,
            holder,
            seconds,
        )
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.seconds / 3):
            try:
                renew_lease(self.app, self.key, self.holder, self.seconds)
                with transaction(self.app.sessions) as session:
                    runs.beat(session, self.run_id, self.app.now())
            except Exception as exc:  # a missed beat is retried; the lease has slack
                log.warning("run.heartbeat_failed", error=type(exc).__name__)


def _wait_for_lease(app: App, key: str, holder: str, seconds: int, patience: float) -> bool:
    deadline = time.monotonic() + patience
    while not acquire_lease(app, key, holder, seconds):
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(1.0, patience / 10 or 1.0))
    return True


def _record_busy(app: App, run_id: int, key: str, job: str, board: str, *, manual: bool) -> None:
    """The lease stayed held: the run is recorded as busy, and a manual one says so."""
    current = lease_holder(app, key)
    who = f"{current.holder} until {current.expires_at:%H:%M:%S} UTC" if current else "another run"
    _finish(app, run_id, RunOutcome.BUSY, {}, f"lease {key} held by {who}")
    if manual:
        raise LeaseHeld(
            f"a {job} run for {'all boards' if board == ALL_BOARDS else 'board ' + board} "
            f"is already going ({who}); try again when it has finished"
        )


@contextmanager
def running(
    app: App,
    job: str,
    board: str = ALL_BOARDS,
    *,
    slot: str | None = None,
    run_id: int | None = None,
    worker: str | None = None,
    lease_seconds: int | None = None,
) -> Iterator[Run | None]:
    """Run ``job`` for ``board`` under its lease, recorded in ``job_runs``.

    Without ``slot`` this is a manual run: it claims a slot of its own and raises
    :class:`LeaseHeld` when another run holds the lease (the CLI exits 4). With ``slot``
    it is a scheduled run: it yields None when the slot was already claimed elsewhere.
    """
    worker = worker or worker_name()
    lease_seconds = lease_seconds or app.settings.lease_seconds
    manual = slot is None and run_id is None
    if run_id is None:
        slot = slot or f"{MANUAL_SLOT}{uuid.uuid4().hex[:12]}"
        run_id = claim_slot(app, job, board, slot, worker)
        if run_id is None:
            yield None
            return
    key = lease_key(job, board)
    holder = f"{worker}/run-{run_id}"
    # A scheduled run waits a while for the board's lease; a manual one says so at once.
    patience = 0.0 if manual else float(lease_seconds)
    if not _wait_for_lease(app, key, holder, lease_seconds, patience):
        _record_busy(app, run_id, key, job, board, manual=manual)
        yield None
        return
    heartbeat = _Heartbeat(app, run_id, key, holder, lease_seconds)
    heartbeat.start()
    run = Run(run_id, job, board)
    structlog.contextvars.bind_contextvars(run_id=run_id, job=job, board=board)
    log.info("run.started", slot=slot, worker=worker)
    try:
        yield run
    except BaseException as exc:
        stopped = isinstance(exc, KeyboardInterrupt | SystemExit)
        outcome = RunOutcome.STOPPED if stopped else RunOutcome.FAILED
        log.error("run.failed", error=str(exc), error_type=type(exc).__name__)
        _finish(app, run_id, outcome, run.counts, f"{type(exc).__name__}: {exc}")
        raise
    else:
        _finish(app, run_id, RunOutcome.OK, run.counts, None)
        log.info("run.finished", **{k: v for k, v in run.counts.items() if isinstance(v, int)})
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)
        release_lease(app, key, holder)
        structlog.contextvars.unbind_contextvars("run_id", "job", "board")


def list_runs(
    app: App, *, board: str | None = None, failed: bool = False, limit: int = 50
) -> list[dict[str, Any]]:
    with app.sessions() as session:
        return runs.recent_runs(session, board=board, failed=failed, limit=limit)


@contextmanager
def board_lease(app: App, board: str, holder: str) -> Iterator[None]:
    """Hold a board's lease for a short piece of manual work, or raise LeaseHeld."""
    seconds = app.settings.lease_seconds
    if not acquire_lease(app, board, holder, seconds):
        current = lease_holder(app, board)
        who = current.holder if current else "another run"
        raise LeaseHeld(f"board {board} is being processed by {who}; try again shortly")
    try:
        yield
    finally:
        release_lease(app, board, holder)
