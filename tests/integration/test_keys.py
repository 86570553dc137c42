"""The database knows its BSN keys: a lost or swapped key is refused, never replaced.

Before, ``rm var/keys.json`` made the next command create new keys without a word; the
same staff list then showed everyone as new and everyone as leaving.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import BACKEND
from vogscreen.cli.main import cli
from vogscreen.domain.errors import ConfigurationError
from vogscreen.runtime.bootstrap import App, bootstrap
from vogscreen.runtime.crypto import create_key_file
from vogscreen.runtime.settings import load_settings
from vogscreen.store.models import KeyCheck, Person
from vogscreen.testing import fake_employees, staff_csv

VOGSCREEN = str(Path(sys.executable).parent / "vogscreen")


def vogscreen(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "VOGSCREEN_LOG_FORMAT": "json", **extra}
    return subprocess.run(
        [VOGSCREEN, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def embedded_installation_with_staff(cwd: Path) -> None:
    (cwd / "staff.csv").write_text(staff_csv(fake_employees(12, seed=5)))
    for args in (
        ("board", "add", "12345", "--name", "Stichting", "--notify", "hr@example.nl"),
        ("staff", "upload", "12345", "staff.csv"),
        ("reconcile",),
    ):
        result = vogscreen(cwd, *args)
        assert result.returncode == 0, result.stderr


def test_a_lost_key_file_stops_every_command_and_is_never_created_again(tmp_path: Path) -> None:
    embedded_installation_with_staff(tmp_path)
    (tmp_path / "var" / "keys.json").unlink()

    for args in (("status",), ("staff", "upload", "12345", "staff.csv"), ("reconcile",)):
        result = vogscreen(tmp_path, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "key file" in result.stderr and "restore" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "keys.json").exists()


def test_a_swapped_key_file_is_refused_and_the_right_one_works_again(tmp_path: Path) -> None:
    embedded_installation_with_staff(tmp_path)
    key_file = tmp_path / "var" / "keys.json"
    original = key_file.read_text()
    key_file.unlink()
    create_key_file(key_file)  # someone "fixed" it with fresh keys

    upload = vogscreen(tmp_path, "staff", "upload", "12345", "staff.csv")
    assert upload.returncode == 2
    assert "do not match this database" in upload.stderr
    key_file.write_text(original)
    again = vogscreen(tmp_path, "staff", "upload", "12345", "staff.csv", "--lang", "en")
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout.lower()  # the same people, not 12 new and 12 leaving


def test_other_keys_in_the_environment_are_refused_on_any_database(
    app: App, env: dict[str, str], tmp_path: Path
) -> None:
    first = bootstrap(load_settings(env))  # the migrated test database: its keys are kept
    first.close()
    other = tmp_path / "other-keys.json"
    create_key_file(other)
    keys = json.loads(other.read_text())
    swapped = {
        **{k: v for k, v in env.items() if k != "VOGSCREEN_KEY_FILE"},
        "VOGSCREEN_BSN_HMAC_KEY": keys["hmac"],
        "VOGSCREEN_BSN_ENCRYPTION_KEY": keys["aes"],
    }
    with pytest.raises(ConfigurationError, match="do not match this database"):
        bootstrap(load_settings(swapped))
    result = CliRunner().invoke(cli, ["status"], env=swapped)
    assert result.exit_code == 2


def test_a_new_database_remembers_its_keys_and_an_empty_one_gets_a_key_file(
    tmp_path: Path,
) -> None:
    result = vogscreen(tmp_path, "status")
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "var" / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    app = bootstrap(load_settings({"VOGSCREEN_VAR_DIR": str(tmp_path / "var")}))
    try:
        with app.sessions() as session:
            assert set(session.scalars(select(KeyCheck.name))) == {"bsn_hmac", "bsn_aes"}
            assert session.scalar(select(func.count()).select_from(Person)) == 0
    finally:
        app.close()
    # Still empty: a lost key file may be made anew, nothing was encrypted under it.
    key_file.unlink()
    with_new_keys = vogscreen(tmp_path, "status")
    assert with_new_keys.returncode == 2  # but the database remembers the first keys


def test_keys_generate_prints_a_pair_that_starts_a_new_database(tmp_path: Path) -> None:
    printed = vogscreen(tmp_path, "keys", "generate")
    assert printed.returncode == 0, printed.stderr
    pairs = dict(line.split("=", 1) for line in printed.stdout.split())
    assert set(pairs) == {"VOGSCREEN_BSN_HMAC_KEY", "VOGSCREEN_BSN_ENCRYPTION_KEY"}
    started = vogscreen(tmp_path, "status", **pairs)
    assert started.returncode == 0, started.stderr

    written = vogscreen(tmp_path, "keys", "generate", "--key-file", "k.json")
    assert written.returncode == 0
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600
    before = (tmp_path / "k.json").read_text()
    again = vogscreen(tmp_path, "keys", "generate", "--key-file", "k.json")
    assert again.returncode == 2
    assert (tmp_path / "k.json").read_text() == before


@pytest.mark.skipif(BACKEND != "sqlite", reason="a SQLite file lock")
def test_a_locked_sqlite_database_is_a_one_line_busy_error(tmp_path: Path) -> None:
    embedded_installation_with_staff(tmp_path)
    import sqlite3

    (tmp_path / "more.csv").write_text(staff_csv(fake_employees(13, seed=5)))
    holder = sqlite3.connect(tmp_path / "var" / "vogscreen.db", timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = vogscreen(
            tmp_path,
            *("staff", "upload", "12345", "more.csv"),
            VOGSCREEN_DATABASE_URL="sqlite:///var/vogscreen.db?timeout=0.2",
        )
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 4, result.stderr
    assert "locked" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_postgresql_is_one_line_naming_host_and_port(tmp_path: Path) -> None:
    url = "postgresql://vogscreen@127.0.0.1:9/vogscreen"  # the discard port: nobody listens
    for args in (("status",), ("db", "upgrade")):
        result = vogscreen(tmp_path, *args, VOGSCREEN_DATABASE_URL=url)
        assert result.returncode == 2, result.stderr
        assert "127.0.0.1:9" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "url",
    ["not-a-url", "mysql://vogscreen:s3cret@db.invalid/vogscreen", "sqlite:///var"],
)
def test_a_database_url_vogscreen_cannot_use_is_one_line_and_exit_2(
    tmp_path: Path, url: str
) -> None:
    (tmp_path / "var").mkdir()  # sqlite:///var is a folder, not a database file
    result = vogscreen(tmp_path, "status", VOGSCREEN_DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
