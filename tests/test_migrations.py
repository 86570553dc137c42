"""The schema comes only from Alembic, and the migrations match the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from vogscreen.database import current_revision, head_revision, make_engine

ROOT = Path(__file__).resolve().parent.parent


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
    from vogscreen.bootstrap import App

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
