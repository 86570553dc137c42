"""Retention: forget people who no longer work anywhere, once it is safe.

Employments that ended more than the retention period ago (default 183 days) are purged,
with the rows of old staff lists; then persons known for longer than the period, with no
employment left and whose subscription has ended (or never existed), are purged with what
refers to them, whether or not a list still names them. A board that keeps sending a
leaver's row with a past ``datum_uit_dienst`` does not keep them for ever: their rows go
too. A row is one interval of the chain of a board's lists (:mod:`vogscreen.store.staff_lists`), so
deleting it leaves every other row, and every list, whole; a later list that names the
person again brings them back as a new person. Only a row that a board's newest list still
holds and that has not ended (a list waiting to be applied or confirmed) keeps its person.
Hits keep their date but lose the link to the person. The audit trail records counts,
never identities.
"""

from __future__ import annotations

import datetime as dt

import structlog

from vogscreen.pipeline import previews
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit, logins, retention
from vogscreen.store.database import transaction

log = structlog.get_logger(__name__)


def purge(app: App) -> dict[str, int]:
    now = app.now()
    cutoff = now - dt.timedelta(days=app.settings.retention_days)
    counts = {"employments": 0, "staff_list_rows": 0, "persons": 0}
    with transaction(app.sessions) as session:
        old = retention.employments_ended_before(session, cutoff)
        retention.delete_employments(session, old)
        counts["employments"] = len(old)
        # Rows that a list received before the period dropped or changed: only lists older
        # than the period hold them (see vogscreen.store.staff_lists). Not while that list
        # waits to be applied (pending, or held for months): its apply needs them to see
        # who left.
        counts["staff_list_rows"] = retention.delete_rows_removed_before(session, cutoff)
        gone = retention.people_to_forget(session, cutoff, app.today())
        counts["staff_list_rows"] += retention.delete_people(session, gone)
        counts["persons"] = len(gone)
        if any(counts.values()):
            audit.record(
                session,
                at=now,
                actor="vogscreen",
                action="retention.purged",
                entity="person",
                **counts,
            )
        # Login links and sessions a day past their end: the addresses they hold go too.
        counts["portal_logins"] = logins.forget_expired(session, now - dt.timedelta(days=1))
    # The portal's previewed files past their hour (encrypted, but a staff list each).
    counts["portal_previews"] = previews.sweep(app)
    log.info("retention.purged", **counts)
    return counts
