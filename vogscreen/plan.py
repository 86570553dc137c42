"""The reconciliation plan: desired state against current state, as a pure function.

Nothing here touches a database or the network; the services load plain values, call
these functions and carry out what they return. Tests call them with plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Terms:
    """The parts of an employment that a staff list states and that we compare."""

    personeelsnummer: str | None
    brin: str | None
    function: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    vog_date: dt.date | None

    def has_ended(self, today: dt.date) -> bool:
        return self.end_date is not None and self.end_date < today


@dataclass(frozen=True, slots=True)
class Desired(Generic[K]):
    person: K
    terms: Terms


@dataclass(frozen=True, slots=True)
class Current(Generic[K]):
    employment_id: int
    person: K
    terms: Terms


@dataclass
class BoardDiff(Generic[K]):
    start: list[Desired[K]] = field(default_factory=list)
    end: list[Current[K]] = field(default_factory=list)
    update: list[tuple[Current[K], Desired[K]]] = field(default_factory=list)
    unchanged: list[tuple[Current[K], Desired[K]]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.start),
            "leaving": len(self.end),
            "changed": len(self.update),
            "unchanged": len(self.unchanged),
        }


def diff_board(
    desired: Iterable[Desired[K]], current: Iterable[Current[K]], today: dt.date
) -> BoardDiff[K]:
    """Compare one board's staff list with its current employments.

    A row whose ``datum_uit_dienst`` lies in the past counts as leaving: it ends a current
    employment and starts none.
    """
    diff: BoardDiff[K] = BoardDiff()
    wanted = {row.person: row for row in desired if not row.terms.has_ended(today)}
    for employment in current:
        row = wanted.pop(employment.person, None)
        if row is None:
            diff.end.append(employment)
        elif row.terms == employment.terms:
            diff.unchanged.append((employment, row))
        else:
            diff.update.append((employment, row))
    diff.start.extend(wanted.values())
    return diff
