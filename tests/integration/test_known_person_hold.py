"""A board learns nothing of a person only another board has had.

A row whose BSN vogscreen knows (from another board) with another birth date is no
problem the board is told of: a dry run answers as for a BSN nobody knows, and a real
upload is held for an operator, who sees the lines in the audit trail. The board can
reject that list, never confirm it; an operator can."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from sqlalchemy import select

from tests.api_helpers import bearer, portal_client
from tests.followup_helpers import BOARD_A, BOARD_B, two_boards_with_a_shared_teacher
from tests.integration.portal_helpers import log_in
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.statuses import HoldReason, UploadOutcome
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.reconcile import confirm
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent
from vogscreen.testing import staff_csv

V1 = "/api/v1/boards"


def test_a_person_known_elsewhere_with_another_birth_date_holds_the_list_for_an_operator(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    staff_a, staff_b, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    stranger = dataclasses.replace(
        staff_a[1], birth_date=staff_a[1].birth_date - dt.timedelta(days=3), brin=staff_b[0].brin
    )
    rows = [*staff_b, stranger]
    preview = upload(app, BOARD_B, _file(tmp_path, rows), dry_run=True)
    assert preview.status == UploadOutcome.ACCEPTED and preview.problems == []
    held = upload(app, BOARD_B, _file(tmp_path, rows))
    assert (held.status, held.hold) == (UploadOutcome.HELD, HoldReason.KNOWN_PERSON)
    document = held.as_dict("nl")
    assert "beheerder" in document["reason"]
    with app.sessions() as session:
        details = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "staff_list.held")
        ).one()
    assert details["known_person_lines"] == [len(rows) + 1]

    with portal_client(app) as portal:
        answer = portal.post(
            f"{V1}/{BOARD_B}/staff-lists/{held.id}/confirm", headers=bearer(app, BOARD_B)
        )
    assert answer.status_code == 409
    assert "beheerder" in answer.json()["detail"]
    with portal_client(app) as portal:
        log_in(portal, app, "personeel@zuiderzon.nl")
        page = portal.get(f"/besturen/{BOARD_B}/wachtend/{held.id}").text
    assert "Alleen de beheerder van vogscreen kan deze lijst bevestigen" in page
    assert "/bevestigen" not in page and "/afwijzen" in page  # rejecting stays possible
    assert stranger.bsn not in page and stranger.birth_date.isoformat() not in page
    assert confirm(app, held.id) == BOARD_B  # the operator can


def test_a_board_is_still_told_of_a_birth_date_it_gave_itself_before(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    changed = dataclasses.replace(
        staff_a[1], birth_date=staff_a[1].birth_date - dt.timedelta(days=3)
    )
    report = upload(app, BOARD_A, _file(tmp_path, [staff_a[0], changed, *staff_a[2:]]))
    assert report.status == UploadOutcome.REJECTED
    assert [problem.code for problem in report.problems] == ["birth_date_mismatch"]


def _file(folder: Path, rows: list[object]) -> Path:
    path = folder / f"lijst-{len(list(folder.iterdir()))}.csv"
    path.write_text(staff_csv(rows))  # type: ignore[arg-type]
    return path
