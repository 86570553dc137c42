"""Handing in a staff list: read, validate, preview, then store it whole or reject it whole.

This is a bulk path. A board's file is read against the board's newest list
(:mod:`vogscreen.store.staff_lists`): rows that repeat it exactly are recognised by fingerprint and
carried over; only the others are validated, looked up by blind index (in chunks) and
stored, with Core ``executemany`` statements in one transaction. A day with a few changes
costs reading the file plus those changes, not the whole list again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import structlog
from sqlalchemy import Integer, Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from vogscreen.domain.errors import StateConflict
from vogscreen.domain.plan import (
    Desired,
    Preview,
    diff_board,
    preview_counts,
    removal_guard,
)
from vogscreen.domain.terms import TERM_COLUMNS, Cell, Terms
from vogscreen.intake import problems as p
from vogscreen.intake.columns import canonical
from vogscreen.intake.problems import FileProblem, Problem
from vogscreen.intake.reading import Table, read_table
from vogscreen.intake.saved import believable, saved_at
from vogscreen.intake.validate import StaffRow, Validated, validate_table
from vogscreen.pipeline.boards import check_board_number
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store import staff_lists as snapshot
from vogscreen.store.bulk import Lookup, chunks, ids_by, insert_rows
from vogscreen.store.database import transaction
from vogscreen.store.employments import current_and_lapsed, current_employments
from vogscreen.store.foreign_lists import other_boards_file
from vogscreen.store.models import Board, Person, StaffList, StaffListRow, table

log = structlog.get_logger(__name__)

ACCEPTED = "accepted"
REJECTED = "rejected"
HELD = "held"
UNCHANGED = "unchanged"

# Why a list is held: it would end too many employments, or its file is older than a list
# the board handed in before (it would undo that list's changes).
HOLD_REMOVALS = "removals"
HOLD_OLDER_FILE = "older_file"
HOLD_OTHER_BOARD = "other_board"

# Statuses of a stored list that count as "accepted" (its rows are the board's staff).
LIVE_STATUSES = ("pending", "applied", "held")


@dataclass
class UploadReport:
    """What ``staff upload`` tells the operator, and what --report-json writes."""

    status: str
    board: str
    filename: str
    id: int | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: {"rows": 0, "new": 0, "leaving": 0, "changed": 0, "unchanged": 0}
    )
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    reason: str | None = None
    hold: str | None = None  # HOLD_REMOVALS or HOLD_OLDER_FILE when held
    saved_at: dt.datetime | None = None  # an XLSX export's last-saved time
    # A last-saved time the file claims but cannot have (after it was handed in): not used.
    saved_at_ignored: dt.datetime | None = None
    # The pending lists this one overtakes (they will never be applied), and how many
    # people's changes of the newest of them it undoes.
    supersedes: list[int] = field(default_factory=list)
    undoes: dict[str, int] | None = None
    sheet: str | None = None  # the sheet of a workbook that was read

    def as_dict(self) -> dict[str, Any]:
        # Through the logs' redaction, as every problem already went: the file name too.
        return p.redacted(
            {
                "id": self.id,
                "status": self.status,
                "board": self.board,
                "file": self.filename,
                "dry_run": self.dry_run,
                "counts": dict(self.counts),
                "reason": self.reason,
                "hold": self.hold,
                "saved_at": _iso(self.saved_at),
                "saved_at_ignored": _iso(self.saved_at_ignored),
                "supersedes": list(self.supersedes),
                "undoes": self.undoes,
                "sheet": self.sheet,
                "problems": [problem.as_dict() for problem in self.problems],
            }
        )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def terms_of(row: StaffRow) -> Terms:
    # A StaffRow ends with the Terms' fields, in their order (a test holds it to that).
    return Terms(*row[7:])


_KNOWN = select(Person.bsn_index, Person.id, Person.birth_date).where(
    Person.bsn_index.in_(bindparam("indexes", expanding=True))
)


def _known_persons(session: Session, indexes: Sequence[str]) -> dict[str, Row[Any]]:
    known: dict[str, Row[Any]] = {}
    for chunk in chunks(indexes):
        for row in session.execute(_KNOWN, {"indexes": list(chunk)}):
            known[row.bsn_index] = row  # type: ignore[assignment]
    return known


def _birth_date_mismatches(
    rows: Iterable[StaffRow], indexes: list[str], known: dict[str, Row[Any]], label: str
) -> list[Problem]:
    problems = []
    for row, index in zip(rows, indexes, strict=True):
        person = known.get(index)
        if person is not None and person.birth_date != row.birth_date:
            problems.append(
                Problem(
                    row.line,
                    label,
                    p.BIRTH_DATE_MISMATCH,
                    "this BSN is already known to vogscreen with another birth date"
                    f"{p.named(row.personeelsnummer)}; "
                    "check both values",
                )
            )
    return problems


class _BaseRow(NamedTuple):
    """A row of the board's newest list, as far as a new file needs to know it (a named
    tuple: one is made for every stored row of a board on every upload)."""

    id: int
    person_id: int
    personeelsnummer: str | None


@dataclass
class _Intake:
    """A file read against the board's newest list.

    ``carried`` are the file's rows that repeat a row of that list exactly (by fingerprint,
    line in the new file → the stored row): they were validated when they first came and
    are not validated or stored again. Every other row is in ``validated``; ``removed``
    are the stored rows the file no longer has.
    """

    base_id: int | None
    validated: Validated
    fingerprints: dict[int, bytes]  # line → fingerprint, for the validated rows
    carried: dict[int, _BaseRow] = field(default_factory=dict)
    removed: list[_BaseRow] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # canonical column → header
    sheet: str | None = None  # the sheet of a workbook that was read

    @property
    def row_count(self) -> int:
        return self.validated.row_count + len(self.carried)


def _read(app: App, session: Session, data: bytes, board_id: int, base_id: int | None) -> _Intake:
    try:
        # The rows are read as they are consumed: a broken file can fail half-way.
        return _compare(app, session, data, board_id, base_id)
    except FileProblem as problem:
        return _Intake(base_id, Validated(rows=[], problems=[problem.problem], row_count=0), {})


def _compare(
    app: App, session: Session, data: bytes, board_id: int, base_id: int | None
) -> _Intake:
    """Read the file against the board's newest list and validate what it does not repeat."""
    table = read_table(data, max_unpacked_bytes=app.settings.max_xlsx_unpacked_bytes)
    labels: dict[str, str] = {}
    for name in table.header:
        column = canonical(name)
        if column is not None:
            labels.setdefault(column, name)
    base: dict[bytes, _BaseRow] = {}
    # Rows stored before fingerprints existed are never carried: they are all replaced.
    unprinted: list[_BaseRow] = []
    if base_id is not None:
        query = select(
            StaffListRow.fingerprint,
            StaffListRow.id,
            StaffListRow.person_id,
            StaffListRow.personeelsnummer,
        ).where(snapshot.newest(board_id))
        for print_, row_id, person_id, number in session.execute(query):
            stored = _BaseRow(row_id, person_id, number)
            if print_ is None:
                unprinted.append(stored)
            else:
                base[print_] = stored
    fingerprint = snapshot.fingerprinter(app.vault.fingerprint_key, table.kind, table.header)
    carried: dict[int, _BaseRow] = {}
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
    return _Intake(base_id, validated, fingerprints, carried, removed, labels, table.sheet)


def _duplicates_of_carried(
    intake: _Intake, indexes: list[str], known: dict[str, Row[Any]]
) -> list[Problem]:
    """The checks of :func:`validate_table` between validated rows and carried ones."""
    if not intake.carried:
        return []
    people = {row.person_id: line for line, row in intake.carried.items()}
    numbers = {
        row.personeelsnummer: line
        for line, row in intake.carried.items()
        if row.personeelsnummer is not None
    }
    problems = []
    for row, index in zip(intake.validated.rows, indexes, strict=True):
        person = known.get(index)
        first = people.get(person.id) if person is not None else None
        if first is not None:
            number = intake.carried[first].personeelsnummer
            problems.append(
                Problem(
                    row.line,
                    intake.labels.get("bsn"),
                    p.DUPLICATE_BSN,
                    f"the same BSN as line {first}{p.named(number)}; a person may appear once",
                )
            )
        earlier = numbers.get(row.personeelsnummer) if row.personeelsnummer else None
        if earlier is not None:
            problems.append(
                Problem(
                    row.line,
                    intake.labels.get("personeelsnummer"),
                    p.DUPLICATE_PERSONEELSNUMMER,
                    f"the personeelsnummer{p.named(row.personeelsnummer, ' {}')} "
                    f"is also on line {earlier}, for another person",
                )
            )
    return problems


def _preview(
    session: Session,
    board_id: int,
    intake: _Intake,
    indexes: list[str],
    known: dict[str, Row[Any]],
    today: dt.date,
    applied: int | None,
) -> Preview:
    """The file against the board's current employments.

    When the newest list is the applied one, the employments are that list, so only the
    people of changed rows (and those whose datum_uit_dienst has passed since) can differ:
    the comparison covers them alone. Otherwise every row is compared.
    """
    # Persons are keyed by id; one not yet known by a negative number of its own.
    fresh = [
        Desired(person=known[index].id if index in known else -position, terms=terms_of(row))
        for position, (row, index) in enumerate(
            zip(intake.validated.rows, indexes, strict=True), start=1
        )
    ]
    if intake.base_id is not None and intake.base_id == applied:
        current_total, lapsed = current_and_lapsed(session, board_id, today)
        people = {row.person_id for row in intake.removed} | lapsed
        people.update(known[index].id for index in indexes if index in known)
        current = current_employments(session, board_id, sorted(people))
        carried = {row.person_id for row in intake.carried.values()}
        # A carried row equals its employment: for a lapsed one that says it has ended.
        fresh.extend(
            Desired(person=e.person, terms=e.terms)
            for e in current
            if e.person in lapsed and e.person in carried
        )
        diff = diff_board(fresh, current, today)
        return preview_counts(diff, current_total)
    # The newest list is pending or held: its carried rows are compared too.
    query = select(
        StaffListRow.id,
        StaffListRow.person_id,
        *(getattr(StaffListRow, name) for name in TERM_COLUMNS),
    ).where(snapshot.newest(board_id))
    carried_rows = session.execute(query).all() if intake.carried else []
    wanted = {row.id for row in intake.carried.values()}
    fresh.extend(
        Desired(person=row[1], terms=Terms(*row[2:])) for row in carried_rows if row[0] in wanted
    )
    current = current_employments(session, board_id)
    return preview_counts(diff_board(fresh, current, today), len(current))


_BOARD = bindparam("board", type_=Integer())
_PENDING_LISTS = (
    select(StaffList.id)
    .where(StaffList.board_id == _BOARD, StaffList.status == "pending")
    .order_by(StaffList.id)
)
# Lists a board has moved on to: a file like an earlier one is older than these.
_TAKEN = ("pending", "applied")
_SAME_FILE = (
    select(StaffList.id)
    .where(
        StaffList.board_id == _BOARD,
        StaffList.sha256 == bindparam("sha256"),
        StaffList.status != REJECTED,
    )
    .order_by(StaffList.id.desc())
    .limit(1)
)
_TAKEN_SINCE = (
    select(StaffList.id, StaffList.report, StaffList.received_at)
    .where(
        StaffList.board_id == _BOARD,
        StaffList.status.in_(_TAKEN),
        StaffList.id > bindparam("since", type_=Integer()),
    )
    .order_by(StaffList.id.desc())
    .limit(1)
)


def _older_file(
    session: Session, board_id: int, sha256: str, saved: dt.datetime | None
) -> str | None:
    """Why the file is older than a list the board moved on to, or None.

    Older is the same file as an earlier list that a pending or applied list came after,
    or an XLSX saved before the newest pending or applied list's XLSX was.
    """
    same = session.scalar(_SAME_FILE, {"board": board_id, "sha256": sha256})
    if same is not None:
        newer = session.execute(_TAKEN_SINCE, {"board": board_id, "since": same}).first()
        if newer is not None:
            return (
                f"it is the same file as staff list {same}, and the board handed in staff "
                f"list {newer.id} after it; this older file would undo that list's changes"
            )
    if saved is None:
        return None
    newest = session.execute(_TAKEN_SINCE, {"board": board_id, "since": 0}).first()
    stored = newest.report.get("saved_at") if newest is not None else None
    if newest is None or stored is None:
        return None
    theirs = dt.datetime.fromisoformat(stored)
    # A list stored before saved times were checked may carry one it cannot have had.
    if saved >= theirs or not believable(theirs, newest.received_at):
        return None
    return (
        f"the file was saved {saved:%Y-%m-%d %H:%M} UTC, before staff list {newest.id} "
        f"(saved {theirs:%Y-%m-%d %H:%M} UTC); this older export would undo that list's "
        "changes"
    )


_LIST = bindparam("list", type_=Integer())
_MEMBER_TERMS = Lookup(
    select(StaffListRow.person_id, *(getattr(StaffListRow, n) for n in TERM_COLUMNS)).where(
        snapshot.members(_LIST, _BOARD)
    ),
    StaffListRow.person_id,
)


def _undone(
    session: Session,
    board_id: int,
    intake: _Intake,
    indexes: list[str],
    known: dict[str, Row[Any]],
    today: dt.date,
    pending: int,
    applied: int | None,
) -> int:
    """How many people's changes of the pending list (against the applied one) the file
    would put back as they were: a new hire left out, a leaver back, a change reverted."""
    people = sorted(snapshot.changed_people(session, board_id, applied or 0, pending))
    if not people:
        return 0

    def terms(staff_list: int | None, who: Sequence[int]) -> dict[int, Terms]:
        if staff_list is None or not who:
            return {}
        rows = _MEMBER_TERMS.rows(session, {"board": board_id, "list": staff_list}, who)
        return {row[0]: Terms(*row[1:]) for row in rows}

    before, after = terms(applied, people), terms(pending, people)
    wanted = set(people)
    carried = sorted({row.person_id for row in intake.carried.values()} & wanted)
    file = terms(intake.base_id, carried)
    for row, index in zip(intake.validated.rows, indexes, strict=True):
        person = known.get(index)
        if person is not None and person.id in wanted:
            file[person.id] = terms_of(row)

    def live(found: Terms | None) -> Terms | None:
        return None if found is None or found.has_ended(today) else found

    return sum(
        1
        for person in people
        if live(after.get(person)) != live(before.get(person))
        and live(file.get(person)) == live(before.get(person))
    )


def upload(
    app: App,
    number: str,
    path: Path,
    *,
    dry_run: bool = False,
    received_by: str | None = None,
    opened: BinaryIO | None = None,
) -> UploadReport:
    """Validate a staff list and store it as a snapshot, or reject it with every problem.

    ``opened`` is the file, already opened (by the drop folder, which checks what it opens);
    ``path`` then only names it."""
    number = check_board_number(number)
    actor = received_by or app.settings.actor
    report = UploadReport(status=REJECTED, board=number, filename=path.name, dry_run=dry_run)
    bound = log.bind(board=number, file=path.name, dry_run=dry_run)

    size = os.fstat(opened.fileno()).st_size if opened else path.stat().st_size
    if size > app.settings.max_upload_bytes:
        report.problems.append(
            Problem(
                None,
                None,
                p.FILE_TOO_LARGE,
                f"the file is {size // 1024} KiB, over the limit of "
                f"{app.settings.max_upload_bytes // 1024} KiB",
            )
        )
        return _reject(app, report, None, "", 0, actor, bound)
    data = opened.read() if opened else path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()

    with app.sessions() as session:
        board = session.scalar(select(Board).where(Board.number == number))
        if board is None:
            report.problems.append(
                Problem(None, None, p.UNKNOWN_BOARD, f"there is no board {number}")
            )
            return _reject(app, report, None, sha256, 0, actor, bound)
        board_id = board.id
        heads = snapshot.heads(session, board_id)
        latest = heads.newest(*LIVE_STATUSES)
        if latest is not None and latest.sha256 == sha256:
            report.status = UNCHANGED
            report.id = latest.id
            report.counts = {**latest.counts, "rows": latest.row_count}
            bound.info("staff_list.unchanged", staff_list=latest.id)
            return report

        intake = _read(app, session, data, board_id, heads.chain)
        validated = intake.validated
        report.sheet = intake.sheet
        report.problems.extend(validated.problems)
        report.counts["rows"] = intake.row_count
        indexes = [app.vault.blind_index(row.bsn) for row in validated.rows]
        known = _known_persons(session, indexes)
        report.problems.extend(
            _birth_date_mismatches(validated.rows, indexes, known, "geboortedatum")
        )
        report.problems.extend(_duplicates_of_carried(intake, indexes, known))
        if report.problems:
            report.problems.sort(key=lambda problem: problem.line or 0)
            return _reject(app, report, board_id, sha256, intake.row_count, actor, bound)

        applied_head = heads.newest("applied")
        applied = applied_head.id if applied_head else None
        preview = _preview(session, board_id, intake, indexes, known, app.today(), applied)
        report.counts.update(preview.counts)
        claimed = saved_at(data)
        if claimed is None or believable(claimed, app.now()):
            report.saved_at = claimed
        else:
            report.saved_at_ignored = claimed
            bound.warning("staff_list.saved_at_ignored", saved_at=claimed.isoformat())
        older = _older_file(session, board_id, sha256, report.saved_at)
        removals = removal_guard(
            preview.ending,
            preview.current,
            board.removal_threshold_percent,
            board.removal_threshold_count,
        )
        # Rows carried from a list that was never applied (held, say, as another board's)
        # were never checked against the board's own schools: their schools count too.
        carried_from = None if intake.base_id == applied else list(intake.carried.values())
        foreign = other_boards_file(
            session,
            board_id,
            sha256,
            [row.brin for row in validated.rows],
            [row.id for row in carried_from or ()],
        )
        if foreign is not None:
            report.hold, report.reason = HOLD_OTHER_BOARD, foreign
        elif older is not None:
            report.hold, report.reason = HOLD_OLDER_FILE, older
        elif removals is not None:
            report.hold, report.reason = HOLD_REMOVALS, removals
        pending = heads.newest("pending")
        if pending is not None:
            report.undoes = {
                "staff_list": pending.id,
                "people": _undone(
                    session, board_id, intake, indexes, known, app.today(), pending.id, applied
                ),
            }
            if report.hold is None:
                report.supersedes = list(session.scalars(_PENDING_LISTS, {"board": board_id}))
    report.status = ACCEPTED if report.reason is None else HELD
    if dry_run:
        bound.info("staff_list.previewed", **report.counts)
        return report
    report.id = _store(app, board_id, path.name, sha256, intake, indexes, known, report, actor)
    if report.status == HELD:
        bound.warning("staff_list.held", staff_list=report.id, **report.counts)
    else:
        bound.info("staff_list.accepted", staff_list=report.id, **report.counts)
    return report


def _reject(
    app: App,
    report: UploadReport,
    board_id: int | None,
    sha256: str,
    row_count: int,
    actor: str,
    bound: structlog.stdlib.BoundLogger,
) -> UploadReport:
    report.status = REJECTED
    codes = sorted({problem.code for problem in report.problems})
    if not report.dry_run:
        with transaction(app.sessions) as session:
            if board_id is not None:
                staff_list = StaffList(
                    board_id=board_id,
                    sha256=sha256,
                    filename=report.filename,
                    status=REJECTED,
                    row_count=row_count,
                    counts={"rows": row_count},
                    report={"problems": [problem.as_dict() for problem in report.problems]},
                    received_at=app.now(),
                    received_by=actor,
                )
                session.add(staff_list)
                session.flush()
                report.id = staff_list.id
            audit.record(
                session,
                at=app.now(),
                actor=actor,
                action="staff_list.rejected",
                entity="staff_list",
                entity_id=report.id,
                board_id=board_id,
                board=report.board,
                rows=row_count,
                problems=len(report.problems),
                codes=codes,
            )
    bound.warning(
        "staff_list.rejected", staff_list=report.id, problems=len(report.problems), codes=codes
    )
    return report


# A new person's columns: the blind index, the ciphertext, when, then StaffRow's fields from
# birth_date to first_names.
_PERSON_COLUMNS = ("bsn_index", "bsn_cipher", "created_at", *StaffRow._fields[2:7])


def _store(
    app: App,
    board_id: int,
    filename: str,
    sha256: str,
    intake: _Intake,
    indexes: list[str],
    known: dict[str, Row[Any]],
    report: UploadReport,
    actor: str,
) -> int:
    """Store the list against the board's newest: its new rows, and which rows it dropped."""
    now = app.now()
    cipher = app.vault.cipher()
    rows = intake.validated.rows
    with transaction(app.sessions) as session:
        # The chain of a board's lists must stay linear: lock the board, then make sure no
        # other list was stored since this file was compared with the newest.
        head = snapshot.lock_head(session, board_id)
        if head != intake.base_id:
            raise StateConflict(
                "another staff list of this board was stored while this one was being "
                "checked; hand this file in again"
            )
        new_persons = [
            (index, cipher.encrypt(row.bsn), now, *row[2:7])
            for row, index in zip(rows, indexes, strict=True)
            if index not in known
        ]
        person_ids = {index: row.id for index, row in known.items()}
        # Someone may have stored one of these persons meanwhile: theirs is kept.
        person_ids.update(ids_by(session, table(Person), "bsn_index", new_persons, _PERSON_COLUMNS))
        # A Core insert: the ORM's unit of work costs more than the row, on every upload.
        staff_list_id = session.execute(
            insert(StaffList)
            .values(
                board_id=board_id,
                sha256=sha256,
                filename=filename,
                status="pending" if report.status == ACCEPTED else "held",
                row_count=intake.row_count,
                counts={key: value for key, value in report.counts.items() if key != "rows"},
                report={
                    "problems": [],
                    "reason": report.reason,
                    "hold": report.hold,
                    "saved_at": _iso(report.saved_at),
                    "saved_at_ignored": _iso(report.saved_at_ignored),
                },
                received_at=now,
                received_by=actor,
            )
            .returning(StaffList.id)
        ).scalar_one()
        # The row's own values, after who and where: StaffRow's fields from surname on.
        insert_rows(
            session,
            table(StaffListRow),
            ("board_id", "staff_list_id", "fingerprint", "person_id", *StaffRow._fields[3:]),
            [
                (
                    board_id,
                    staff_list_id,
                    intake.fingerprints[row.line],
                    person_ids[index],
                    *row[3:],
                )
                for row, index in zip(rows, indexes, strict=True)
            ],
        )
        rows_table = table(StaffListRow)
        for chunk in chunks([row.id for row in intake.removed]):
            session.execute(
                update(rows_table)
                .where(rows_table.c.id.in_(chunk))
                .values(removed_in_list_id=staff_list_id)
            )
        audit.record(
            session,
            at=now,
            actor=actor,
            action=f"staff_list.{report.status}",
            entity="staff_list",
            entity_id=staff_list_id,
            board_id=board_id,
            rows=intake.row_count,
            new_persons=len(new_persons),
            rows_stored=len(rows),
            rows_carried=len(intake.carried),
            rows_dropped=len(intake.removed),
            **{key: value for key, value in report.counts.items() if key != "rows"},
            hold=report.hold,
            supersedes=report.supersedes,
            undoes=report.undoes,
        )
        return staff_list_id
