"""A handed-in file against what the board handed in before: the steps of an upload
(:mod:`vogscreen.pipeline.intake`) that read the stored lists.

The file is read against the board's newest list (:func:`compare`): rows that repeat it
exactly are recognised by fingerprint and carried over; only the others are validated and
looked up by blind index. Then the checks across the two (:func:`duplicates_of_carried`,
:func:`birth_date_mismatches`), the preview against the current employments
(:func:`preview`), and two reasons to hold a list: a file older than one the board moved
on to (:func:`older_file`), and how many changes of a pending list it would undo
(:func:`undone`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vogscreen.domain.language import Text, msg
from vogscreen.domain.plan import Desired, Preview, diff_board, preview_counts
from vogscreen.domain.terms import Cell, Terms, terms_of
from vogscreen.intake import problems as p
from vogscreen.intake.columns import canonical
from vogscreen.intake.problems import FileProblem, Problem
from vogscreen.intake.reading import Table, read_table
from vogscreen.intake.saved import believable
from vogscreen.intake.validate import Validated, validate_table
from vogscreen.runtime.bootstrap import App
from vogscreen.store import list_records as records
from vogscreen.store import staff_lists
from vogscreen.store.employments import current_and_lapsed, current_employments
from vogscreen.store.foreign_lists import persons_of_board
from vogscreen.store.persons import KnownPerson, known_by_index
from vogscreen.store.staff_lists import StoredRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class Compared:
    """A file read against the board's newest list.

    ``carried`` are the file's rows that repeat a row of that list exactly (by fingerprint,
    line in the new file → the stored row): they were validated when they first came and
    are not validated or stored again. Every other row is in ``validated``; ``removed``
    are the stored rows the file no longer has. ``indexes`` are the blind indexes of the
    validated rows, in their order, and ``known`` the persons among them already stored.
    """

    base_id: int | None
    validated: Validated
    fingerprints: dict[int, bytes]  # line → fingerprint, for the validated rows
    carried: dict[int, StoredRow] = field(default_factory=dict)
    removed: list[StoredRow] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # canonical column → header
    sheet: str | None = None  # the sheet of a workbook that was read
    indexes: list[str] = field(default_factory=list)
    known: dict[str, KnownPerson] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return self.validated.row_count + len(self.carried)


def compare(
    app: App, session: Session, data: bytes, board_id: int, base_id: int | None
) -> Compared:
    """The file read against list ``base_id``, its validated rows looked up by blind index."""
    try:
        # The rows are read as they are consumed: a broken file can fail half-way.
        compared = _compare(app, session, data, board_id, base_id)
    except FileProblem as problem:
        return Compared(base_id, Validated(rows=[], problems=[problem.problem], row_count=0), {})
    compared.indexes = [app.vault.blind_index(row.bsn) for row in compared.validated.rows]
    compared.known = known_by_index(session, compared.indexes)
    return compared


def _compare(
    app: App, session: Session, data: bytes, board_id: int, base_id: int | None
) -> Compared:
    """Read the file against the board's newest list and validate what it does not repeat."""
    table = read_table(data, max_unpacked_bytes=app.settings.max_xlsx_unpacked_bytes)
    labels: dict[str, str] = {}
    for name in table.header:
        column = canonical(name)
        if column is not None:
            labels.setdefault(column, name)
    # Rows stored before fingerprints existed are never carried: they are all replaced.
    base, unprinted = (
        staff_lists.newest_rows(session, board_id) if base_id is not None else ({}, [])
    )
    fingerprint = staff_lists.fingerprinter(app.vault.fingerprint_key, table.kind, table.header)
    carried: dict[int, StoredRow] = {}
    taken: set[bytes] = set()
    fingerprints: dict[int, bytes] = {}
    fresh: list[tuple[int, list[Cell]]] = []
    for line, cells in table.rows:
        print_ = fingerprint(cells)
        known_row = base.get(print_)
        if known_row is not None and print_ not in taken:
            taken.add(print_)
            carried[line] = known_row
        else:
            fingerprints[line] = print_
            fresh.append((line, cells))
    if carried and not fresh:
        validated = Validated(rows=[], problems=[], row_count=0)
    else:
        validated = validate_table(
            Table(table.kind, table.header, iter(fresh), table.header_line), today=app.today()
        )
        if carried:  # the carried rows are the file's rows too
            validated.problems = [x for x in validated.problems if x.code != p.NO_ROWS]
    removed = [row for print_, row in base.items() if print_ not in taken] + unprinted
    return Compared(base_id, validated, fingerprints, carried, removed, labels, table.sheet)


def birth_date_mismatches(
    session: Session, file: Compared, board_id: int, label: str
) -> tuple[list[Problem], list[int]]:
    """Rows whose BSN vogscreen knows with another birth date: a problem for each person
    the board has had itself (it gave the other date), and the lines of the others.

    Of a person only another board has had, the board learns nothing: telling it that the
    BSN is known, or that a birth date is wrong, would let it find out who works elsewhere
    and, date by date, their birth date. Those lines hold the list for an operator instead
    (:data:`~vogscreen.domain.statuses.HoldReason.KNOWN_PERSON`); the operator sees the
    lines in the audit trail, the board only that the list waits."""
    mismatched = [
        (row, file.known[index])
        for row, index in zip(file.validated.rows, file.indexes, strict=True)
        if index in file.known and file.known[index].birth_date != row.birth_date
    ]
    own = persons_of_board(session, board_id, [person.id for _, person in mismatched])
    problems, elsewhere = [], []
    for row, person in mismatched:
        if person.id not in own:
            elsewhere.append(row.line)
        else:
            problems.append(
                Problem(
                    row.line,
                    label,
                    p.BIRTH_DATE_MISMATCH,
                    msg(
                        "this BSN is already known to vogscreen with another birth date%(named)s",
                        named=p.named(row.personeelsnummer),
                    ),
                )
            )
    return problems, elsewhere


def duplicates_of_carried(file: Compared) -> list[Problem]:
    """The checks of :func:`validate_table` between validated rows and carried ones."""
    if not file.carried:
        return []
    people = {row.person_id: line for line, row in file.carried.items()}
    numbers = {
        row.personeelsnummer: line
        for line, row in file.carried.items()
        if row.personeelsnummer is not None
    }
    problems = []
    for row, index in zip(file.validated.rows, file.indexes, strict=True):
        person = file.known.get(index)
        first = people.get(person.id) if person is not None else None
        if first is not None:
            number = file.carried[first].personeelsnummer
            problems.append(
                Problem(
                    row.line,
                    file.labels.get("bsn"),
                    p.DUPLICATE_BSN,
                    p.duplicate_bsn(first, number),
                )
            )
        earlier = numbers.get(row.personeelsnummer) if row.personeelsnummer else None
        if earlier is not None:
            problems.append(
                Problem(
                    row.line,
                    file.labels.get("personeelsnummer"),
                    p.DUPLICATE_PERSONEELSNUMMER,
                    p.duplicate_personeelsnummer(row.personeelsnummer, earlier),
                )
            )
    return problems


def preview(
    session: Session, board_id: int, file: Compared, today: dt.date, applied: int | None
) -> Preview:
    """The file against the board's current employments.

    When the newest list is the applied one, the employments are that list, so only the
    people of changed rows (and those whose datum_uit_dienst has passed since) can differ:
    the comparison covers them alone. Otherwise every row is compared.
    """
    known = file.known
    # Persons are keyed by id; one not yet known by a negative number of its own.
    fresh = [
        Desired(person=known[index].id if index in known else -position, terms=terms_of(row))
        for position, (row, index) in enumerate(
            zip(file.validated.rows, file.indexes, strict=True), start=1
        )
    ]
    if file.base_id is not None and file.base_id == applied:
        current_total, lapsed = current_and_lapsed(session, board_id, today)
        people = {row.person_id for row in file.removed} | lapsed
        people.update(known[index].id for index in file.indexes if index in known)
        current = current_employments(session, board_id, sorted(people))
        carried = {row.person_id for row in file.carried.values()}
        # A carried row equals its employment: for a lapsed one that says it has ended.
        fresh.extend(
            Desired(person=e.person, terms=e.terms)
            for e in current
            if e.person in lapsed and e.person in carried
        )
        diff = diff_board(fresh, current, today)
        return preview_counts(diff, current_total)
    # The newest list is pending or held: its carried rows are compared too.
    wanted = {row.id for row in file.carried.values()}
    carried_rows = (
        staff_lists.newest_terms_by_person(session, board_id, wanted) if file.carried else []
    )
    fresh.extend(Desired(person=person, terms=terms) for person, terms in carried_rows)
    current = current_employments(session, board_id)
    return preview_counts(diff_board(fresh, current, today), len(current))


def older_file(
    session: Session, board_id: int, sha256: str, saved: dt.datetime | None
) -> Text | None:
    """Why the file is older than a list the board moved on to, or None.

    Older is the same file as an earlier list that a pending or applied list came after,
    or an XLSX saved before the newest pending or applied list's XLSX was.
    """
    same = records.same_file(session, board_id, sha256)
    if same is not None:
        newer = records.newest_taken(session, board_id, since=same)
        if newer is not None:
            return msg(
                "it is the same file as staff list %(same)s, and the board handed in staff "
                "list %(newer)s after it; this older file would undo that list's changes",
                same=same,
                newer=newer.id,
            )
    if saved is None:
        return None
    newest = records.newest_taken(session, board_id)
    stored = newest.report.get("saved_at") if newest is not None else None
    if newest is None or stored is None:
        return None
    theirs = dt.datetime.fromisoformat(stored)
    # A list stored before saved times were checked may carry one it cannot have had.
    if saved >= theirs or not believable(theirs, newest.received_at):
        return None
    minute = "%Y-%m-%d %H:%M"
    return msg(
        "the file was saved %(saved)s UTC, before staff list %(newest)s (saved %(theirs)s "
        "UTC); this older export would undo that list's changes",
        saved=saved.strftime(minute),
        newest=newest.id,
        theirs=theirs.strftime(minute),
    )


def undone(
    session: Session,
    board_id: int,
    file: Compared,
    today: dt.date,
    pending: int,
    applied: int | None,
) -> int:
    """How many people's changes of the pending list (against the applied one) the file
    would put back as they were: a new hire left out, a leaver back, a change reverted."""
    people = sorted(staff_lists.changed_people(session, board_id, applied or 0, pending))
    if not people:
        return 0

    def terms(staff_list: int | None, who: Sequence[int]) -> dict[int, Terms]:
        if staff_list is None or not who:
            return {}
        return staff_lists.member_terms(session, board_id, staff_list, who)

    before, after = terms(applied, people), terms(pending, people)
    wanted = set(people)
    carried = sorted({row.person_id for row in file.carried.values()} & wanted)
    in_file = terms(file.base_id, carried)
    for row, index in zip(file.validated.rows, file.indexes, strict=True):
        person = file.known.get(index)
        if person is not None and person.id in wanted:
            in_file[person.id] = terms_of(row)

    def live(found: Terms | None) -> Terms | None:
        return None if found is None or found.has_ended(today) else found

    return sum(
        1
        for person in people
        if live(after.get(person)) != live(before.get(person))
        and live(in_file.get(person)) == live(before.get(person))
    )
