"""Adversarial review of the board portal (issue 12): each test here FAILS on main and
names a finding of the review. They are reproductions, not fixes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from tests.api_helpers import PROBLEM, bearer, csv_file, portal_client
from tests.followup_helpers import BOARD_A, BOARD_B, raise_hit, two_boards_with_a_shared_teacher
from tests.integration.portal_helpers import csrf_of, log_in
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.boards import add_board, add_recipient, remove_recipient
from vogscreen.pipeline.hits import poll
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import fake_employees, staff_csv

V1 = "/api/v1/boards"


def test_a_dry_run_does_not_tell_another_board_whether_a_bsn_is_known_or_its_birth_date(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    """Finding: board B learns that a BSN employed only at board A is known to vogscreen
    (birth_date_mismatch), and recovers the birth date by trying dates in dry runs."""
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    target = staff_a[1]  # employed at A only
    auth_b = bearer(app, BOARD_B)
    with portal_client(app) as portal:

        def probe(birth: dt.date) -> set[str]:
            row = dataclasses.replace(target, birth_date=birth, brin="21QZ", personeelsnummer="Q1")
            answer = portal.post(
                f"{V1}/{BOARD_B}/staff-lists",
                headers=auth_b,
                files=csv_file([row]),
                data={"dry_run": "true"},
            )
            return {problem["code"] for problem in answer.json()["problems"]}

        wrong = probe(target.birth_date - dt.timedelta(days=1))
        right = probe(target.birth_date)
    # The two answers must not differ: otherwise the birth date is an oracle.
    assert wrong == right


def test_a_bsn_in_a_file_name_is_not_shown_by_the_history(app: App, board: str) -> None:
    """Finding: the upload report redacts a BSN in the file name, the history does not."""
    bsn = fake_employees(1, seed=5)[0].bsn
    auth = bearer(app, board)
    with portal_client(app) as portal:
        portal.post(
            f"{V1}/{board}/staff-lists",
            headers=auth,
            files=csv_file(fake_employees(3), name=f"lijst-{bsn}.csv"),
        )
        history = portal.get(f"{V1}/{board}/staff-lists", headers=auth).text
    assert bsn not in history


def test_a_body_whose_content_length_is_over_the_limit_gets_a_problem_document(
    app: App, board: str
) -> None:
    """Finding: the early 413 (Content-Length over the limit) is Starlette's plain text."""
    auth = bearer(app, board)
    with portal_client(app, max_upload_bytes=1000) as portal:
        answer = portal.post(
            f"{V1}/{board}/staff-lists",
            headers={**auth, "Content-Type": "multipart/form-data; boundary=x"},
            content=b"x" * 200_000,
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM


def test_an_id_too_large_for_the_database_is_404_not_500(app: App, board: str) -> None:
    auth = bearer(app, board)
    with portal_client(app, raise_server_exceptions=False) as portal:
        answer = portal.get(f"{V1}/{board}/staff-lists/99999999999999999999999", headers=auth)
    assert answer.status_code in (404, 422)


def test_a_new_vog_dated_in_the_future_is_refused(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)
    poll(app, mock)
    auth = bearer(app, BOARD_A)
    with portal_client(app) as portal:
        case = portal.get(f"{V1}/{BOARD_A}/cases", headers=auth).json()[0]["reference"]
        answer = portal.post(
            f"{V1}/{BOARD_A}/cases/{case}/resolve",
            headers=auth,
            json={"outcome": "new_vog", "vog_date": "2999-01-01"},
        )
    assert answer.status_code == 422


def test_a_case_note_with_control_characters_is_refused(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    """Token names refuse control characters; notes take NUL, ESC and CR/LF (a NUL is a
    500 on PostgreSQL)."""
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)
    poll(app, mock)
    auth = bearer(app, BOARD_A)
    with portal_client(app) as portal:
        case = portal.get(f"{V1}/{BOARD_A}/cases", headers=auth).json()[0]["reference"]
        answer = portal.post(
            f"{V1}/{BOARD_A}/cases/{case}/resolve",
            headers=auth,
            json={"outcome": "other", "note": "a\x00b\x1b[31m\r\nc"},
        )
    assert answer.status_code == 422


@pytest.mark.parametrize("name", ["..", " .. ", "C:\\x\\..", "é" * 200 + ".csv"])
def test_a_page_upload_with_an_odd_file_name_is_not_a_500(app: App, board: str, name: str) -> None:
    with portal_client(app, raise_server_exceptions=False) as portal:
        log_in(portal, app)
        token = csrf_of(portal.get(f"/besturen/{board}/aanleveren").text)
        answer = portal.post(
            f"/besturen/{board}/aanleveren",
            data={"csrf_token": token, "stap": "voorbeeld"},
            files={"bestand": (name, staff_csv(fake_employees(3)).encode(), "text/csv")},
        )
    assert answer.status_code != 500


def test_a_quote_in_the_file_name_does_not_add_parameters_to_content_disposition(
    app: App, board: str
) -> None:
    auth = bearer(app, board)
    rows = staff_csv(fake_employees(2)).encode() + b"123;x;y;;;;P9;06XY;;;;\r\n"
    name = "a\"; filename*=UTF-8''evil.html; x=\".csv"
    boundary = "BOUNDARY"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name.replace(chr(34), chr(92) + chr(34))}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + rows
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with portal_client(app) as portal:
        report = portal.post(
            f"{V1}/{board}/staff-lists",
            headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=body,
        ).json()
        assert report["status"] == "rejected"
        log_in(portal, app)
        answer = portal.get(f"/besturen/{board}/geschiedenis/{report['id']}/fouten.csv")
    disposition = answer.headers["content-disposition"]
    # One quoted name without a quote in it, and one RFC 6266 name: both end in .csv, so a
    # browser saves a CSV file whichever it reads.
    from urllib.parse import unquote

    plain = re.fullmatch(r'attachment; filename="([^"]*)"; filename\*=UTF-8\'\'(\S+)', disposition)
    assert plain, disposition
    assert plain.group(1).endswith(".csv")
    assert unquote(plain.group(2)).endswith(".csv")
    assert disposition.count("filename*=") == 1


def test_removing_an_address_ends_its_sessions_for_good(app: App, board: str) -> None:
    """Finding: a session of a removed address comes back when the address is added again."""
    add_recipient(app, board, "tijdelijk@testscholen.nl", "test")
    with portal_client(app) as portal:
        log_in(portal, app, "tijdelijk@testscholen.nl")
        assert portal.get(f"/besturen/{board}/", follow_redirects=False).status_code == 200
        remove_recipient(app, board, "tijdelijk@testscholen.nl", "test")
        assert portal.get(f"/besturen/{board}/", follow_redirects=False).status_code == 303
        add_recipient(app, board, "tijdelijk@testscholen.nl", "test")
        assert portal.get(f"/besturen/{board}/", follow_redirects=False).status_code == 303


def test_a_malformed_json_body_without_a_token_is_401(app: App, board: str) -> None:
    with portal_client(app) as portal:
        answer = portal.post(
            f"{V1}/{board}/cases/VS-1/resolve",
            content=b"{bad",
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 401


def test_pages_send_anti_framing_headers(app: App, board: str) -> None:
    with portal_client(app) as portal:
        log_in(portal, app)
        answer = portal.get(f"/besturen/{board}/")
    framing = answer.headers.get("x-frame-options") or answer.headers.get(
        "content-security-policy", ""
    )
    assert re.search(r"DENY|SAMEORIGIN|frame-ancestors", framing or "", re.I)


def test_an_unknown_page_url_is_a_dutch_page_not_json(app: App) -> None:
    other = add_board(app, "54321", "Stichting Andere Scholen", ["hr@anderescholen.nl"])
    with portal_client(app) as portal:
        answer = portal.get(f"/besturen/{other.number}/bestaat-niet")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
