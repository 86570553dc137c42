"""Wiring, done once: settings, engine, sessions, BSN keys and clock.

The CLI, the worker and the tests all call :func:`bootstrap`; nothing is built at import.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vogscreen.ports.authority import ScreeningAuthority
from vogscreen.runtime.crypto import BsnVault, load_vault
from vogscreen.runtime.keycheck import holds_data, verify_keys
from vogscreen.runtime.settings import Settings, load_settings
from vogscreen.store.database import ensure_schema, make_engine, session_factory

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: BsnVault = field(repr=False)
    clock: Clock = utc_now

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        # Staff lists speak Dutch calendar days; near midnight UTC that is already tomorrow.
        return self.clock().astimezone(_amsterdam()).date()

    @contextmanager
    def authority(self) -> Iterator[ScreeningAuthority]:
        """The authority adapter named in the settings, open for the block and closed after
        it, however the block ends."""
        from vogscreen.runtime.authorities import load_authority  # adapters load by name

        authority = load_authority(self)
        try:
            yield authority
        finally:
            authority.close()

    def close(self) -> None:
        self.engine.dispose()


@functools.cache
def _amsterdam() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo("Europe/Amsterdam")
    except Exception:  # no tz database on a minimal machine: CET is close enough
        return dt.timezone(dt.timedelta(hours=1))


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    migrate: bool = True,
) -> App:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            ensure_schema(engine, embedded=settings.is_embedded)
        vault = load_vault(settings, may_create=not holds_data(engine))
        verify_keys(engine, vault, clock())
    except BaseException:
        engine.dispose()
        raise
    return App(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        vault=vault,
        clock=clock,
    )
