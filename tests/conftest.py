"""Shared fixtures.

The whole suite runs on SQLite by default, and on a real PostgreSQL server (started here,
as an unprivileged user, in a temporary directory) with ``VOGSCREEN_TEST_DB=postgresql``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from vogscreen.adapters.mock import MockAuthority, create
from vogscreen.runtime.bootstrap import App, bootstrap
from vogscreen.runtime.settings import Settings, load_settings
from vogscreen.testing import FakeClock

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

BACKEND = os.environ.get("VOGSCREEN_TEST_DB", "sqlite")
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No VOGSCREEN_* setting of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("VOGSCREEN_") and name not in (
            "VOGSCREEN_TEST_DB",
            "VOGSCREEN_PG_BINDIR",
        ):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    from tests.pg import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "postgresql":
        from tests.pg import create_database, drop_database

        base = request.getfixturevalue("postgres_base_url")
        name = "t_" + uuid.uuid4().hex[:12]
        yield create_database(base, name)
        drop_database(base, name)
    else:
        yield f"sqlite:///{tmp_path / 'var' / 'vogscreen.db'}"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The VOGSCREEN_* environment of a test installation."""
    return {
        "VOGSCREEN_VAR_DIR": str(tmp_path / "var"),
        "VOGSCREEN_DATABASE_URL": database_url,
        "VOGSCREEN_KEY_FILE": str(tmp_path / "keys.json"),
        "VOGSCREEN_ACTOR": "test-operator",
        "VOGSCREEN_LOG_FORMAT": "json",
    }


@pytest.fixture
def settings(env: dict[str, str], tmp_path: Path) -> Settings:
    from vogscreen.runtime.crypto import create_key_file

    create_key_file(Path(env["VOGSCREEN_KEY_FILE"]))
    return load_settings(env)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[App]:
    application = bootstrap(settings, clock=clock, migrate=False)
    from vogscreen.store.database import upgrade

    upgrade(application.engine)
    yield application
    application.close()


@pytest.fixture
def board(app: App) -> str:
    from vogscreen.pipeline.boards import add_board

    return add_board(app, "12345", "Stichting Testscholen", ["hr@testscholen.nl"]).number


class Cli:
    """Runs the real ``vogscreen`` command object with a test installation's environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str) -> Result:
        from vogscreen.cli.main import cli

        env = {"COLUMNS": "200", **self.env}  # a wide terminal: tables are not cut short
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def run(env: dict[str, str], app: App) -> Cli:
    """The CLI on the same (migrated) database as ``app``."""
    return Cli(env)


@pytest.fixture
def mock(app: App) -> Iterator[MockAuthority]:
    """The mock screening authority, in process, on the test database."""
    authority = create(app)
    yield authority
    authority.close()


@pytest.fixture
def portal(app: App) -> Iterator[TestClient]:
    """The board portal on the test database, through Starlette's in-process client."""
    from fastapi.testclient import TestClient

    from vogscreen.web.app import create_app

    with TestClient(create_app(app), base_url="http://127.0.0.1:8000") as client:
        yield client
