"""The schema comes only from Alembic, and the migrations match the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from vogscreen.store.database import current_revision, head_revision, make_engine

ROOT = Path(__file__).resolve().parents[2]


def alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env={"VOGSCREEN_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_upgrade_to_head_then_check_shows_no_drift_then_downgrade_to_base(
    database_url: str,
) -> None:
    upgraded = alembic(database_url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        assert "boards" in inspect(engine).get_table_names()
        checked = alembic(database_url, "check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "No new upgrade operations detected" in checked.stdout + checked.stderr
        downgraded = alembic(database_url, "downgrade", "base")
        assert downgraded.returncode == 0, downgraded.stderr
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_the_audit_table_refuses_updates_and_deletes(app: object) -> None:
    from vogscreen.runtime.bootstrap import App

    assert isinstance(app, App)
    with app.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit (at, actor, action, entity, details) "
                "VALUES (CURRENT_TIMESTAMP, 'x', 'y', 'z', '{}')"
            )
        )
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"), app.engine.begin() as connection:
            connection.execute(text(statement))


def test_0005_keeps_every_stored_list_whole_going_up_and_down(database_url: str) -> None:
    """Full copies per list become one chain of rows, and come back on downgrade."""
    assert alembic(database_url, "upgrade", "0004").returncode == 0
    engine = make_engine(database_url)
    now = "2026-01-01 00:00:00+00:00"
    # Board 1: lists 1 (applied, people 1-3), 2 (rejected, no rows), 3 (pending, people
    # 2-4 with person 3 changed). Board 2: list 4 (applied, person 1).
    lists = [(1, 1, "applied"), (2, 1, "rejected"), (3, 1, "pending"), (4, 2, "applied")]
    rows = [
        (1, 1, "a"),
        (1, 2, "a"),
        (1, 3, "a"),
        (3, 2, "a"),
        (3, 3, "b"),
        (3, 4, "a"),
        (4, 1, "a"),
    ]
    try:
        with engine.begin() as connection:
            for board in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO boards (id, number, name, recipients, "
                        "removal_threshold_percent, removal_threshold_count, followup_weeks, "
                        f"created_at) VALUES ({board}, '1000{board}', 'b', '[]', 10, 5, 6, '{now}')"
                    )
                )
            for person in range(1, 5):
                connection.execute(
                    text(
                        "INSERT INTO persons (id, bsn_index, bsn_cipher, birth_date, surname, "
                        f"created_at) VALUES ({person}, 'i{person}', :cipher, '1980-01-01', "
                        f"'s', '{now}')"
                    ),
                    {"cipher": b"x"},
                )
            for list_id, board, status in lists:
                connection.execute(
                    text(
                        "INSERT INTO staff_lists (id, board_id, sha256, filename, status, "
                        "row_count, counts, report, received_at, received_by) VALUES "
                        f"({list_id}, {board}, 'h', 'f', '{status}', 0, '{{}}', '{{}}', "
                        f"'{now}', 'x')"
                    )
                )
            for list_id, person, function in rows:
                connection.execute(
                    text(
                        "INSERT INTO staff_list_rows (staff_list_id, line, person_id, surname, "
                        f"function) VALUES ({list_id}, 2, {person}, 's', '{function}')"
                    )
                )

        def whole_lists(members: str) -> set[tuple[int, int, str]]:
            with engine.connect() as connection:
                return {
                    (int(a), int(b), str(c)) for a, b, c in connection.execute(text(members)).all()
                }

        full_copies = "SELECT staff_list_id, person_id, function FROM staff_list_rows"
        assert whole_lists(full_copies) == set(rows)

        upgraded = alembic(database_url, "upgrade", "head")
        assert upgraded.returncode == 0, upgraded.stderr
        chain = (
            "SELECT l.id, r.person_id, r.function FROM staff_lists l "
            "JOIN staff_list_rows r ON r.board_id = l.board_id AND r.staff_list_id <= l.id "
            "AND (r.removed_in_list_id IS NULL OR r.removed_in_list_id > l.id) "
            "WHERE l.status <> 'rejected'"
        )
        assert whole_lists(chain) == set(rows)

        downgraded = alembic(database_url, "downgrade", "0004")
        assert downgraded.returncode == 0, downgraded.stderr
        assert whole_lists(full_copies) == set(rows)
    finally:
        engine.dispose()


def test_0007_drops_the_mock_authoritys_empty_tables_and_keeps_what_a_mock_recorded(
    database_url: str,
) -> None:
    """Production never ran the in-process mock: its empty tables go. A demo's mock keeps
    its subscriptions, so its references still answer after the upgrade."""
    assert alembic(database_url, "upgrade", "0006").returncode == 0
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO mock_authority_subscriptions (ref, bsn_hash, birth_date, "
                    "active, created_at) VALUES ('ref-1', 'h', '1980-01-01', true, "
                    "'2026-01-01 00:00:00+00:00')"
                )
            )
        upgraded = alembic(database_url, "upgrade", "head")
        assert upgraded.returncode == 0, upgraded.stderr
        tables = set(inspect(engine).get_table_names())
        assert "mock_authority_subscriptions" in tables
        assert {"mock_authority_hits", "mock_authority_requests"}.isdisjoint(tables)
        with engine.connect() as connection:
            refs = connection.execute(text("SELECT ref FROM mock_authority_subscriptions"))
            assert [ref for (ref,) in refs] == ["ref-1"]
        checked = alembic(database_url, "check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        engine.dispose()
