"""Handing in a staff list: read, validate, preview, then store it whole or reject it whole.

This is a bulk path. A board's file is read against the board's newest list
(:mod:`vogscreen.store.staff_lists`): rows that repeat it exactly are recognised by fingerprint and
carried over; only the others are validated, looked up by blind index (in chunks) and
stored, with Core ``executemany`` statements in one transaction. A day with a few changes
costs reading the file plus those changes, not the whole list again.

An upload is a few steps on one :class:`_Intake`: load the file (:func:`_load`), check it
against the stored lists (:func:`_check`, in :mod:`vogscreen.pipeline.intake_checks`),
plan what storing it would do and whether it is held (:func:`_plan`, :func:`_hold`), then
reject it (:func:`_reject`) or write it (:func:`_write`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import structlog

from vogscreen.domain.errors import StateConflict
from vogscreen.domain.language import Text, msg
from vogscreen.domain.plan import removal_guard, stored_reason
from vogscreen.domain.redact import redacted_text
from vogscreen.domain.statuses import LIVE_LIST_STATUSES, STORED_AS, HoldReason, UploadOutcome
from vogscreen.domain.statuses import StaffListStatus as Status
from vogscreen.intake import problems as p
from vogscreen.intake.saved import believable, saved_at
from vogscreen.pipeline import intake_checks as checks
from vogscreen.pipeline import letters
from vogscreen.pipeline.boards import check_board_number
from vogscreen.pipeline.intake_checks import Compared
from vogscreen.pipeline.preview_people import people_of
from vogscreen.pipeline.upload_report import UploadReport, iso
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit, persons, staff_lists
from vogscreen.store import list_records as records
from vogscreen.store.boards import board_by_number
from vogscreen.store.database import transaction
from vogscreen.store.foreign_lists import other_boards_file

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vogscreen.store.list_records import Heads, ListHead
    from vogscreen.store.models import Board

log = structlog.get_logger(__name__)


@dataclass
class _Intake:
    """One upload on its way, as every step sees it."""

    app: App
    report: UploadReport
    actor: str
    log: structlog.stdlib.BoundLogger
    sha256: str = ""
    board_id: int | None = None  # once the board is known
    # Lines naming a person only another board has had, with another birth date.
    known_elsewhere: list[int] = field(default_factory=list)


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
    # The name as it is kept and shown, in the history too: never with a BSN in it.
    filename = redacted_text(path.name)
    report = UploadReport(
        status=UploadOutcome.REJECTED, board=number, filename=filename, dry_run=dry_run
    )
    bound = log.bind(board=number, file=filename, dry_run=dry_run)
    intake = _Intake(app, report, received_by or app.settings.actor, bound)
    data = _load(intake, path, opened)
    if data is None:
        return _reject(intake, 0)
    with app.sessions() as session:
        board = board_by_number(session, number)
        if board is None:
            report.problems.append(p.unknown_board(number))
            return _reject(intake, 0)
        intake.board_id = board.id
        heads = records.heads(session, board.id)
        latest = heads.newest(*LIVE_LIST_STATUSES)
        if latest is not None and latest.sha256 == intake.sha256:
            return _unchanged(intake, latest)
        file = _check(intake, session, data, heads.chain)
        if report.problems:
            return _reject(intake, file.row_count)
        _plan(intake, session, board, heads, file, data)
    report.status = UploadOutcome.ACCEPTED if report.reason is None else UploadOutcome.HELD
    if dry_run:
        bound.info("staff_list.previewed", **report.counts)
        return report
    report.id = _write(intake, file)
    if report.status == UploadOutcome.HELD:
        bound.warning("staff_list.held", staff_list=report.id, **report.counts)
    else:
        bound.info("staff_list.accepted", staff_list=report.id, **report.counts)
    return report


def _load(intake: _Intake, path: Path, opened: BinaryIO | None) -> bytes | None:
    """The file's bytes (and their hash), or None when it is too large to be read."""
    limit = intake.app.settings.max_upload_bytes
    size = os.fstat(opened.fileno()).st_size if opened else path.stat().st_size
    if size > limit:
        intake.report.problems.append(p.file_too_large(size, limit))
        return None
    data = opened.read() if opened else path.read_bytes()
    intake.sha256 = hashlib.sha256(data).hexdigest()
    return data


def _unchanged(intake: _Intake, latest: ListHead) -> UploadReport:
    report = intake.report
    report.status = UploadOutcome.UNCHANGED
    report.id = latest.id
    report.counts = {**latest.counts, "rows": latest.row_count}
    intake.log.info("staff_list.unchanged", staff_list=latest.id)
    return report


def _check(intake: _Intake, session: Session, data: bytes, base_id: int | None) -> Compared:
    """Read the file against list ``base_id``; its problems go into the report."""
    assert intake.board_id is not None
    report = intake.report
    file = checks.compare(intake.app, session, data, intake.board_id, base_id)
    report.sheet = file.sheet
    report.problems.extend(file.validated.problems)
    report.counts["rows"] = file.row_count
    own, intake.known_elsewhere = checks.birth_date_mismatches(
        session, file, intake.board_id, "geboortedatum"
    )
    report.problems.extend(own)
    report.problems.extend(checks.duplicates_of_carried(file))
    report.problems.sort(key=lambda problem: problem.line or 0)
    return file


def _plan(
    intake: _Intake, session: Session, board: Board, heads: Heads, file: Compared, data: bytes
) -> None:
    """What storing the file would change, whether it is held, and which pending list it
    overtakes or undoes."""
    app, report = intake.app, intake.report
    applied_head = heads.newest(Status.APPLIED)
    applied = applied_head.id if applied_head else None
    preview = checks.preview(session, board.id, file, app.today(), applied)
    report.counts.update(preview.counts)
    if report.dry_run and preview.diff is not None:
        report.people = people_of(session, preview.diff, file)
    claimed = saved_at(data)
    if claimed is None or believable(claimed, app.now()):
        report.saved_at = claimed
    else:
        report.saved_at_ignored = claimed
        intake.log.warning("staff_list.saved_at_ignored", saved_at=claimed.isoformat())
    removals = removal_guard(
        preview.ending,
        preview.current,
        board.removal_threshold_percent,
        board.removal_threshold_count,
    )
    _hold(intake, session, file, applied, removals)
    pending = heads.newest(Status.PENDING)
    if pending is not None:
        report.undoes = {
            "staff_list": pending.id,
            "people": checks.undone(session, board.id, file, app.today(), pending.id, applied),
        }
        if report.hold is None:
            report.supersedes = records.pending_lists(session, board.id)


def _hold(
    intake: _Intake, session: Session, file: Compared, applied: int | None, removals: Text | None
) -> None:
    """Hold the list when it looks like another board's, is older than a list the board
    moved on to, or ends too many employments (``removals``): the first that applies."""
    assert intake.board_id is not None
    report = intake.report
    older = checks.older_file(session, intake.board_id, intake.sha256, report.saved_at)
    # Rows carried from a list that was never applied (held, say, as another board's)
    # were never checked against the board's own schools: their schools count too.
    carried_from = None if file.base_id == applied else list(file.carried.values())
    foreign = other_boards_file(
        session,
        intake.board_id,
        intake.sha256,
        [row.brin for row in file.validated.rows],
        [row.id for row in carried_from or ()],
    )
    if foreign is not None:
        report.hold, report.reason = HoldReason.OTHER_BOARD, foreign
    elif intake.known_elsewhere and not report.dry_run:
        # Not in a dry run, which must answer as for a BSN nobody knows (see
        # intake_checks.birth_date_mismatches); the lines go to the audit trail only.
        report.hold = HoldReason.KNOWN_PERSON
        report.reason = msg(
            "the list names someone vogscreen already knows with another birth date; "
            "an operator checks the list before it is applied"
        )
    elif older is not None:
        report.hold, report.reason = HoldReason.OLDER_FILE, older
    elif removals is not None:
        report.hold, report.reason = HoldReason.REMOVALS, removals


def _reject(intake: _Intake, row_count: int) -> UploadReport:
    app, report = intake.app, intake.report
    report.status = UploadOutcome.REJECTED
    codes = sorted({problem.code for problem in report.problems})
    if not report.dry_run:
        with transaction(app.sessions) as session:
            if intake.board_id is not None:
                report.id = records.add_rejected(
                    session,
                    board_id=intake.board_id,
                    sha256=intake.sha256,
                    filename=report.filename,
                    row_count=row_count,
                    problems=[problem.stored() for problem in report.problems],
                    received_at=app.now(),
                    received_by=intake.actor,
                )
                # The board's HR hears of it, with the link to the report in the portal.
                letters.queue_list_rejected(
                    session,
                    board_id=intake.board_id,
                    staff_list_id=report.id,
                    problems=len(report.problems),
                    now=app.now(),
                )
            audit.record(
                session,
                at=app.now(),
                actor=intake.actor,
                action="staff_list.rejected",
                entity="staff_list",
                entity_id=report.id,
                board_id=intake.board_id,
                board=report.board,
                rows=row_count,
                problems=len(report.problems),
                codes=codes,
            )
    intake.log.warning(
        "staff_list.rejected", staff_list=report.id, problems=len(report.problems), codes=codes
    )
    return report


def _write(intake: _Intake, file: Compared) -> int:
    """Store the list against the board's newest: its new rows, and which rows it dropped."""
    app, board_id = intake.app, intake.board_id
    assert board_id is not None
    now = app.now()
    cipher = app.vault.cipher()
    rows = file.validated.rows
    with transaction(app.sessions) as session:
        # The chain of a board's lists must stay linear: lock the board, then make sure no
        # other list was stored since this file was compared with the newest.
        head = staff_lists.lock_head(session, board_id)
        if head != file.base_id:
            raise StateConflict(
                "another staff list of this board was stored while this one was being "
                "checked; hand this file in again"
            )
        new_persons = [
            (index, cipher.encrypt(row.bsn), row)
            for row, index in zip(rows, file.indexes, strict=True)
            if index not in file.known
        ]
        person_ids = {index: person.id for index, person in file.known.items()}
        person_ids.update(persons.add_persons(session, now, new_persons))
        staff_list_id = _add_list(intake, session, file, now)
        staff_lists.add_rows(
            session,
            board_id,
            staff_list_id,
            [
                (file.fingerprints[row.line], person_ids[index], row)
                for row, index in zip(rows, file.indexes, strict=True)
            ],
        )
        staff_lists.mark_removed(session, [row.id for row in file.removed], staff_list_id)
        _audit_written(intake, session, file, staff_list_id, now, len(new_persons))
        if intake.report.hold is not None:
            letters.queue_list_held(
                session,
                board_id=board_id,
                staff_list_id=staff_list_id,
                hold=intake.report.hold,
                now=now,
            )
        return staff_list_id


def _stored_counts(report: UploadReport) -> dict[str, int]:
    return {key: value for key, value in report.counts.items() if key != "rows"}


def _add_list(intake: _Intake, session: Session, file: Compared, now: dt.datetime) -> int:
    report = intake.report
    assert intake.board_id is not None
    return records.add_list(
        session,
        board_id=intake.board_id,
        sha256=intake.sha256,
        filename=report.filename,
        status=STORED_AS[report.status],
        row_count=file.row_count,
        counts=_stored_counts(report),
        report={
            "problems": [],
            **stored_reason(report.reason),
            "hold": report.hold,
            "saved_at": iso(report.saved_at),
            "saved_at_ignored": iso(report.saved_at_ignored),
            "sheet": report.sheet,
        },
        received_at=now,
        received_by=intake.actor,
    )


def _audit_written(
    intake: _Intake,
    session: Session,
    file: Compared,
    staff_list_id: int,
    now: dt.datetime,
    new_persons: int,
) -> None:
    report = intake.report
    audit.record(
        session,
        at=now,
        actor=intake.actor,
        action=f"staff_list.{report.status}",
        entity="staff_list",
        entity_id=staff_list_id,
        board_id=intake.board_id,
        rows=file.row_count,
        new_persons=new_persons,
        rows_stored=len(file.validated.rows),
        rows_carried=len(file.carried),
        rows_dropped=len(file.removed),
        **_stored_counts(report),
        hold=report.hold,
        # For the operator who decides a known-person hold: which lines (never a BSN).
        **({"known_person_lines": intake.known_elsewhere} if intake.known_elsewhere else {}),
        supersedes=report.supersedes,
        undoes=report.undoes,
    )
