"""Reconciliation through the operator CLI, on the embedded mock authority."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from vogscreen.testing import fake_employees, staff_csv


def upload(run: Cli, tmp_path: Path, name: str, count: int) -> tuple[int, dict[str, object]]:
    path = tmp_path / name
    path.write_text(staff_csv(fake_employees(40)[:count]))
    report = tmp_path / (name + ".json")
    result = run(
        "staff", "upload", "23456", str(path), "--report-json", str(report), "--lang", "en"
    )
    return result.exit_code, json.loads(report.read_text())


def test_reconcile_subscribes_then_a_held_list_exits_3_until_confirmed(
    run: Cli, tmp_path: Path
) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    assert upload(run, tmp_path, "one.csv", 40)[0] == 0

    dry = run("reconcile", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "40 to subscribe" in dry.output
    assert json.loads(run("status", "--json").stdout)["subscriptions"]["pending"] == 0

    done = run("reconcile", "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["authority"]["subscribed"] == 40
    status = json.loads(run("status", "--json").stdout)
    assert status["subscriptions"] == {"active": 40, "pending": 0, "failed": 0, "ending": 0}

    code, report = upload(run, tmp_path, "two.csv", 20)
    assert code == 3
    assert report["status"] == "held"
    assert "20 of the board's 40" in str(report["reason"])
    assert run("reconcile").exit_code == 0  # a held list is simply not applied
    confirmed = run("staff", "confirm", str(report["id"]))
    assert confirmed.exit_code == 0, confirmed.output
    assert "20 unsubscribed" in confirmed.output
    assert json.loads(run("status", "--json").stdout)["subscriptions"]["active"] == 20


def test_a_held_list_can_be_rejected_and_a_second_decision_is_refused(
    run: Cli, tmp_path: Path
) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    upload(run, tmp_path, "one.csv", 40)
    run("reconcile")
    code, report = upload(run, tmp_path, "two.csv", 10)
    assert code == 3
    rejected = run("staff", "reject", str(report["id"]))
    assert rejected.exit_code == 0
    again = run("staff", "confirm", str(report["id"]))
    assert again.exit_code == 1
    assert "discarded, not held" in again.output


def test_validate_json_reports_no_drift_after_reconcile(run: Cli, tmp_path: Path) -> None:
    run("board", "add", "23456", "--name", "Zuid", "--notify", "hr@zuid.nl")
    upload(run, tmp_path, "one.csv", 12)
    run("reconcile")
    result = run("validate", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert {key: counts[key] for key in ("authority", "ours", "missing", "unknown")} == {
        "authority": 12,
        "ours": 12,
        "missing": 0,
        "unknown": 0,
    }


def test_reconcile_of_an_unknown_board_is_an_error(run: Cli) -> None:
    result = run("reconcile", "--board", "99999")
    assert result.exit_code == 1
    assert "there is no board 99999" in result.output
