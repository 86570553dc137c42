"""Handing in a staff list: read, validate, preview, then store it whole or reject it whole.

This is a bulk path. A board's file is validated in memory, persons are looked up by blind
index in chunks, and new persons and the snapshot's rows are written with Core
``executemany`` inserts in one transaction: no per-row ORM round trips.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from vogscreen import audit
from vogscreen.boards import check_board_number
from vogscreen.bootstrap import App
from vogscreen.database import chunks, insert_ignore, transaction
from vogscreen.intake import problems as p
from vogscreen.intake.problems import FileProblem, Problem
from vogscreen.intake.reading import read_table
from vogscreen.intake.validate import StaffRow, Validated, validate_table
from vogscreen.models import Board, Employment, Person, StaffList, StaffListRow, table
from vogscreen.plan import Current, Desired, Terms, diff_board, removal_guard

log = structlog.get_logger(__name__)

ACCEPTED = "accepted"
REJECTED = "rejected"
HELD = "held"
UNCHANGED = "unchanged"

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "board": self.board,
            "file": self.filename,
            "dry_run": self.dry_run,
            "counts": dict(self.counts),
            "reason": self.reason,
            "problems": [problem.as_dict() for problem in self.problems],
        }


def terms_of(row: StaffRow | StaffListRow | Employment) -> Terms:
    return Terms(
        personeelsnummer=row.personeelsnummer,
        brin=row.brin,
        function=row.function,
        start_date=row.start_date,
        end_date=row.end_date,
        vog_date=row.vog_date,
    )


def _known_persons(session: Session, indexes: Sequence[str]) -> dict[str, Row[Any]]:
    known: dict[str, Row[Any]] = {}
    for chunk in chunks(indexes):
        query = select(Person.bsn_index, Person.id, Person.birth_date).where(
            Person.bsn_index.in_(chunk)
        )
        for row in session.execute(query):
            known[row.bsn_index] = row  # type: ignore[assignment]
    return known


def _current_employments(session: Session, board_id: int) -> list[Current[str]]:
    # Columns, not ORM entities: this runs for every row of a board on every upload.
    query = (
        select(
            Employment.id,
            Person.bsn_index,
            Employment.personeelsnummer,
            Employment.brin,
            Employment.function,
            Employment.start_date,
            Employment.end_date,
            Employment.vog_date,
        )
        .join(Person, Person.id == Employment.person_id)
        .where(Employment.board_id == board_id, Employment.ended_at.is_(None))
    )
    return [
        Current(employment_id=row[0], person=row[1], terms=Terms(*row[2:]))
        for row in session.execute(query)
    ]


def _latest_live(session: Session, board_id: int) -> StaffList | None:
    return session.scalar(
        select(StaffList)
        .where(StaffList.board_id == board_id, StaffList.status.in_(LIVE_STATUSES))
        .order_by(StaffList.id.desc())
        .limit(1)
    )


def _birth_date_mismatches(
    rows: Iterable[StaffRow], indexes: list[str], known: dict[str, Row[Any]], label: str
) -> list[Problem]:
    problems = []
    for row, index in zip(rows, indexes, strict=True):
        person = known.get(index)
        if person is not None and person.birth_date != row.birth_date:
            who = f" (personeelsnummer {row.personeelsnummer})" if row.personeelsnummer else ""
            problems.append(
                Problem(
                    row.line,
                    label,
                    p.BIRTH_DATE_MISMATCH,
                    f"this BSN is already known to vogscreen with another birth date{who}; "
                    "check both values",
                )
            )
    return problems


def upload(
    app: App,
    number: str,
    path: Path,
    *,
    dry_run: bool = False,
    received_by: str | None = None,
) -> UploadReport:
    """Validate a staff list and store it as a snapshot, or reject it with every problem."""
    number = check_board_number(number)
    actor = received_by or app.settings.actor
    report = UploadReport(status=REJECTED, board=number, filename=path.name, dry_run=dry_run)
    bound = log.bind(board=number, file=path.name, dry_run=dry_run)

    size = path.stat().st_size
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
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()

    with app.sessions() as session:
        board = session.scalar(select(Board).where(Board.number == number))
        if board is None:
            report.problems.append(
                Problem(None, None, p.UNKNOWN_BOARD, f"there is no board {number}")
            )
            return _reject(app, report, None, sha256, 0, actor, bound)
        board_id = board.id
        latest = _latest_live(session, board_id)
        if latest is not None and latest.sha256 == sha256:
            report.status = UNCHANGED
            report.id = latest.id
            report.counts = {**latest.counts, "rows": latest.row_count}
            bound.info("staff_list.unchanged", staff_list=latest.id)
            return report

        validated = _validate(app, data)
        report.problems.extend(validated.problems)
        report.counts["rows"] = validated.row_count
        indexes = [app.vault.blind_index(row.bsn) for row in validated.rows]
        known = _known_persons(session, indexes)
        report.problems.extend(
            _birth_date_mismatches(validated.rows, indexes, known, "geboortedatum")
        )
        if report.problems:
            report.problems.sort(key=lambda problem: problem.line or 0)
            return _reject(app, report, board_id, sha256, validated.row_count, actor, bound)

        desired = [
            Desired(person=index, terms=terms_of(row))
            for row, index in zip(validated.rows, indexes, strict=True)
        ]
        diff = diff_board(desired, _current_employments(session, board_id), app.today())
        report.counts.update(diff.counts())
        current = len(diff.end) + len(diff.update) + len(diff.unchanged)
        report.reason = removal_guard(
            len(diff.end), current, board.removal_threshold_percent, board.removal_threshold_count
        )
    report.status = ACCEPTED if report.reason is None else HELD
    if dry_run:
        bound.info("staff_list.previewed", **report.counts)
        return report
    report.id = _store(app, board_id, path.name, sha256, validated, indexes, known, report, actor)
    if report.status == HELD:
        bound.warning("staff_list.held", staff_list=report.id, **report.counts)
    else:
        bound.info("staff_list.accepted", staff_list=report.id, **report.counts)
    return report


def _validate(app: App, data: bytes) -> Validated:
    try:
        table = read_table(data, max_unpacked_bytes=app.settings.max_xlsx_unpacked_bytes)
        return validate_table(table, today=app.today())
    except FileProblem as problem:
        return Validated(rows=[], problems=[problem.problem], row_count=0)


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


def _store(
    app: App,
    board_id: int,
    filename: str,
    sha256: str,
    validated: Validated,
    indexes: list[str],
    known: dict[str, Row[Any]],
    report: UploadReport,
    actor: str,
) -> int:
    now = app.now()
    cipher = app.vault.cipher()
    with transaction(app.sessions) as session:
        new_persons = [
            {
                "bsn_index": index,
                "bsn_cipher": cipher.encrypt(row.bsn),
                "birth_date": row.birth_date,
                "surname": row.surname,
                "prefix": row.prefix,
                "initials": row.initials,
                "first_names": row.first_names,
                "created_at": now,
            }
            for row, index in zip(validated.rows, indexes, strict=True)
            if index not in known
        ]
        if new_persons:
            insert_ignore(session, table(Person), new_persons, "bsn_index")
        person_ids = {index: row.id for index, row in known.items()}
        if new_persons:
            fresh = [str(person["bsn_index"]) for person in new_persons]
            person_ids.update(
                {index: row.id for index, row in _known_persons(session, fresh).items()}
            )
        staff_list = StaffList(
            board_id=board_id,
            sha256=sha256,
            filename=filename,
            status="pending" if report.status == ACCEPTED else "held",
            row_count=len(validated.rows),
            counts={key: value for key, value in report.counts.items() if key != "rows"},
            report={"problems": [], "reason": report.reason},
            received_at=now,
            received_by=actor,
        )
        session.add(staff_list)
        session.flush()
        session.execute(
            insert(table(StaffListRow)),
            [
                {
                    "staff_list_id": staff_list.id,
                    "line": row.line,
                    "person_id": person_ids[index],
                    "surname": row.surname,
                    "prefix": row.prefix,
                    "initials": row.initials,
                    "first_names": row.first_names,
                    "personeelsnummer": row.personeelsnummer,
                    "brin": row.brin,
                    "function": row.function,
                    "start_date": row.start_date,
                    "end_date": row.end_date,
                    "vog_date": row.vog_date,
                }
                for row, index in zip(validated.rows, indexes, strict=True)
            ],
        )
        audit.record(
            session,
            at=now,
            actor=actor,
            action=f"staff_list.{report.status}",
            entity="staff_list",
            entity_id=staff_list.id,
            board_id=board_id,
            rows=len(validated.rows),
            new_persons=len(new_persons),
            **{key: value for key, value in report.counts.items() if key != "rows"},
        )
        return staff_list.id
