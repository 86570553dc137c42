"""Queueing the letters about a board's own data, for ``notify`` to send.

One letter per rejected or held list, and one per employment of a person the authority
refused (per subscription cycle); each is queued under a dedup key, so queueing it twice
(a retried run) queues it once. They go to the board's recipients with the hit letters,
and each links into the portal (:attr:`Settings.portal_url`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vogscreen.domain.statuses import HoldReason, NotificationKind
from vogscreen.store import notifications

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def portal_link(portal_url: str, kind: str, board: str, staff_list_id: int | None = None) -> str:
    """Where a letter's link leads: the board's page for what the letter is about (a
    rejected list's report, a held list's decision; the overview for a refused person).
    Without a session the portal asks to log in first, then the board opens the page."""
    base = f"{portal_url.rstrip('/')}/besturen/{board}"
    if staff_list_id is not None and kind == NotificationKind.LIST_REJECTED:
        return f"{base}/geschiedenis/{staff_list_id}"
    if staff_list_id is not None and kind == NotificationKind.LIST_HELD:
        return f"{base}/wachtend/{staff_list_id}"
    return f"{base}/"


def queue_list_rejected(
    session: Session, *, board_id: int, staff_list_id: int, problems: int, now: dt.datetime
) -> bool:
    """Queue the letter that a list was rejected, with how many problems; True when this
    queued it (False: it was queued before)."""
    return bool(
        notifications.queue_letters(
            session,
            [
                {
                    "board_id": board_id,
                    "kind": NotificationKind.LIST_REJECTED,
                    "staff_list_id": staff_list_id,
                    "dedup_key": f"list_rejected:{staff_list_id}",
                    "details": {"problems": problems},
                }
            ],
            now,
        )
    )


def queue_list_held(
    session: Session, *, board_id: int, staff_list_id: int, hold: HoldReason, now: dt.datetime
) -> bool:
    """Queue the letter that a list is held, and why; True when this queued it."""
    return bool(
        notifications.queue_letters(
            session,
            [
                {
                    "board_id": board_id,
                    "kind": NotificationKind.LIST_HELD,
                    "staff_list_id": staff_list_id,
                    "dedup_key": f"list_held:{staff_list_id}",
                    "details": {"hold": str(hold)},
                }
            ],
            now,
        )
    )


def queue_person_refused(
    session: Session, refusals: Sequence[tuple[int, str, str]], now: dt.datetime
) -> int:
    """Queue a letter to every board that employs a refused person.

    ``refusals`` are ``(person_id, operation_key, code)``: the refused operation's
    idempotency key, and the authority's code (``unknown_bsn``, ``birth_date_mismatch``).
    One letter per refused operation and employment: the key is random and kept on its
    outbox row, so a retried run queues nothing twice, and no later letter can meet an
    old one's key (a person's or an employment's id can be handed out again once retention
    has removed it). How many were queued now.
    """
    refused: dict[int, list[tuple[str, str]]] = {}
    for person_id, operation_key, code in refusals:
        refused.setdefault(person_id, []).append((operation_key, code))
    letters = [
        {
            "board_id": board_id,
            "kind": NotificationKind.PERSON_REFUSED,
            "employment_id": employment_id,
            "dedup_key": f"person_refused:{operation_key}:{employment_id}",
            "details": {"code": code},
        }
        for person_id, employment_id, board_id in notifications.current_employments(
            session, list(refused)
        )
        for operation_key, code in refused[person_id]
    ]
    return notifications.queue_letters(session, letters, now)
