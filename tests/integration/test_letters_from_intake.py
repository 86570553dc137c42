"""Handing in a list queues the board's letter itself: one when it is rejected, one when
it is held, none for a dry run or an accepted list, in the same transaction as the list."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.reconcile_helpers import hand_in
from vogscreen.domain.statuses import NotificationKind, UploadOutcome
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Notification
from vogscreen.testing import fake_employees


def letters(app: App) -> list[tuple[str, int | None, dict[str, object]]]:
    with app.sessions() as session:
        rows = session.execute(
            select(Notification.kind, Notification.staff_list_id, Notification.details).order_by(
                Notification.id
            )
        ).all()
    return [(kind, staff_list, dict(details)) for kind, staff_list, details in rows]


def test_a_rejected_list_queues_one_letter_with_its_problem_count(
    app: App, board: str, tmp_path: Path
) -> None:
    broken = tmp_path / "kapot.csv"
    broken.write_text("bsn;achternaam\n123;Jansen\n")
    preview = upload(app, board, broken, dry_run=True)
    assert preview.status == UploadOutcome.REJECTED
    assert letters(app) == []  # a dry run sends nothing
    report = upload(app, board, broken)
    assert report.status == UploadOutcome.REJECTED
    assert letters(app) == [
        (NotificationKind.LIST_REJECTED, report.id, {"problems": len(report.problems)})
    ]


def test_a_held_list_queues_one_letter_with_its_reason_and_an_accepted_one_none(
    app: App, board: str, tmp_path: Path, mock: object
) -> None:
    staff = fake_employees(40)
    first = hand_in(app, board, staff, tmp_path)
    assert first.status == UploadOutcome.ACCEPTED
    assert letters(app) == []
    with app.authority() as authority:
        reconcile(app, authority, actor="test")
    held = hand_in(app, board, staff[:10], tmp_path)  # 30 of 40 would leave
    assert held.status == UploadOutcome.HELD
    assert held.hold is not None
    assert letters(app) == [(NotificationKind.LIST_HELD, held.id, {"hold": str(held.hold)})]


def test_the_links_in_the_letters_open_the_pages_they_are_about(
    app: App, board: str, tmp_path: Path, mock: object, portal: object
) -> None:
    from fastapi.testclient import TestClient

    from tests.integration.portal_helpers import log_in
    from vogscreen.pipeline.letters import portal_link

    assert isinstance(portal, TestClient)
    broken = tmp_path / "kapot.csv"
    broken.write_text("bsn;achternaam\n123;Jansen\n")
    rejected = upload(app, board, broken)
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    with app.authority() as authority:
        reconcile(app, authority, actor="test")
    held = hand_in(app, board, staff[:10], tmp_path)
    log_in(portal, app)
    base = app.settings.portal_url
    pages = {
        NotificationKind.LIST_REJECTED: (rejected.id, "kapot.csv"),
        NotificationKind.LIST_HELD: (held.id, "Wachtende lijst"),
        NotificationKind.PERSON_REFUSED: (None, "Overzicht"),
    }
    for kind, (staff_list, shown) in pages.items():
        link = portal_link(base, kind, board, staff_list)
        answer = portal.get(link.removeprefix(base))
        assert answer.status_code == 200, (kind, link)
        assert shown in answer.text, kind
