"""Who a preview concerns: the people a file would add, end or change, by name.

A board previewing its file sees the counts and the people behind them (name,
personeelsnummer, and the line of the file for a row it gave), never a BSN or a birth date.
Each kind lists at most :data:`LIMIT` people, by name; the counts always say how many
there are in all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vogscreen.domain.plan import BoardDiff
from vogscreen.pipeline.intake_checks import Compared
from vogscreen.pipeline.staff import display_name
from vogscreen.store import persons

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

LIMIT = 1000


def people_of(
    session: Session, diff: BoardDiff[Any], file: Compared
) -> dict[str, list[dict[str, Any]]]:
    """``{"new": [...], "leaving": [...], "changed": [...]}``: each person's ``name``,
    ``personeelsnummer`` and, for a row of the file, its ``line``."""
    known = file.known
    # The same keys the preview compared by: a stored person's id, or minus the position
    # of a row whose person is new.
    rows = {
        known[index].id if index in known else -position: row
        for position, (row, index) in enumerate(
            zip(file.validated.rows, file.indexes, strict=True), start=1
        )
    }
    kinds = {
        "new": [(desired.person, desired.terms) for desired in diff.start],
        "leaving": [(current.person, current.terms) for current in diff.end],
        "changed": [(desired.person, desired.terms) for _, desired in diff.update],
    }
    stored = persons.names_of(
        session,
        sorted(
            {key for listed in kinds.values() for key, _ in listed if key > 0 and key not in rows}
        ),
    )
    people: dict[str, list[dict[str, Any]]] = {}
    for kind, listed in kinds.items():
        entries: list[tuple[str, str, dict[str, Any]]] = []
        for key, terms in listed:
            row = rows.get(key)
            source = row if row is not None else stored.get(key)
            name = (
                display_name(source.surname, source.prefix, source.initials, source.first_names)
                if source is not None
                else ""
            )
            number = terms.personeelsnummer
            # Intake refuses a personeelsnummer shaped like a BSN or a date, and the report
            # passes the logs' redaction of BSN-shaped numbers on its way out.
            shown = number
            entry = {"name": name, "personeelsnummer": shown, "line": getattr(row, "line", None)}
            entries.append((name.casefold(), shown or "", entry))
        entries.sort(key=lambda item: item[:2])
        people[kind] = [entry for _, _, entry in entries[:LIMIT]]
    return people
