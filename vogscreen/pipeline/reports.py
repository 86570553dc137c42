"""A board's reports on the lists it handed in, in Dutch or English: for the portal's
pages and API, as the upload itself reports (:meth:`UploadReport.as_dict`).

:func:`stored_report` is the report of a list already handed in, read again from what was
stored: a rejected list's problems (each message and hint kept as
:class:`~vogscreen.domain.language.Text`, so in either language), a held list's reason,
its counts. :func:`problems_csv` gives a rejected file's problems as a CSV for the board's
HR to work through in a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from vogscreen.domain.csvsafe import write_csv
from vogscreen.domain.errors import NotFound
from vogscreen.domain.language import DEFAULT_LANGUAGE, check_language, msg
from vogscreen.domain.plan import reason_of
from vogscreen.domain.statuses import HoldReason, StaffListStatus, UploadOutcome
from vogscreen.intake.problems import Problem
from vogscreen.pipeline.boards import check_board_number
from vogscreen.pipeline.upload_report import COUNT_KEYS, UploadReport
from vogscreen.runtime.bootstrap import App
from vogscreen.store import list_records as records
from vogscreen.store.boards import board_by_number

# The columns of problems_csv, in the language of the document it is made from.
_CSV_COLUMNS = (
    msg("line"),
    msg("column"),
    msg("code"),
    msg("problem"),
    msg("how to fix it"),
)
_CSV_KEYS = ("line", "column", "code", "message", "hint")


def stored_report(
    app: App, number: str, staff_list_id: int, language: str = DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """The report of list ``staff_list_id`` of board ``number``, read in ``language``.

    The document has the shape of :meth:`UploadReport.as_dict`, with ``status`` the
    list's status now (``pending``, ``applied``, ``held``, ``discarded``, ``superseded``
    or ``rejected``), ``outcome`` what the upload came to (``accepted``, ``held`` or
    ``rejected``), and who handed it in and decided it, and when.

    Raises :class:`NotFound` for a list that is not the board's, exactly as for a list
    (or a board) that does not exist: the answer never tells that another board has it.
    """
    check_language(language)
    with app.sessions() as session:
        board = board_by_number(session, check_board_number(number))
        staff_list = (
            records.list_of_board(session, board.id, staff_list_id) if board is not None else None
        )
        if board is None or staff_list is None:
            raise NotFound(f"board {number} has no staff list {staff_list_id}")
        stored = staff_list.report or {}
        report = UploadReport(
            status=_outcome(staff_list.status, stored),
            board=board.number,
            filename=staff_list.filename,
            id=staff_list.id,
            counts={
                **dict.fromkeys(COUNT_KEYS, 0),
                **staff_list.counts,
                "rows": staff_list.row_count,
            },
            problems=[Problem.from_stored(problem) for problem in stored.get("problems") or []],
            reason=reason_of(stored),
            hold=_hold(staff_list.status, stored),
            saved_at=_moment(stored.get("saved_at")),
            saved_at_ignored=_moment(stored.get("saved_at_ignored")),
            sheet=stored.get("sheet"),
        )
        document = report.as_dict(language)
        outcome = document["status"]
        document.update(
            status=staff_list.status,
            outcome=outcome,
            received_at=staff_list.received_at.isoformat(),
            received_by=staff_list.received_by,
            decided_at=staff_list.decided_at.isoformat() if staff_list.decided_at else None,
            decided_by=staff_list.decided_by,
        )
        return document


def _outcome(status: str, stored: Mapping[str, Any]) -> UploadOutcome:
    if status == StaffListStatus.REJECTED:
        return UploadOutcome.REJECTED
    if status == StaffListStatus.HELD or stored.get("hold") or stored.get("reason"):
        return UploadOutcome.HELD
    return UploadOutcome.ACCEPTED


def _hold(status: str, stored: Mapping[str, Any]) -> HoldReason | None:
    hold = stored.get("hold")
    if hold:
        return HoldReason(hold)
    # Lists held before hold reasons were recorded were all held by the removal guard.
    if status == StaffListStatus.HELD or stored.get("reason"):
        return HoldReason.REMOVALS
    return None


def _moment(stored: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(stored) if stored else None


def problems_csv(document: Mapping[str, Any]) -> str:
    """The problems of a report document (:func:`stored_report`, or an upload's
    :meth:`UploadReport.as_dict`) as CSV: a header in the document's language, then one
    row per problem, in the order of the report.

    Semicolons and CRLF, and a byte order mark, as Excel in a Dutch setting reads a CSV
    without asking; a value that a spreadsheet would run as a formula starts with an
    apostrophe (:mod:`vogscreen.domain.csvsafe`).
    """
    language = check_language(str(document.get("language") or DEFAULT_LANGUAGE))
    buffer = io.StringIO()
    buffer.write("\ufeff")
    write_csv(
        buffer,
        [column.render(language) for column in _CSV_COLUMNS],
        ([problem.get(key) for key in _CSV_KEYS] for problem in document.get("problems") or []),
    )
    return buffer.getvalue()
