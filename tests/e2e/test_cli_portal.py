"""``vogscreen board token create/list/revoke`` and ``cases resolve --vog-date --note``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.followup_helpers import BOARD_A, raise_hit, two_boards_with_a_shared_teacher
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.followup import list_cases
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.tokens import authenticate
from vogscreen.runtime.bootstrap import App


def test_a_token_is_created_once_listed_without_itself_and_revoked(
    run: Cli, app: App, board: str
) -> None:
    created = run("board", "token", "create", board, "--name", "AFAS koppeling", "--json")
    assert created.exit_code == 0, created.output
    made = json.loads(created.stdout)
    assert set(made) == {"token", "id"} and made["token"].startswith("vgs_")
    holder = authenticate(app, made["token"])
    assert holder is not None and holder.token_id == made["id"] and holder.board == board

    plain = run("board", "token", "create", board, "--name", "Script")
    assert plain.exit_code == 0 and "not shown again" in plain.stdout
    second = plain.stdout.strip().splitlines()[-1]
    assert authenticate(app, second) is not None

    listed = run("board", "token", "list", board)
    assert listed.exit_code == 0
    assert "AFAS koppeling" in listed.stdout and "Script" in listed.stdout
    assert made["token"] not in listed.stdout and second not in listed.stdout
    as_json = json.loads(run("board", "token", "list", board, "--json").stdout)
    assert [token["name"] for token in as_json] == ["AFAS koppeling", "Script"]
    assert made["token"] not in json.dumps(as_json)

    revoked = run("board", "token", "revoke", board, str(made["id"]))
    assert revoked.exit_code == 0, revoked.output
    assert authenticate(app, made["token"]) is None
    assert authenticate(app, second) is not None
    again = run("board", "token", "revoke", board, str(made["id"]))
    assert again.exit_code != 0 and "already revoked" in again.output
    after = json.loads(run("board", "token", "list", board, "--json").stdout)
    assert after[0]["revoked_by"] == "test-operator" and after[1]["revoked_at"] is None


def test_a_token_of_another_board_cannot_be_revoked_and_a_name_is_required(
    run: Cli, board: str
) -> None:
    run("board", "add", "54321", "--name", "Ander", "--notify", "hr@ander.nl")
    other = json.loads(run("board", "token", "create", "54321", "--name", "X", "--json").stdout)
    refused = run("board", "token", "revoke", board, str(other["id"]))
    assert refused.exit_code == 1 and f"has no token {other['id']}" in refused.output
    blank = run("board", "token", "create", board, "--name", "  ")
    assert blank.exit_code == 2 and "needs a name" in blank.output
    unknown = run("board", "token", "create", "99999", "--name", "X")
    assert unknown.exit_code == 1 and "there is no board 99999" in unknown.output


def test_a_case_is_resolved_with_the_date_of_the_new_vog_and_a_note(
    run: Cli, app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[3].personeelsnummer)
    poll(app, mock)
    (case,) = list_cases(app, board=BOARD_A, only_open=True)
    assert case.raised_at is not None
    day = case.raised_at.date()
    early = run(
        "cases", "resolve", case.reference, "--outcome", "new_vog", "--vog-date", "2020-01-01"
    )
    assert early.exit_code == 2 and "before the hit" in early.output
    done = run(
        "cases",
        "resolve",
        case.reference,
        "--outcome",
        "new_vog",
        "--vog-date",
        day.isoformat(),
        "--note",
        "VOG per post",
    )
    assert done.exit_code == 0, done.output
    (shown,) = json.loads(run("cases", "list", "--board", BOARD_A, "--json").stdout)
    assert (shown["status"], shown["vog_date"], shown["note"]) == (
        "resolved",
        day.isoformat(),
        "VOG per post",
    )
