"""Draining the authority outbox: sending queued subscribe/unsubscribe operations.

Batches go through the adapter; each item's result is recorded on its own outbox row and
on the person's subscription. Errors are handled by kind:

* transient (:class:`AuthorityUnavailable`): retried with tenacity, honouring Retry-After;
  when it still fails the batch stays pending, with a later ``next_attempt_at``, and the
  drain stops: the authority is down, and the next run picks up where this one left off;
* a refused item: recorded on that item (``rejected``), the others go on;
* configuration (:class:`AuthorityMisconfigured`): raised, the run stops.

An operation sent but not recorded (a crash in between) is sent again with the same
idempotency key, which the authority deduplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from vogscreen.domain.errors import AuthorityMisconfigured, AuthorityUnavailable
from vogscreen.domain.retry import RetryPolicy, backoff, default_retry_policy
from vogscreen.domain.statuses import Operation, OutboxStatus
from vogscreen.pipeline import letters
from vogscreen.ports.authority import ItemResult, ScreeningAuthority, SubscribeItem, UnsubscribeItem
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store import authority_outbox as outbox
from vogscreen.store.authority_outbox import Claimed, Outcome
from vogscreen.store.database import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

BATCH_SIZE = 1000


@dataclass
class DrainSummary:
    sent: int = 0
    subscribed: int = 0
    unsubscribed: int = 0
    rejected: int = 0
    deferred: int = 0
    batches: int = 0
    stopped: str | None = None
    rejections: list[tuple[int, str]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "subscribed": self.subscribed,
            "unsubscribed": self.unsubscribed,
            "rejected": self.rejected,
            "deferred": self.deferred,
            "stopped": self.stopped,
        }


def count_due(app: App) -> int:
    with app.sessions() as session:
        return outbox.count_due(session, app.now())


def drain(
    app: App,
    authority: ScreeningAuthority,
    *,
    batch_size: int = BATCH_SIZE,
    retry: RetryPolicy = default_retry_policy,
    progress: Callable[[int], None] | None = None,
) -> DrainSummary:
    """Send every due operation, a batch at a time, in three steps per batch.

    1. claim the batch and mark it in flight, and commit: from here on the authority may
       have applied it, so nothing can cancel it;
    2. send it, outside any transaction;
    3. record each item's answer, or put off what got none.

    A crash after step 1 leaves the rows in flight: once :func:`in_flight_lease` has passed
    they are due again and replayed with their idempotency keys, which the authority
    answers from its record.
    """
    summary = DrainSummary()
    after, progressed = 0, False
    while True:
        claimed = _claim(app, app.now(), batch_size, after)
        if claimed is None:
            if after and progressed:
                # Another pass from the start, for operations that waited on one sent in
                # this pass (an unsubscribe behind its subscribe).
                after, progressed = 0, False
                continue
            break
        batch, request = claimed
        after, progressed = max(row.id for row in batch), True
        summary.batches += 1
        answer = _send(authority, request, retry)
        with transaction(app.sessions) as session:
            done = _settle(session, batch, answer, app.now(), summary)
        if answer.misconfigured is not None:
            raise answer.misconfigured
        if progress is not None:
            progress(len(batch))
        if not done:
            break
    if summary.sent or summary.deferred:
        log.info("outbox.drained", **summary.as_dict())
    return summary


def _claim(
    app: App, now: dt.datetime, batch_size: int, after: int
) -> tuple[list[Claimed], _Request] | None:
    """Step 1: claim a batch and mark it in flight, committed before it is sent. None:
    nothing is due after ``after``."""
    with transaction(app.sessions) as session:
        batch = outbox.claim_batch(session, now, batch_size, after)
        if not batch:
            return None
        request = _request(app, session, batch)
        outbox.mark_in_flight(session, [row.id for row in batch], now, now + in_flight_lease(app))
    return batch, request


def in_flight_lease(app: App) -> dt.timedelta:
    """How long a batch that left may take before its rows are sent again: ten run leases
    (10 minutes by default), well beyond a call's deadline with its retries, so a live
    sender is not doubled by another worker, and a dead one's batch is soon replayed."""
    return dt.timedelta(seconds=10 * app.settings.lease_seconds)


@dataclass
class _Request:
    subscribes: list[SubscribeItem]
    unsubscribes: list[UnsubscribeItem]
    settled: dict[str, ItemResult]  # answered without asking (nothing to end)


@dataclass
class _Answer:
    results: dict[str, ItemResult]
    unavailable: AuthorityUnavailable | None = None
    misconfigured: AuthorityMisconfigured | None = None


def _request(app: App, session: Session, batch: Sequence[Claimed]) -> _Request:
    subscribes = [row for row in batch if row.operation == Operation.SUBSCRIBE]
    unsubscribes, settled = _unsubscribe_items(
        session, [row for row in batch if row.operation == Operation.UNSUBSCRIBE]
    )
    items = _subscribe_items(app, session, subscribes) if subscribes else []
    return _Request(items, unsubscribes, settled)


def _send(authority: ScreeningAuthority, request: _Request, retry: RetryPolicy) -> _Answer:
    answer = _Answer(dict(request.settled))
    try:
        if request.subscribes:
            for result in retry()(authority.subscribe, request.subscribes):
                answer.results[result.idempotency_key] = result
        if request.unsubscribes:
            for result in retry()(authority.unsubscribe, request.unsubscribes):
                answer.results[result.idempotency_key] = result
    except AuthorityUnavailable as exc:
        answer.unavailable = exc
    except AuthorityMisconfigured as exc:
        answer.misconfigured = exc
    return answer


def _settle(
    session: Session,
    batch: Sequence[Claimed],
    answer: _Answer,
    now: dt.datetime,
    summary: DrainSummary,
) -> bool:
    """Record the answers; put off the rows that got none. False: stop draining."""
    _record(session, batch, answer.results, now, summary)
    waiting = [row for row in batch if row.idempotency_key not in answer.results]
    if answer.misconfigured is not None:
        # Refused at the door (401/403, a bad URL): due again as soon as the operator has
        # fixed the settings. Still counted as sent: a refusal proves nothing was applied
        # only if the authority is right about it, so such a row is never cancelled.
        outbox.defer(session, [(row.id, None) for row in waiting])
        return False
    # Sent without an answer: due again after a back-off.
    outbox.defer(session, [(row.id, now + backoff(row.attempts + 1)) for row in waiting])
    summary.deferred += len(waiting)
    if answer.unavailable is not None:
        summary.stopped = f"the authority is unavailable: {answer.unavailable}"
        log.warning("outbox.deferred", operations=len(waiting), error=str(answer.unavailable))
        return False
    return True


def _subscribe_items(app: App, session: Session, rows: Sequence[Claimed]) -> list[SubscribeItem]:
    people = outbox.identities(session, [row.person_id for row in rows])
    cipher = app.vault.cipher()
    return [
        SubscribeItem(
            idempotency_key=row.idempotency_key,
            bsn=cipher.decrypt(people[row.person_id][0]),
            birth_date=people[row.person_id][1],
        )
        for row in rows
    ]


def _unsubscribe_items(
    session: Session, rows: Sequence[Claimed]
) -> tuple[list[UnsubscribeItem], dict[str, ItemResult]]:
    """Each unsubscribe ends the reference its own generation's subscribe brought back.

    Not the subscription's current reference: that is wiped when the person starts a new
    cycle, and an unsubscribe still in flight then would find none and be settled unsent,
    leaving the old subscription at the authority for ever."""
    if not rows:
        return [], {}
    brought = outbox.references_brought(session, [row.person_id for row in rows])
    items, settled = [], {}
    for row in rows:
        ref = brought.get((row.person_id, row.generation))
        if ref:
            items.append(UnsubscribeItem(row.idempotency_key, ref))
        else:
            # Never confirmed by the authority (its subscribe was refused): nothing to end.
            settled[row.idempotency_key] = ItemResult(row.idempotency_key, True, "not_found")
    return items, settled


@dataclass
class _Changes:
    """What a batch's answers change, one list per statement (see store.authority_outbox)."""

    outcomes: list[Outcome] = field(default_factory=list)
    adopt: list[tuple[int, int, str | None]] = field(default_factory=list)
    fail: list[tuple[int, int, str]] = field(default_factory=list)
    # (person, the refused operation's idempotency key, the authority's code)
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    end: list[tuple[int, int]] = field(default_factory=list)


def _record(
    session: Session,
    batch: Sequence[Claimed],
    results: dict[str, ItemResult],
    now: dt.datetime,
    summary: DrainSummary,
) -> None:
    changes = _changes(batch, results, summary)
    outcomes = changes.outcomes
    summary.sent += len(outcomes)
    # One statement per kind of change for the whole batch.
    outbox.record_outcomes(session, outcomes, now)
    outbox.adopt_references(session, changes.adopt, now)
    outbox.fail_subscriptions(session, changes.fail, now)
    # The board hears of a refused person (it is their data to check), never its BSN.
    letters.queue_person_refused(session, changes.refused, now)
    outbox.end_subscriptions(session, changes.end, now)
    if outcomes:
        audit.record(
            session,
            at=now,
            actor="vogscreen",
            action="authority.batch",
            entity="authority_outbox",
            sent=len(outcomes),
            rejected=sum(1 for o in outcomes if o.status == OutboxStatus.REJECTED),
        )


def _changes(
    batch: Sequence[Claimed], results: dict[str, ItemResult], summary: DrainSummary
) -> _Changes:
    changes = _Changes()
    for row in batch:
        result = results.get(row.idempotency_key)
        if result is None:
            continue
        error = None if result.ok else (result.message or result.code)
        status = OutboxStatus.DONE if result.ok else OutboxStatus.REJECTED
        changes.outcomes.append(
            Outcome(row.id, status, row.attempts + 1, result.code, error, result.subscription_ref)
        )
        key = (row.person_id, row.generation)
        if row.operation == Operation.SUBSCRIBE and result.ok:
            changes.adopt.append((*key, result.subscription_ref))
            summary.subscribed += 1
        elif row.operation == Operation.SUBSCRIBE:
            changes.fail.append((*key, result.code))
            changes.refused.append((row.person_id, row.idempotency_key, result.code))
            summary.rejected += 1
            summary.rejections.append((row.person_id, result.code))
        elif result.ok:
            changes.end.append(key)
            summary.unsubscribed += 1
        else:
            summary.rejected += 1
            summary.rejections.append((row.person_id, result.code))
    return changes
