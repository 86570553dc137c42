"""A file for another board: held, never applied without an operator's word.

A board that hands in another board's list (a mix-up of exports, or worse) would get that
board's people subscribed under its own name, and their hits mailed to its own HR. A
school (BRIN, its first four characters) belongs to one board; so a list whose new rows
name a school where another board's staff works, and this board's does not, is held until
an operator confirms it (a school can change boards). So is a file byte for byte the same
as another board's list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Integer, String, bindparam, func, select
from sqlalchemy.orm import Session

from vogscreen.domain.language import Text, msg, msg_n
from vogscreen.store.bulk import chunks
from vogscreen.store.models import Employment, StaffList, StaffListRow

_BOARD = bindparam("board", type_=Integer())
_SCHOOL = func.substr(Employment.brin, 1, 4)
_SCHOOLS_ELSEWHERE = (
    select(_SCHOOL)
    .where(
        Employment.board_id != _BOARD,
        Employment.ended_at.is_(None),
        _SCHOOL.in_(bindparam("schools", expanding=True)),
    )
    .distinct()
)
_OWN_SCHOOLS = (
    select(_SCHOOL)
    .where(
        Employment.board_id == _BOARD,
        _SCHOOL.in_(bindparam("schools", expanding=True)),
    )
    .distinct()
)
_STORED_SCHOOLS = (
    select(func.substr(StaffListRow.brin, 1, 4))
    .where(StaffListRow.id.in_(bindparam("ids", expanding=True)))
    .distinct()
)
_SAME_FILE_ELSEWHERE = (
    select(StaffList.id)
    .where(StaffList.board_id != _BOARD, StaffList.sha256 == bindparam("sha256", type_=String()))
    .limit(1)
)


def other_boards_file(
    session: Session,
    board_id: int,
    sha256: str,
    brins: Iterable[str | None],
    stored_rows: Sequence[int] = (),
) -> Text | None:
    """Why this file looks like another board's, or None. ``brins`` are the new rows'
    schools; ``stored_rows`` the ids of carried rows whose schools count too."""
    if session.scalar(_SAME_FILE_ELSEWHERE, {"board": board_id, "sha256": sha256}) is not None:
        return msg("it is byte for byte a list that another board handed in; is it this board's?")
    schools = {brin[:4] for brin in brins if brin}
    for chunk in chunks(stored_rows):
        schools.update(
            school for school in session.scalars(_STORED_SCHOOLS, {"ids": list(chunk)}) if school
        )
    if not schools:
        return None
    # The board's own schools first: they are nearly always all of them, and then the scan
    # of every other board's employments is not needed (it cost 11 s of a 26 s churn day
    # at 100k people, run once per board).
    own = set(session.scalars(_OWN_SCHOOLS, {"board": board_id, "schools": sorted(schools)}))
    new = sorted(schools - own)
    if not new:
        return None
    foreign = set(session.scalars(_SCHOOLS_ELSEWHERE, {"board": board_id, "schools": new}))
    if not foreign:
        return None
    return msg_n(
        "%(n)s of its schools (BRIN %(schools)s) is another board's, where this board has no "
        "staff; is this file for this board? (If the school moved to this board, confirm the "
        "list.)",
        "%(n)s of its schools (BRIN %(schools)s) are another board's, where this board has no "
        "staff; is this file for this board? (If a school moved to this board, confirm the "
        "list.)",
        len(foreign),
        schools=", ".join(sorted(foreign)),
    )


def persons_of_board(session: Session, board_id: int, person_ids: Sequence[int]) -> set[int]:
    """Which of ``person_ids`` the board employs or employed, or named on a list of its
    own: the persons whose stored details are the board's own to be told about."""
    found: set[int] = set()
    for chunk in chunks(sorted(set(person_ids))):
        ids = list(chunk)
        found.update(
            session.scalars(
                select(Employment.person_id).where(
                    Employment.board_id == board_id, Employment.person_id.in_(ids)
                )
            )
        )
        found.update(
            session.scalars(
                select(StaffListRow.person_id).where(
                    StaffListRow.board_id == board_id, StaffListRow.person_id.in_(ids)
                )
            )
        )
    return found
