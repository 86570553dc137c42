"""The database remembers which BSN keys filled it, and refuses any others.

Without this, a lost key file was silently replaced by new keys: every blind index changed,
the same staff list then showed everyone as new and everyone as leaving, subscriptions
were ended and made again, and open cases closed as "employment ended". A check value is
written with the first keys a database sees; a later start with other keys stops with a
clear message (exit 2), and no key file is ever created for a database that holds data.
"""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import Engine, exists, inspect, select

from vogscreen.domain.errors import ConfigurationError
from vogscreen.runtime.crypto import BsnVault
from vogscreen.store.bulk import insert_ignore
from vogscreen.store.database import session_factory, transaction
from vogscreen.store.models import KeyCheck, Person, StaffList, table

log = structlog.get_logger(__name__)


def _has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table(KeyCheck.__tablename__)


def holds_data(engine: Engine) -> bool:
    """Whether anything here was made with BSN keys: a key check, a person or a list."""
    if not inspect(engine).has_table(Person.__tablename__):
        return False
    with session_factory(engine)() as session:
        checked = _has_schema(engine) and session.scalar(select(exists().select_from(KeyCheck)))
        return bool(
            checked
            or session.scalar(select(exists().select_from(Person)))
            or session.scalar(select(exists().select_from(StaffList)))
        )


def verify_keys(engine: Engine, vault: BsnVault, now: dt.datetime) -> None:
    """Refuse keys that are not the database's own; remember the keys of a new database."""
    if not _has_schema(engine):
        return  # not migrated yet: checked by the first start after `db upgrade`
    with transaction(session_factory(engine)) as session:
        stored = dict(session.execute(select(KeyCheck.name, KeyCheck.value)).all())
        if not stored:
            insert_ignore(
                session,
                table(KeyCheck),
                [
                    {"name": name, "value": value, "created_at": now}
                    for name, value in vault.check_values().items()
                ],
                "name",
            )
            log.info("keys.check_stored")
            return
    if not vault.matches(stored):
        raise ConfigurationError(
            "the BSN keys do not match this database: it was filled under other keys. "
            "Restore the key file (or VOGSCREEN_BSN_HMAC_KEY and VOGSCREEN_BSN_ENCRYPTION_KEY) "
            "that this database was filled with; with other keys every person would look new"
        )
