"""Engine, sessions and schema migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Engine,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vogscreen.domain.errors import (
    ConfigurationError,
    DatabaseBusy,
    DatabaseNotReady,
    DatabaseUnreachable,
    VogscreenError,
)

ALEMBIC_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    try:
        if make_url(url).get_backend_name() not in ("sqlite", "postgresql"):
            raise ArgumentError("only SQLite and PostgreSQL")
        return _make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        # Said without the URL itself: it may carry a password.
        raise ConfigurationError(
            "VOGSCREEN_DATABASE_URL is not a database URL vogscreen can use "
            f"({type(exc).__name__}): give sqlite:///path/to/file.db or "
            "postgresql://user@host:port/database"
        ) from None


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        parsed = make_url(url)
        path = parsed.database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # How long a writer waits for another one's lock: 30 s unless the URL says
        # (``sqlite:///var/vogscreen.db?timeout=5``); then "database is locked" (busy).
        waits = {} if "timeout" in parsed.query else {"timeout": 30}
        engine = create_engine(url, connect_args=waits, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # hide_parameters: an error message must never carry a row's values (birth dates).
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def translate_error(exc: BaseException, url: str) -> VogscreenError | None:
    """One of our errors for a driver error an operator can act on, or None.

    Said in one line, without the driver's traceback: a locked SQLite file is "busy" (try
    again), an unreachable server names the host and port that could not be reached.
    """
    if not isinstance(exc, OperationalError):
        return None
    message = str(exc.orig)
    if "database is locked" in message or "database table is locked" in message:
        return DatabaseBusy("the database is locked by another vogscreen process: try again")
    if getattr(exc.orig, "sqlstate", None) in _TRY_AGAIN:
        return DatabaseBusy("the database broke off a transaction that met another: try again")
    target = make_url(url)
    if target.get_backend_name() == "sqlite" and "unable to open database file" in message:
        return DatabaseUnreachable(
            f"cannot open the SQLite database {target.database}: check VOGSCREEN_DATABASE_URL "
            "(a file, not a folder) and that the folder can be written"
        )
    if target.get_backend_name() == "postgresql" and _CONNECT_FAILED.search(message):
        reason = next(
            (said for pattern, said in _CONNECT_REASONS if pattern in message.lower()),
            "the connection failed",
        )
        return DatabaseUnreachable(
            f"cannot reach the PostgreSQL server at {target.host or 'localhost'}:"
            f"{target.port or 5432} ({reason}): check VOGSCREEN_DATABASE_URL and the server"
        )
    return None


# PostgreSQL's deadlock_detected and serialization_failure: nothing was written, and the
# same work succeeds when it is tried again.
_TRY_AGAIN = ("40P01", "40001")
_CONNECT_FAILED = re.compile(
    r"connection to server|could not connect|connection failed|failed to resolve host"
    r"|server closed the connection",
    re.I,
)
_CONNECT_REASONS = (
    ("connection refused", "connection refused"),
    ("timeout", "timed out"),
    ("timed out", "timed out"),
    ("password authentication failed", "authentication failed"),
    ("no pg_hba.conf entry", "not allowed by the server"),
    ("does not exist", "the database or role does not exist"),
    ("name or service not known", "unknown host"),
    ("failed to resolve host", "unknown host"),
    ("nodename nor servname", "unknown host"),
    ("could not translate host name", "unknown host"),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (status) run beside a writer (reconcile); foreign keys are off by
    # default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 32 MiB of page cache instead of 2: a national load inserts into indexes of hundreds
    # of thousands of random keys (blind indexes), which otherwise go to disk pages.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    # ConfigParser treats % as interpolation; a password may contain one.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def ensure_schema(engine: Engine, *, embedded: bool) -> None:
    """Upgrade an embedded database that is empty or behind; refuse to start elsewhere."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if embedded:
        upgrade(engine)
        return
    raise DatabaseNotReady(
        f"the database schema is at {current or 'nothing'}, not {head}: "
        "run `vogscreen db upgrade` first"
    )


# The driver's error when the database itself fails (locked, unreachable, gone), by a name
# the layers above the store can catch without importing SQLAlchemy.
DatabaseFailure = OperationalError


def answers(engine: Engine) -> bool:
    """Whether the database answers a trivial query now (the portal's readiness)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
