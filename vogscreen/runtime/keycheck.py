"""The database remembers which BSN keys filled it, and refuses any others.

Without this, a lost key file was silently replaced by new keys: every blind index changed,
the same staff list then showed everyone as new and everyone as leaving, subscriptions
were ended and made again, and open cases closed as "employment ended". A check value is
written with the first keys a database sees; a later start with other keys stops with a
clear message (exit 2), and no key file is ever created for a database that holds data.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import structlog

from vogscreen.domain.errors import ConfigurationError
from vogscreen.runtime.crypto import BsnVault
from vogscreen.store import key_checks
from vogscreen.store.database import session_factory, transaction
from vogscreen.store.key_checks import holds_data

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["holds_data", "verify_keys"]

log = structlog.get_logger(__name__)


def verify_keys(engine: Engine, vault: BsnVault, now: dt.datetime) -> None:
    """Refuse keys that are not the database's own; remember the keys of a new database."""
    if not key_checks.has_key_checks(engine):
        return  # not migrated yet: checked by the first start after `db upgrade`
    with transaction(session_factory(engine)) as session:
        stored = key_checks.check_values(session)
        if not stored:
            key_checks.store_check_values(session, vault.check_values(), now)
            log.info("keys.check_stored")
            return
    if not vault.matches(stored):
        raise ConfigurationError(
            "the BSN keys do not match this database: it was filled under other keys. "
            "Restore the key file (or VOGSCREEN_BSN_HMAC_KEY and VOGSCREEN_BSN_ENCRYPTION_KEY) "
            "that this database was filled with; with other keys every person would look new"
        )
