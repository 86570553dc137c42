"""The terms of an employment, and the cell values they are read from.

Rows are read by name: :func:`terms_of` takes the :data:`TERM_COLUMNS` of any row (a staff
list row, an employment, a query's result) by attribute, so a new column shifts nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

# One cell of a staff list as read from its file: text from a CSV, typed values from XLSX.
Cell = str | int | float | dt.date | dt.datetime | None


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


# The columns of a staff-list row and of an employment that make up its Terms, in order.
TERM_COLUMNS = ("personeelsnummer", "brin", "function", "start_date", "end_date", "vog_date")


_TERMS = attrgetter(*TERM_COLUMNS)


def terms_of(row: Any) -> Terms:
    """The Terms of any row that has the :data:`TERM_COLUMNS` as attributes."""
    return Terms(*_TERMS(row))
