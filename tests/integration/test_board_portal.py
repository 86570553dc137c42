"""The board-scoped functions behind the portal: a board sees and changes only its own data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.followup_helpers import BOARD_A, BOARD_B, raise_hit, two_boards_with_a_shared_teacher
from tests.reconcile_helpers import hand_in
from vogscreen.adapters.mock import MockAuthority
from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.domain.language import msg
from vogscreen.pipeline import board_portal as portal
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.bootstrap import App
from vogscreen.store.database import transaction
from vogscreen.store.models import ApiToken, AuditEvent, Case, StaffList
from vogscreen.testing import FakeClock, fake_employees


def audit_of(app: App, action: str) -> list[AuditEvent]:
    with app.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def shared(app: App, mock: MockAuthority, tmp_path: Path) -> list[str]:
    """Two boards sharing a teacher with a hit: an open case at each board."""
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)
    poll(app, mock)
    return [case["reference"] for case in portal.cases_of(app, BOARD_A, only_open=True)]


def test_the_overview_counts_the_boards_own_staff_and_cases(
    app: App, shared: list[str], clock: FakeClock
) -> None:
    seen = portal.overview(app, BOARD_A)
    assert (seen["board"], seen["staff"], seen["subscribed"], seen["refused"]) == (
        BOARD_A,
        6,
        6,
        0,
    )
    assert (seen["open_cases"], seen["overdue_cases"], seen["held_lists"]) == (1, 0, [])
    assert seen["last_list"]["status"] == "applied"
    assert portal.overview(app, BOARD_B)["staff"] == 7
    clock.advance(weeks=9)
    assert portal.overview(app, BOARD_A)["overdue_cases"] == 1


def test_a_board_sees_and_resolves_only_its_own_cases(app: App, shared: list[str]) -> None:
    (mine,) = shared
    (theirs,) = [case["reference"] for case in portal.cases_of(app, BOARD_B, only_open=True)]
    assert mine.startswith(f"VS-{BOARD_A}-") and theirs.startswith(f"VS-{BOARD_B}-")
    with pytest.raises(NotFound) as found:
        portal.resolve_case(
            app, BOARD_A, theirs, outcome="other", vog_date=None, note=None, who="hr@a.nl"
        )
    unknown = "VS-11111-999999"
    with pytest.raises(NotFound) as missing:
        portal.resolve_case(
            app, BOARD_A, unknown, outcome="other", vog_date=None, note=None, who="hr@a.nl"
        )
    # The same error, so nothing tells that the other board's case exists.
    assert str(found.value).replace(theirs, "X") == str(missing.value).replace(unknown, "X")
    assert len(portal.cases_of(app, BOARD_B, only_open=True)) == 1


def test_a_new_vog_needs_a_date_on_or_after_the_hit(app: App, shared: list[str]) -> None:
    (reference,) = shared
    with pytest.raises(InvalidInput):
        portal.resolve_case(
            app, BOARD_A, reference, outcome="new_vog", vog_date=None, note=None, who="hr@a.nl"
        )
    (case,) = portal.cases_of(app, BOARD_A, only_open=True)
    raised = dt.date.fromisoformat(case["raised_at"][:10])
    with pytest.raises(InvalidInput):
        portal.resolve_case(
            app,
            BOARD_A,
            reference,
            outcome="new_vog",
            vog_date=raised - dt.timedelta(days=1),
            note=None,
            who="hr@a.nl",
        )
    resolved = portal.resolve_case(
        app,
        BOARD_A,
        reference,
        outcome="new_vog",
        vog_date=raised,
        note="  Nieuwe VOG ontvangen.  ",
        who="hr@noorderlicht.nl",
    )
    assert resolved["status"] == "resolved" and resolved["vog_date"] == raised.isoformat()
    with app.sessions() as session:
        stored = session.scalar(select(Case).where(Case.reference == reference))
        assert stored is not None
        assert (stored.outcome, stored.vog_date, stored.note, stored.resolved_by) == (
            "new_vog",
            raised,
            "Nieuwe VOG ontvangen.",
            "hr@noorderlicht.nl",
        )
    (event,) = audit_of(app, "case.resolved")
    assert event.actor == "hr@noorderlicht.nl"
    assert event.details == {
        "outcome": "new_vog",
        "vog_date": raised.isoformat(),
        "note": "Nieuwe VOG ontvangen.",
    }
    assert portal.cases_of(app, BOARD_A, only_open=True) == []
    (closed,) = portal.cases_of(app, BOARD_A, only_open=False)
    assert closed["note"] == "Nieuwe VOG ontvangen." and closed["outcome"] == "new_vog"
    with pytest.raises(StateConflict):
        portal.resolve_case(
            app, BOARD_A, reference, outcome="other", vog_date=None, note=None, who="hr@a.nl"
        )


@pytest.fixture
def held(app: App, board: str, mock: MockAuthority, tmp_path: Path) -> int:
    """Board 12345 with 40 staff, and a held list of 30 of them."""
    staff = fake_employees(40)
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock)
    report = hand_in(app, board, staff[:30], tmp_path)
    assert report.status == "held" and report.id is not None
    return report.id


def test_a_held_list_shows_why_and_who_would_leave_never_a_bsn(
    app: App, board: str, held: int
) -> None:
    staff = fake_employees(40)
    seen = portal.held_list(app, board, held)
    assert (seen["id"], seen["status"], seen["hold"]) == (held, "held", "removals")
    assert seen["reason"] and "40" in seen["reason"]
    assert seen["hint"] and seen["hint"] != portal.held_list(app, board, held, "en")["hint"]
    leaving = {person["personeelsnummer"] for person in seen["leaving"]}
    assert leaving == {employee.personeelsnummer for employee in staff[30:]}
    assert {person["brin"] for person in seen["leaving"]} == {staff[30].brin}
    assert all(person["name"] for person in seen["leaving"])
    text = repr(seen)
    for employee in staff:
        assert employee.bsn not in text
        assert employee.birth_date.isoformat() not in text


def test_a_held_lists_reason_kept_as_a_message_is_read_in_the_language_asked(
    app: App, board: str, held: int
) -> None:
    reason = msg("A rejection needs a reason.")
    with transaction(app.sessions) as session:
        staff_list = session.get(StaffList, held)
        assert staff_list is not None
        staff_list.report = {**staff_list.report, "reason_text": reason.as_dict()}
    assert portal.held_list(app, board, held)["reason"] == "Een afwijzing heeft een reden nodig."
    assert portal.held_list(app, board, held, "en")["reason"] == "A rejection needs a reason."
    with pytest.raises(ValueError, match="language"):
        portal.held_list(app, board, held, "de")


def test_another_boards_held_list_is_not_found(
    app: App, board: str, held: int, tmp_path: Path
) -> None:
    add_board(app, "54321", "Stichting Ander", ["hr@ander.nl"])
    for call in (
        lambda: portal.held_list(app, "54321", held),
        lambda: portal.decide_held(app, "54321", held, confirm=True, reason="", who="hr@ander.nl"),
        lambda: portal.decide_held(app, "54321", held, confirm=False, reason="x", who="x"),
    ):
        with pytest.raises(NotFound, match=rf"there is no staff list {held}$"):
            call()
    with pytest.raises(NotFound, match=r"there is no staff list 999$"):
        portal.held_list(app, board, 999)
    assert portal.held_list(app, board, held)["status"] == "held"


def test_a_rejection_needs_a_reason_kept_on_the_list_and_in_the_audit(
    app: App, board: str, held: int
) -> None:
    with pytest.raises(InvalidInput):
        portal.decide_held(app, board, held, confirm=False, reason="  ", who="hr@testscholen.nl")
    decided = portal.decide_held(
        app, board, held, confirm=False, reason="Verkeerde export", who="hr@testscholen.nl"
    )
    assert decided["status"] == "discarded"
    with app.sessions() as session:
        staff_list = session.get(StaffList, held)
        assert staff_list is not None
        assert staff_list.report["decision_reason"] == "Verkeerde export"
        assert staff_list.decided_by == "hr@testscholen.nl"
    (event,) = audit_of(app, "staff_list.discarded")
    assert (event.actor, event.details["reason"]) == ("hr@testscholen.nl", "Verkeerde export")
    with pytest.raises(StateConflict):
        portal.decide_held(app, board, held, confirm=True, reason="", who="hr@testscholen.nl")


def test_a_confirmed_list_is_applied_by_the_next_reconcile(
    app: App, board: str, held: int, mock: MockAuthority
) -> None:
    decided = portal.decide_held(app, board, held, confirm=True, reason="", who="api-token:1")
    assert decided == {"id": held, "board": board, "status": "pending", "superseded_by": None}
    (event,) = audit_of(app, "staff_list.confirmed")
    assert event.actor == "api-token:1" and "reason" not in event.details
    reconcile(app, mock)
    assert portal.overview(app, board)["staff"] == 30


def test_recipients_are_added_and_removed_but_never_the_last(app: App, board: str) -> None:
    assert portal.add_recipient(app, board, "P&O@Testscholen.nl ", "hr@testscholen.nl") == [
        "hr@testscholen.nl",
        "P&O@testscholen.nl",
    ]
    assert portal.remove_recipient(app, board, "hr@testscholen.nl", "P&O@testscholen.nl") == [
        "P&O@testscholen.nl"
    ]
    with pytest.raises(StateConflict):
        portal.remove_recipient(app, board, "P&O@testscholen.nl", "P&O@testscholen.nl")
    with pytest.raises(NotFound):
        portal.remove_recipient(app, board, "nobody@testscholen.nl", "P&O@testscholen.nl")
    with pytest.raises(InvalidInput):
        portal.add_recipient(app, board, "not an address", "P&O@testscholen.nl")
    assert portal.recipients(app, board) == ["P&O@testscholen.nl"]
    added, removed = (
        audit_of(app, "board.recipient_added"),
        audit_of(app, "board.recipient_removed"),
    )
    assert [(e.actor, e.details["address"]) for e in added] == [
        ("hr@testscholen.nl", "P&O@testscholen.nl")
    ]
    assert [(e.actor, e.details["address"]) for e in removed] == [
        ("P&O@testscholen.nl", "hr@testscholen.nl")
    ]


def test_a_token_is_stored_as_its_digest_and_stops_working_when_revoked(
    app: App, board: str
) -> None:
    add_board(app, "54321", "Stichting Ander", ["hr@ander.nl"])
    token_id, token = portal.create_token(app, board, "AFAS koppeling", "operator")
    other_id, other = portal.create_token(app, "54321", "Script", "operator")
    with app.sessions() as session:
        stored = session.get(ApiToken, token_id)
        assert stored is not None and stored.digest == hashlib.sha256(token.encode()).digest()
        assert token.encode() not in stored.digest and stored.name == "AFAS koppeling"
    holder = portal.authenticate(app, token, ("GET", "/api/v1/boards/12345/staff"))
    assert holder is not None and (holder.token_id, holder.board) == (token_id, board)
    assert portal.authenticate(app, token + "x") is None
    assert portal.authenticate(app, "") is None
    (call,) = audit_of(app, "api.call")
    assert (call.actor, call.entity_id, call.details["path"]) == (
        f"api-token:{token_id}",
        str(token_id),
        "/api/v1/boards/12345/staff",
    )
    (view,) = portal.list_tokens(app, board)
    assert (view.id, view.name, view.active, view.last_used_at) == (
        token_id,
        "AFAS koppeling",
        True,
        app.now(),
    )
    assert token not in repr(view.as_dict())
    with pytest.raises(NotFound):
        portal.revoke_token(app, board, other_id, "operator")  # another board's token
    portal.revoke_token(app, board, token_id, "hr@testscholen.nl")
    assert portal.authenticate(app, token) is None
    assert portal.authenticate(app, other) is not None
    with pytest.raises(StateConflict):
        portal.revoke_token(app, board, token_id, "hr@testscholen.nl")
    (revoked,) = portal.list_tokens(app, board)
    assert not revoked.active and revoked.revoked_by == "hr@testscholen.nl"
    assert [e.entity_id for e in audit_of(app, "api_token.revoked")] == [str(token_id)]
    with pytest.raises(InvalidInput):
        portal.create_token(app, board, "two\nlines", "operator")


def test_the_staff_has_no_bsn_and_no_birth_date(
    app: App, board: str, mock: MockAuthority, tmp_path: Path
) -> None:
    staff = [dataclasses.replace(e, vog_date=dt.date(2025, 1, 2)) for e in fake_employees(5)]
    hand_in(app, board, staff, tmp_path)
    reconcile(app, mock)
    members = portal.current_staff(app, board)
    assert sorted(m["personeelsnummer"] for m in members) == sorted(
        e.personeelsnummer for e in staff
    )
    assert {m["screening"] for m in members} == {"active"}
    text = repr(members) + repr(portal.history(app, board))
    for employee in staff:
        assert employee.bsn not in text and employee.birth_date.isoformat() not in text
