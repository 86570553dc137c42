"""The mock authority beyond the contract: adapter lookup, privacy, shared state, the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, text

from tests.authority_server import RunningServer, free_port, running_server
from tests.conftest import Cli
from vogscreen.adapters.http import HttpAuthority
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.errors import ConfigurationError
from vogscreen.ports.authority import SubscribeItem
from vogscreen.runtime.authorities import load_authority
from vogscreen.runtime.bootstrap import App, bootstrap
from vogscreen.store.database import transaction
from vogscreen.store.models import Board, Employment, Person, StaffList, Subscription
from vogscreen.testing import bsn_stream

BORN = dt.date(1984, 3, 14)


def people(count: int, *, seed: int = 5) -> list[SubscribeItem]:
    numbers = (n for n in bsn_stream(seed) if not n.startswith("999"))
    return [SubscribeItem(f"sub:{seed}:{i}", next(numbers), BORN) for i in range(count)]


def with_authority(app: App, name: str, url: str | None = None) -> App:
    settings = dataclasses.replace(app.settings, authority=name, authority_url=url)
    return dataclasses.replace(app, settings=settings)


# -- finding the adapter ---------------------------------------------------------------


def test_the_mock_is_the_default_adapter(app: App) -> None:
    assert isinstance(load_authority(app), MockAuthority)


def test_the_http_adapter_is_found_by_name(app: App) -> None:
    authority = load_authority(with_authority(app, "http", "https://authority.test/"))
    assert isinstance(authority, HttpAuthority)
    authority.close()


def test_an_unknown_adapter_name_lists_the_known_ones(app: App) -> None:
    with pytest.raises(ConfigurationError, match=r"'justis'.*known: http, mock"):
        load_authority(with_authority(app, "justis"))


# -- the mock's own promises -------------------------------------------------------------


def test_the_mock_never_stores_a_bsn_in_clear(app: App) -> None:
    items = people(20)
    load_authority(app).subscribe(items)

    with app.engine.connect() as connection:
        stored = [
            repr(tuple(row))
            for table in ("mock_authority_subscriptions", "mock_authority_requests")
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        ]
    dump = "\n".join(stored)
    for item in items:
        assert item.bsn not in dump
        # Keyed, not a plain hash anyone could compute over the 10^9 possible numbers.
        assert hashlib.sha256(item.bsn.encode()).hexdigest() not in dump


def test_a_batch_of_a_thousand_takes_a_handful_of_statements(app: App) -> None:
    authority = load_authority(app)
    batch = people(1000)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(app.engine, "before_cursor_execute", record)
    try:
        authority.subscribe(batch)
        applied = len(statements)
        authority.subscribe(batch)
        replayed = len(statements) - applied
    finally:
        event.remove(app.engine, "before_cursor_execute", record)

    # Set-based: keys seen, BSNs known, then one executemany per table (plus a pool ping).
    assert applied <= 5, statements
    assert replayed <= 2, statements


def test_separate_commands_see_one_mock_authority(app: App) -> None:
    (result,) = load_authority(app).subscribe(people(1))

    # A second process: a new App on the same database and keys.
    later = bootstrap(app.settings, migrate=False)
    try:
        listed = load_authority(later).list_subscriptions()
    finally:
        later.close()

    assert [s.subscription_ref for s in listed.items] == [result.subscription_ref]


def test_two_writers_sending_one_batch_at_once_apply_it_once(app: App) -> None:
    batch = people(200)
    barrier = threading.Barrier(2)
    answers: list[list[str | None]] = []

    def send() -> None:
        authority = load_authority(app)
        barrier.wait()
        answers.append([r.subscription_ref for r in authority.subscribe(batch)])

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    mock = load_authority(app)
    assert isinstance(mock, MockAuthority)
    assert len(answers) == 2 and answers[0] == answers[1]
    assert set(mock.applied_counts().values()) == {1}
    assert len(mock.list_subscriptions().items) == 200


# -- vogscreen mock-authority hit ----------------------------------------------------------


def employ(app: App, board: str, personeelsnummer: str, ref: str | None) -> None:
    """An employee with a subscription, as the reconcile engine would leave them."""
    now = app.now()
    with transaction(app.sessions) as session:
        board_id = session.scalar(select(Board.id).where(Board.number == board))
        assert board_id is not None
        staff_list = StaffList(
            board_id=board_id,
            sha256="0" * 64,
            filename="staff.csv",
            status="applied",
            received_at=now,
            received_by="test",
        )
        person = Person(
            bsn_index=personeelsnummer,
            bsn_cipher=b"-",
            birth_date=BORN,
            surname="Jansen",
            created_at=now,
        )
        session.add_all([staff_list, person])
        session.flush()
        session.add_all(
            [
                Employment(
                    board_id=board_id,
                    person_id=person.id,
                    personeelsnummer=personeelsnummer,
                    first_staff_list_id=staff_list.id,
                    last_staff_list_id=staff_list.id,
                    started_at=now,
                ),
                Subscription(
                    person_id=person.id,
                    status="active" if ref else "pending",
                    authority_ref=ref,
                    created_at=now,
                    updated_at=now,
                ),
            ]
        )


def test_a_hit_can_be_raised_in_process_for_a_boards_employee(
    app: App, board: str, run: Cli
) -> None:
    mock = load_authority(app)
    (result,) = mock.subscribe(people(1))
    employ(app, board, "P-17", result.subscription_ref)

    outcome = run("mock-authority", "hit", "--board", board, "--personeelsnummer", "P-17")

    assert outcome.exit_code == 0, outcome.output
    (hit,) = mock.fetch_hits().items
    assert hit.subscription_ref == result.subscription_ref
    assert hit.hit_id in outcome.output


def test_a_hit_for_someone_the_board_does_not_employ_is_refused(
    app: App, board: str, run: Cli
) -> None:
    outcome = run("mock-authority", "hit", "--board", board, "--personeelsnummer", "P-404")

    assert outcome.exit_code == 1
    assert "no current employee with personeelsnummer P-404" in outcome.output


def test_a_hit_waits_until_the_subscription_has_a_reference(app: App, board: str, run: Cli) -> None:
    employ(app, board, "P-18", None)

    outcome = run("mock-authority", "hit", "--board", board, "--personeelsnummer", "P-18")

    assert outcome.exit_code == 1
    assert "vogscreen reconcile" in outcome.output


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as running:
        yield running


def test_a_hit_goes_through_the_admin_api_when_the_authority_is_http(
    app: App, board: str, env: dict[str, str], server: RunningServer
) -> None:
    server.reset()
    authority = HttpAuthority(httpx.Client(base_url=server.url))
    (result,) = authority.subscribe(people(1))
    employ(app, board, "P-19", result.subscription_ref)
    http = Cli({**env, "VOGSCREEN_AUTHORITY": "http", "VOGSCREEN_AUTHORITY_URL": server.url})

    outcome = http("mock-authority", "hit", "--board", board, "--personeelsnummer", "P-19")

    assert outcome.exit_code == 0, outcome.output
    (hit,) = authority.fetch_hits().items
    assert hit.subscription_ref == result.subscription_ref
    authority.close()


def test_the_serve_command_answers_when_ready(tmp_path: Path) -> None:
    port = free_port()
    command = Path(sys.executable).parent / "vogscreen"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOGSCREEN_")}
    process = subprocess.Popen(
        [str(command), "mock-authority", "serve", "--port", str(port), "--token", "t"],
        cwd=tmp_path,
        env={**env, "VOGSCREEN_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer t"}) as client:
            assert HttpAuthority(client).fetch_hits().items == ()
    finally:
        process.terminate()
        process.wait(timeout=10)
