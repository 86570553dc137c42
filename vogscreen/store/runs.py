"""Job runs and leases: the rows behind :mod:`vogscreen.runtime.leases`.

A run's ``(job, board_key, slot)`` is claimed by an insert that only one worker wins; a
lease row per board (or global job) keeps two runs apart and lapses when unrenewed. The
functions that claim by inserting open their own transaction: the unique constraint that
decides who won fails the whole transaction of the loser.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vogscreen.domain.statuses import RunOutcome
from vogscreen.store.database import transaction
from vogscreen.store.models import JobRun, Lease

# A manual run's slot starts with this; only a scheduled slot's abandoned run is adopted.
MANUAL_SLOT = "manual:"


class LeaseHolder(NamedTuple):
    holder: str
    expires_at: dt.datetime


class AbandonedRun(NamedTuple):
    id: int
    job: str
    board: str
    slot: str


# -- leases ------------------------------------------------------------------------------


def lapsed_holder(session: Session, key: str, holder: str, now: dt.datetime) -> str | None:
    """Who else held this lease and let it lapse, if anyone."""
    return session.scalar(
        select(Lease.holder).where(Lease.key == key, Lease.expires_at < now, Lease.holder != holder)
    )


def take_lease(
    session: Session, key: str, holder: str, now: dt.datetime, expires: dt.datetime
) -> bool:
    """Take (or extend) an existing lease row that lapsed or is already ``holder``'s."""
    taken = session.execute(
        update(Lease)
        .where(Lease.key == key, or_(Lease.expires_at < now, Lease.holder == holder))
        .values(holder=holder, expires_at=expires)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def insert_lease(
    sessions: sessionmaker[Session], key: str, holder: str, expires: dt.datetime
) -> bool:
    """Create the lease row, in a transaction of its own; False when another won it."""
    try:
        with transaction(sessions) as session:
            session.execute(insert(Lease).values(key=key, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        return False


def renew_lease(session: Session, key: str, holder: str, expires: dt.datetime) -> bool:
    renewed = session.execute(
        update(Lease).where(Lease.key == key, Lease.holder == holder).values(expires_at=expires)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def release_lease(session: Session, key: str, holder: str) -> None:
    session.execute(delete(Lease).where(Lease.key == key, Lease.holder == holder))


def lease_holder(session: Session, key: str, now: dt.datetime) -> LeaseHolder | None:
    """Who holds the lease now (None when nobody does, or the lease has lapsed)."""
    lease = session.get(Lease, key)
    if lease is None or lease.expires_at < now:
        return None
    return LeaseHolder(lease.holder, lease.expires_at)


# -- runs --------------------------------------------------------------------------------


def claim_slot(
    sessions: sessionmaker[Session],
    job: str,
    board: str,
    slot: str,
    worker: str,
    now: dt.datetime,
) -> int | None:
    """Insert the running run of this slot, in a transaction of its own; None when another
    worker already claimed the slot."""
    try:
        with transaction(sessions) as session:
            result = session.execute(
                insert(JobRun)
                .values(
                    job=job,
                    board_key=board,
                    slot=slot,
                    worker=worker,
                    started_at=now,
                    heartbeat_at=now,
                    outcome=RunOutcome.RUNNING,
                    attempts=1,
                    counts={},
                )
                .returning(JobRun.id)
            )
            return int(result.scalar_one())
    except IntegrityError:
        return None


def mark_abandoned(session: Session, run_id: int, now: dt.datetime, error: str) -> None:
    """A still running run whose process stopped renewing its lease: abandoned."""
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.outcome == RunOutcome.RUNNING)
        .values(outcome=RunOutcome.ABANDONED, finished_at=now, error=error)
    )


def _adoptable(stale_before: dt.datetime) -> tuple[Any, ...]:
    """Runs whose worker died: still running with a stale heartbeat, or a scheduled slot's
    run already marked abandoned when another run took its lease."""
    return (
        JobRun.heartbeat_at < stale_before,
        or_(
            JobRun.outcome == RunOutcome.RUNNING,
            and_(JobRun.outcome == RunOutcome.ABANDONED, ~JobRun.slot.startswith(MANUAL_SLOT)),
        ),
    )


def take_over(
    session: Session, run_id: int, worker: str, now: dt.datetime, stale_before: dt.datetime
) -> bool:
    """Adopt an abandoned run for ``worker``; only one taker wins."""
    taken = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, *_adoptable(stale_before))
        .values(
            worker=worker,
            heartbeat_at=now,
            attempts=JobRun.attempts + 1,
            outcome=RunOutcome.RUNNING,
            finished_at=None,
            error=None,
        )
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def abandoned_runs(session: Session, stale_before: dt.datetime) -> list[AbandonedRun]:
    query = select(JobRun.id, JobRun.job, JobRun.board_key, JobRun.slot).where(
        *_adoptable(stale_before)
    )
    return [
        AbandonedRun(row.id, row.job, row.board_key, row.slot) for row in session.execute(query)
    ]


def beat(session: Session, run_id: int, now: dt.datetime) -> None:
    """The run is alive: its heartbeat is now."""
    session.execute(update(JobRun).where(JobRun.id == run_id).values(heartbeat_at=now))


def finish(
    session: Session,
    run_id: int,
    outcome: RunOutcome,
    now: dt.datetime,
    counts: dict[str, Any],
    error: str | None,
) -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(outcome=outcome, finished_at=now, counts=counts, error=error)
    )


def recent_runs(
    session: Session, *, board: str | None, failed: bool, limit: int
) -> list[dict[str, Any]]:
    """The newest runs first (of one board, or failed ones only, when asked), as shown."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if board is not None:
        query = query.where(JobRun.board_key == board)
    if failed:
        query = query.where(JobRun.outcome == RunOutcome.FAILED)
    return [
        {
            "id": run.id,
            "job": run.job,
            "board": run.board_key,
            "slot": run.slot,
            "worker": run.worker,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "outcome": run.outcome,
            "attempts": run.attempts,
            "counts": run.counts,
            "error": run.error,
        }
        for run in session.scalars(query)
    ]
