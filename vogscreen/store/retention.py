"""The deletes of retention (:mod:`vogscreen.pipeline.retention` says what goes and why)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from vogscreen.domain.statuses import StaffListStatus, SubscriptionStatus
from vogscreen.store.bulk import chunks
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


def employments_ended_before(session: Session, cutoff: dt.datetime) -> list[int]:
    query = select(Employment.id).where(
        Employment.ended_at.is_not(None), Employment.ended_at < cutoff
    )
    return list(session.scalars(query))


def delete_employments(session: Session, ids: Sequence[int]) -> None:
    """Delete these employments; their cases stay, without the link."""
    for some in chunks(ids):
        session.execute(update(Case).where(Case.employment_id.in_(some)).values(employment_id=None))
        session.execute(delete(Employment).where(Employment.id.in_(some)))


def delete_rows_removed_before(session: Session, cutoff: dt.datetime) -> int:
    """Delete the rows that lists received before ``cutoff`` dropped or changed, unless a
    list not yet applied (pending, or held for months) still needs them to see who left.
    Returns how many went."""
    old_lists = select(StaffList.id).where(StaffList.received_at < cutoff)
    last_applied = (
        select(func.max(StaffList.id))
        .where(
            StaffList.board_id == StaffListRow.board_id,
            StaffList.status == StaffListStatus.APPLIED,
        )
        .scalar_subquery()
    )
    removed = session.execute(
        delete(StaffListRow).where(
            StaffListRow.removed_in_list_id.in_(old_lists),
            StaffListRow.removed_in_list_id <= last_applied,
        )
    )
    return int(removed.rowcount or 0)  # type: ignore[attr-defined]


def people_to_forget(session: Session, cutoff: dt.datetime, today: dt.date) -> list[int]:
    """Persons known since before ``cutoff`` with no employment, no row a newest list still
    holds that has not ended, and no subscription that has not ended."""
    employed = exists().where(Employment.person_id == Person.id)
    wanted = exists().where(
        StaffListRow.person_id == Person.id,
        StaffListRow.removed_in_list_id.is_(None),
        or_(StaffListRow.end_date.is_(None), StaffListRow.end_date >= today),
    )
    subscribed = exists().where(
        Subscription.person_id == Person.id, Subscription.status != SubscriptionStatus.ENDED
    )
    query = select(Person.id).where(Person.created_at < cutoff, ~employed, ~wanted, ~subscribed)
    return list(session.scalars(query))


def delete_people(session: Session, ids: Sequence[int]) -> int:
    """Delete these persons with their rows, operations and subscription; their hits stay,
    without the link. Returns how many staff list rows went with them."""
    rows_deleted = 0
    for some in chunks(ids):
        rows = session.execute(delete(StaffListRow).where(StaffListRow.person_id.in_(some)))
        rows_deleted += int(rows.rowcount or 0)  # type: ignore[attr-defined]
        session.execute(update(Hit).where(Hit.person_id.in_(some)).values(person_id=None))
        session.execute(delete(AuthorityOperation).where(AuthorityOperation.person_id.in_(some)))
        session.execute(delete(Subscription).where(Subscription.person_id.in_(some)))
        session.execute(delete(Person).where(Person.id.in_(some)))
    return rows_deleted
