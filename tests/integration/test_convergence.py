"""With the authority server failing 30 % of requests, repeated runs still converge.

Real HTTP between the http adapter and the mock authority server on loopback. At the end
every operation was applied exactly once at the authority (counted on the server side),
and validation finds no drift.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import tenacity
from sqlalchemy import select

from tests.authority_server import RunningServer, running_server
from tests.reconcile_helpers import hand_in, subscription_states
from vogscreen.adapters.http import HttpAuthority, build_client
from vogscreen.adapters.server import Faults
from vogscreen.domain.errors import AuthorityUnavailable
from vogscreen.domain.retry import retry_policy
from vogscreen.pipeline.authority_check import validate
from vogscreen.pipeline.authority_sync import count_due, drain
from vogscreen.pipeline.boards import update_board
from vogscreen.pipeline.reconcile import apply_pending
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuthorityOperation
from vogscreen.testing import FakeClock, fake_employees

QUICK = retry_policy(tenacity.stop_after_attempt(2), tenacity.wait_none())
PATIENT = retry_policy(tenacity.stop_after_attempt(30), tenacity.wait_none())


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


@pytest.fixture
def http(app: App, server: RunningServer) -> Iterator[HttpAuthority]:
    app.settings = dataclasses.replace(app.settings, authority="http", authority_url=server.url)
    # A short read timeout, so the server's "hang" faults cost little time.
    client = build_client(app.settings, timeout=httpx.Timeout(2.0, read=0.3))
    yield HttpAuthority(client)
    client.close()


def converge(app: App, http: HttpAuthority, clock: FakeClock) -> int:
    runs = 0
    apply_pending(app)
    while True:
        runs += 1
        assert runs < 60, "no convergence"
        drain(app, http, batch_size=15, retry=QUICK)
        if count_due(app) == 0:
            clock.advance(hours=2)  # whatever backs off becomes due
            if count_due(app) == 0:
                return runs


def test_with_30_percent_faults_repeated_runs_converge_and_apply_everything_exactly_once(
    app: App,
    board: str,
    server: RunningServer,
    http: HttpAuthority,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    update_board(app, board, removal_threshold_count=1000)
    staff = fake_employees(90, seed=3)
    hand_in(app, board, staff, tmp_path)
    server.server.faults = Faults(fail_rate=0.3, seed=11, hang_seconds=1.0)
    first = converge(app, http, clock)
    joiners = fake_employees(15, seed=4)
    hand_in(app, board, staff[20:] + joiners, tmp_path)  # 20 leave, 15 join
    second = converge(app, http, clock)

    states = subscription_states(app)
    assert sorted(states.values()).count("active") == 85
    assert sorted(states.values()).count("ended") == 20
    stats = server.stats()
    assert sum(stats["faults"].values()) > 0, "the server injected no faults"
    assert stats["applied_more_than_once"] == 0
    with app.sessions() as session:
        queued = session.execute(
            select(
                AuthorityOperation.person_id,
                AuthorityOperation.operation,
                AuthorityOperation.idempotency_key,
                AuthorityOperation.status,
            )
        ).all()
    assert {status for *_, status in queued} == {"done"}
    assert sorted((person, operation) for person, operation, *_ in queued) == sorted(
        (person, operation)
        for person, status in states.items()
        for operation in (("subscribe", "unsubscribe") if status == "ended" else ("subscribe",))
    )
    assert set(stats["applied"]) == {key for _, _, key, _ in queued}
    assert first + second > 2  # it did take repeated runs

    report = validate(app, http, retry=PATIENT)
    assert (report.authority, report.ours, report.missing, report.unknown) == (85, 85, 0, 0)


def test_a_drain_against_a_server_that_always_fails_keeps_everything_queued(
    app: App, board: str, server: RunningServer, http: HttpAuthority, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(10), tmp_path)
    server.server.faults = Faults(fail_rate=1.0, seed=1, hang_seconds=1.0)
    apply_pending(app)
    summary = drain(app, http, retry=QUICK)
    assert summary.deferred == 10 and summary.stopped
    assert set(subscription_states(app).values()) == {"pending"}
    with pytest.raises(AuthorityUnavailable):
        QUICK()(http.list_subscriptions, None)
