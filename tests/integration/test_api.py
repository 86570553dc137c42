"""The API under /api/v1, as an HR system uses it: hand in lists, read them, decide held
lists, read staff and handle cases. Errors are Dutch problem documents."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api_helpers import PROBLEM, bearer, csv_file
from tests.followup_helpers import BOARD_A, BOARD_B, raise_hit, two_boards_with_a_shared_teacher
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent, StaffList
from vogscreen.testing import fake_employees, staff_csv
from vogscreen.web.app import create_app

STAFF = fake_employees(40)


def base(board: str) -> str:
    return f"/api/v1/boards/{board}"


def test_a_list_is_handed_in_previewed_unchanged_and_rejected_with_its_report(
    app: App, board: str, portal: TestClient, tmp_path: Path
) -> None:
    auth = bearer(app, board, "AFAS koppeling")
    preview = portal.post(
        f"{base(board)}/staff-lists",
        files=csv_file(STAFF),
        data={"dry_run": "true"},
        headers=auth,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["dry_run"] is True and preview.json()["counts"]["new"] == 40
    assert portal.get(f"{base(board)}/staff-lists", headers=auth).json() == []

    accepted = portal.post(f"{base(board)}/staff-lists", files=csv_file(STAFF), headers=auth)
    assert accepted.status_code == 201, accepted.text
    report = accepted.json()
    assert (report["status"], report["board"], report["file"]) == (
        "accepted",
        board,
        "personeel.csv",
    )
    again = portal.post(f"{base(board)}/staff-lists", files=csv_file(STAFF), headers=auth)
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")

    broken = dataclasses.replace(STAFF[3], bsn="123456789")
    rejected = portal.post(
        f"{base(board)}/staff-lists",
        files=csv_file([*STAFF[:3], broken], name="../../etc/fout.csv"),
        headers=auth,
    )
    assert rejected.status_code == 422
    problems = rejected.json()["problems"]
    assert rejected.json()["file"] == "fout.csv"
    assert [(p["code"], p["line"]) for p in problems] == [("bsn_invalid", 5)]
    assert problems[0]["column"] is not None and "123456789" not in rejected.text
    # The report is Dutch, as `staff upload` writes it by default, with how to fix it.
    assert rejected.json()["language"] == "nl" and problems[0]["hint"]
    english = tmp_path / "fout.csv"
    english.write_text(staff_csv([*STAFF[:3], broken]))
    in_english = upload(app, board, english, dry_run=True).as_dict("en")["problems"][0]
    assert problems[0]["message"] != in_english["message"]
    assert (problems[0]["code"], problems[0]["line"]) == (in_english["code"], in_english["line"])

    history = portal.get(f"{base(board)}/staff-lists", headers=auth).json()
    assert [item["status"] for item in history] == ["pending", "rejected"]
    token_id = int(history[0]["received_by"].removeprefix("api-token:"))
    assert {item["received_by"] for item in history} == {f"api-token:{token_id}"}
    one = portal.get(f"{base(board)}/staff-lists/{history[1]['id']}", headers=auth)
    assert one.status_code == 200 and one.json()["problems"][0]["code"] == "bsn_invalid"
    assert one.json()["language"] == "nl"
    assert one.json()["problems"][0]["message"] == problems[0]["message"]
    with app.sessions() as session:
        calls = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api.call").order_by(AuditEvent.id)
        ).all()
    assert len(calls) == 7
    assert {(c.actor, c.entity_id) for c in calls} == {(f"api-token:{token_id}", str(token_id))}
    assert [(c.details["method"], c.details["path"]) for c in calls[:2]] == [
        ("POST", f"{base(board)}/staff-lists"),
        ("GET", f"{base(board)}/staff-lists"),
    ]


def test_a_held_list_is_confirmed_or_rejected_with_a_reason(
    app: App, board: str, portal: TestClient, mock: MockAuthority
) -> None:
    auth = bearer(app, board)
    portal.post(f"{base(board)}/staff-lists", files=csv_file(STAFF), headers=auth)
    reconcile(app, mock)
    held = portal.post(f"{base(board)}/staff-lists", files=csv_file(STAFF[:30]), headers=auth)
    assert held.status_code == 202 and held.json()["hold"] == "removals"
    held_id = held.json()["id"]

    no_reason = portal.post(f"{base(board)}/staff-lists/{held_id}/reject", headers=auth)
    assert no_reason.status_code == 422
    assert no_reason.headers["content-type"] == PROBLEM
    blank = portal.post(
        f"{base(board)}/staff-lists/{held_id}/reject", json={"reason": "   "}, headers=auth
    )
    assert blank.status_code == 422 and blank.json()["title"] == "Ongeldige invoer"
    assert blank.json()["detail"] == "Een afwijzing heeft een reden nodig."

    rejected = portal.post(
        f"{base(board)}/staff-lists/{held_id}/reject",
        json={"reason": "Halve export"},
        headers=auth,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json() == {
        "id": held_id,
        "board": board,
        "status": "discarded",
        "superseded_by": None,
    }
    with app.sessions() as session:
        stored = session.get(StaffList, held_id)
        assert stored is not None and stored.report["decision_reason"] == "Halve export"
    twice = portal.post(f"{base(board)}/staff-lists/{held_id}/confirm", headers=auth)
    assert twice.status_code == 409 and twice.json()["status"] == 409

    again = portal.post(f"{base(board)}/staff-lists", files=csv_file(STAFF[:29]), headers=auth)
    assert again.status_code == 202
    confirmed = portal.post(
        f"{base(board)}/staff-lists/{again.json()['id']}/confirm",
        json={"reason": "Klopt: elf vertrokken"},
        headers=auth,
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "pending"
    reconcile(app, mock)
    staff = portal.get(f"{base(board)}/staff", headers=auth).json()
    assert len(staff) == 29


def test_the_staff_carries_no_bsn_and_no_birth_date(
    app: App, board: str, portal: TestClient, mock: MockAuthority
) -> None:
    auth = bearer(app, board)
    portal.post(f"{base(board)}/staff-lists", files=csv_file(STAFF), headers=auth)
    reconcile(app, mock)
    answer = portal.get(f"{base(board)}/staff", headers=auth)
    assert answer.status_code == 200
    assert {member["screening"] for member in answer.json()} == {"active"}
    for employee in STAFF:
        assert employee.bsn not in answer.text
        assert employee.birth_date.isoformat() not in answer.text
    overview = portal.get(base(board), headers=auth).json()
    assert (overview["staff"], overview["subscribed"], overview["refused"]) == (40, 40, 0)


@pytest.fixture
def cases_at_a(app: App, mock: MockAuthority, tmp_path: Path) -> tuple[str, str]:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)
    poll(app, mock)
    return bearer(app, BOARD_A)["Authorization"], bearer(app, BOARD_B)["Authorization"]


def test_a_case_is_resolved_with_outcome_vog_date_and_note(
    app: App, portal: TestClient, cases_at_a: tuple[str, str]
) -> None:
    auth_a = {"Authorization": cases_at_a[0]}
    (case,) = portal.get(f"{base(BOARD_A)}/cases?open=true", headers=auth_a).json()
    url = f"{base(BOARD_A)}/cases/{case['reference']}/resolve"
    no_date = portal.post(url, json={"outcome": "new_vog"}, headers=auth_a)
    assert no_date.status_code == 422 and no_date.json()["type"].endswith("invalid-input")
    raised = dt.date.fromisoformat(case["raised_at"][:10])
    early = portal.post(
        url,
        json={"outcome": "new_vog", "vog_date": (raised - dt.timedelta(days=1)).isoformat()},
        headers=auth_a,
    )
    assert early.status_code == 422
    wrong = portal.post(url, json={"outcome": "maybe", "vog_date": "gisteren"}, headers=auth_a)
    assert wrong.status_code == 422 and wrong.headers["content-type"] == PROBLEM
    assert {e["location"] for e in wrong.json()["errors"]} == {"body.outcome", "body.vog_date"}
    assert "gisteren" not in wrong.text and "maybe" not in wrong.text
    done = portal.post(
        url,
        json={"outcome": "new_vog", "vog_date": raised.isoformat(), "note": "VOG binnen"},
        headers=auth_a,
    )
    assert done.status_code == 200, done.text
    assert (done.json()["outcome"], done.json()["vog_date"], done.json()["note"]) == (
        "new_vog",
        raised.isoformat(),
        "VOG binnen",
    )
    assert done.json()["resolved_by"].startswith("api-token:")
    assert portal.get(f"{base(BOARD_A)}/cases?open=true", headers=auth_a).json() == []
    (closed,) = portal.get(f"{base(BOARD_A)}/cases", headers=auth_a).json()
    assert closed["status"] == "resolved"


def test_another_boards_case_is_not_found_even_through_ones_own_board(
    app: App, portal: TestClient, cases_at_a: tuple[str, str]
) -> None:
    auth_a, auth_b = {"Authorization": cases_at_a[0]}, {"Authorization": cases_at_a[1]}
    (theirs,) = portal.get(f"{base(BOARD_B)}/cases", headers=auth_b).json()
    through_a = portal.post(
        f"{base(BOARD_A)}/cases/{theirs['reference']}/resolve",
        json={"outcome": "other"},
        headers=auth_a,
    )
    missing = portal.post(
        f"{base(BOARD_A)}/cases/VS-11111-999999/resolve", json={"outcome": "other"}, headers=auth_a
    )
    assert through_a.status_code == missing.status_code == 404
    assert through_a.json() == missing.json()
    assert through_a.json()["title"] == "Niet gevonden"
    assert portal.get(f"{base(BOARD_B)}/cases?open=true", headers=auth_b).json() != []


def test_malformed_json_is_a_problem_document_without_a_traceback(
    app: App, board: str, portal: TestClient
) -> None:
    auth = bearer(app, board)
    answer = portal.post(
        f"{base(board)}/cases/VS-12345-000001/resolve",
        content=b'{"outcome": ',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    document = answer.json()
    assert {"type", "title", "status", "detail"} <= set(document)
    assert document["status"] == 422 and "Traceback" not in answer.text


def test_an_unexpected_error_is_a_500_problem_without_a_traceback(app: App) -> None:
    portal = create_app(app)

    def boom() -> None:
        raise RuntimeError("the details of this stay in the log")

    # An endpoint that fails as no real one should: the handler is what is tested.
    # (Under /api, not /api/v1: a v1 call without a token is answered 401 first.)
    portal.add_api_route("/api/boom", boom)
    with (
        TestClient(portal, raise_server_exceptions=False) as client,
        structlog.testing.capture_logs() as logs,
    ):
        answer = client.get("/api/boom")
    assert answer.status_code == 500 and answer.headers["content-type"] == PROBLEM
    assert answer.json()["title"] == "Interne fout"
    assert "details of this" not in answer.text and "Traceback" not in answer.text
    (failed,) = [entry for entry in logs if entry["event"] == "api.failed"]
    assert (failed["path"], failed["error"]) == ("/api/boom", "RuntimeError")


def test_the_openapi_document_describes_the_api_and_its_token(portal: TestClient) -> None:
    document = portal.get("/api/openapi.json").json()
    paths = document["paths"]
    assert "/api/v1/boards/{board}/staff-lists" in paths
    assert "/api/v1/boards/{board}/cases/{reference}/resolve" in paths
    assert document["components"]["securitySchemes"]["boardToken"]["scheme"] == "bearer"
    resolve = paths["/api/v1/boards/{board}/cases/{reference}/resolve"]["post"]
    assert set(resolve["responses"]) >= {"200", "401", "404", "422"}
    schemas = document["components"]["schemas"]
    assert "vog_date" in schemas["ResolveBody"]["properties"]
    fields = json.dumps(sorted(schemas["StaffMember"]["properties"])).lower()
    assert "bsn" not in fields and "birth" not in fields and "geboorte" not in fields
    assert portal.get("/api/docs").status_code == 200
