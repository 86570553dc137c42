"""The append-only audit trail. Details hold ids and counts, never a BSN or birth date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from vogscreen.store.models import AuditEvent

# Built once: audit records are written on every per-board path.
_INSERT = insert(AuditEvent)


def record(
    session: Session,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = None,
    board_id: int | None = None,
    **details: Any,
) -> None:
    session.execute(
        _INSERT,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": None if entity_id is None else str(entity_id),
            "board_id": board_id,
            "details": details,
        },
    )


def record_many(
    session: Session, at: dt.datetime, events: list[dict[str, Any]], actor: str = "vogscreen"
) -> None:
    """:func:`record` for many events at once (``action``, ``entity``, ``entity_id``,
    ``board_id`` and ``details`` each): one statement."""
    if events:
        session.execute(insert(AuditEvent), [{"at": at, "actor": actor, **e} for e in events])
