"""The check values of the BSN keys a database was filled with (see
:mod:`vogscreen.runtime.keycheck`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, exists, inspect, select
from sqlalchemy.orm import Session

from vogscreen.store.bulk import insert_ignore
from vogscreen.store.database import session_factory
from vogscreen.store.models import KeyCheck, Person, StaffList, table


def has_key_checks(engine: Engine) -> bool:
    """Whether the schema has the key check table (a database migrated far enough)."""
    return inspect(engine).has_table(KeyCheck.__tablename__)


def holds_data(engine: Engine) -> bool:
    """Whether anything here was made with BSN keys: a key check, a person or a list."""
    if not inspect(engine).has_table(Person.__tablename__):
        return False
    with session_factory(engine)() as session:
        checked = has_key_checks(engine) and session.scalar(select(exists().select_from(KeyCheck)))
        return bool(
            checked
            or session.scalar(select(exists().select_from(Person)))
            or session.scalar(select(exists().select_from(StaffList)))
        )


def check_values(session: Session) -> dict[str, bytes]:
    """The stored check value of each key, by name; empty for a database never checked."""
    return {row.name: row.value for row in session.execute(select(KeyCheck.name, KeyCheck.value))}


def store_check_values(session: Session, values: dict[str, bytes], now: dt.datetime) -> None:
    """Remember the check values of the first keys this database sees (once: a racing
    start that stored them first wins)."""
    insert_ignore(
        session,
        table(KeyCheck),
        [{"name": name, "value": value, "created_at": now} for name, value in values.items()],
        "name",
    )
