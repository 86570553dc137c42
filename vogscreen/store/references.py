"""The authority's references of the people boards employ, found by a board's own number
for them (the operator knows a personeelsnummer, never a BSN)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vogscreen.store.models import Board, Employment, Subscription

_REFS_OF_EMPLOYEE = (
    select(Subscription.authority_ref)
    .select_from(Employment)
    .join(Board, Board.id == Employment.board_id)
    .join(Subscription, Subscription.person_id == Employment.person_id)
)


def subscription_refs_of(
    session: Session, board_number: str, personeelsnummer: str
) -> list[str | None]:
    """The subscription references of whoever the board currently employs under this
    number: one, normally; None for a subscription the authority has not confirmed yet."""
    query = _REFS_OF_EMPLOYEE.where(
        Board.number == board_number,
        Employment.personeelsnummer == personeelsnummer,
        Employment.ended_at.is_(None),
    )
    return list(session.scalars(query).all())
