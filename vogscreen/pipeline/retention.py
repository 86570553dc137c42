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
from sqlalchemy import delete, exists, func, or_, select, update

from vogscreen.domain.statuses import SubscriptionStatus
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store.bulk import chunks
from vogscreen.store.database import transaction
from vogscreen.store.models import (
    AuthorityOperation,
    Case,
    Employment,
    Hit,
    Person,
    StaffList,
    StaffListRow,
    Subscription,
)

log = structlog.get_logger(__name__)


def purge(app: App) -> dict[str, int]:
    now = app.now()
    cutoff = now - dt.timedelta(days=app.settings.retention_days)
    counts = {"employments": 0, "staff_list_rows": 0, "persons": 0}
    with transaction(app.sessions) as session:
        old = list(
            session.scalars(
                select(Employment.id).where(
                    Employment.ended_at.is_not(None), Employment.ended_at < cutoff
                )
            )
        )
        for ids in chunks(old):
            session.execute(
                update(Case).where(Case.employment_id.in_(ids)).values(employment_id=None)
            )
            session.execute(delete(Employment).where(Employment.id.in_(ids)))
        counts["employments"] = len(old)
        # Rows that a list received before the period dropped or changed: only lists older
        # than the period hold them (see vogscreen.store.staff_lists). Not while that list waits to
        # be applied (pending, or held for months): its apply needs them to see who left.
        old_lists = select(StaffList.id).where(StaffList.received_at < cutoff)
        last_applied = (
            select(func.max(StaffList.id))
            .where(StaffList.board_id == StaffListRow.board_id, StaffList.status == "applied")
            .scalar_subquery()
        )
        removed = session.execute(
            delete(StaffListRow).where(
                StaffListRow.removed_in_list_id.in_(old_lists),
                StaffListRow.removed_in_list_id <= last_applied,
            )
        )
        counts["staff_list_rows"] = int(removed.rowcount or 0)  # type: ignore[attr-defined]
        employed = exists().where(Employment.person_id == Person.id)
        wanted = exists().where(
            StaffListRow.person_id == Person.id,
            StaffListRow.removed_in_list_id.is_(None),
            or_(StaffListRow.end_date.is_(None), StaffListRow.end_date >= app.today()),
        )
        subscribed = exists().where(
            Subscription.person_id == Person.id, Subscription.status != SubscriptionStatus.ENDED
        )
        gone = list(
            session.scalars(
                select(Person.id).where(Person.created_at < cutoff, ~employed, ~wanted, ~subscribed)
            )
        )
        for ids in chunks(gone):
            rows = session.execute(delete(StaffListRow).where(StaffListRow.person_id.in_(ids)))
            counts["staff_list_rows"] += int(rows.rowcount or 0)  # type: ignore[attr-defined]
            session.execute(update(Hit).where(Hit.person_id.in_(ids)).values(person_id=None))
            session.execute(delete(AuthorityOperation).where(AuthorityOperation.person_id.in_(ids)))
            session.execute(delete(Subscription).where(Subscription.person_id.in_(ids)))
            session.execute(delete(Person).where(Person.id.in_(ids)))
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
    log.info("retention.purged", **counts)
    return counts
