"""No BSN in clear in the database, var/ or the logs; keys are guarded."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vogscreen.domain.errors import ConfigurationError
from vogscreen.runtime.crypto import load_vault
from vogscreen.runtime.settings import load_settings
from vogscreen.testing import fake_employees, staff_csv

VOGSCREEN = str(Path(sys.executable).parent / "vogscreen")


def vogscreen(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "VOGSCREEN_LOG_FORMAT": "json",
        "VOGSCREEN_LOG_LEVEL": "debug",
    }
    return subprocess.run(
        [VOGSCREEN, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_no_bsn_in_clear_in_the_database_var_or_logs_after_an_upload(tmp_path: Path) -> None:
    employees = fake_employees(40, seed=11)
    bad = fake_employees(3, seed=12)
    (tmp_path / "staff.csv").write_text(staff_csv(employees))
    # A rejected file too: its BSNs must not be kept either.
    (tmp_path / "bad.csv").write_text(staff_csv(bad).replace(bad[1].birth_date.isoformat(), "x"))
    logs = ""
    for args in (
        ("board", "add", "12345", "--name", "Stichting", "--notify", "hr@example.nl"),
        ("staff", "upload", "12345", "staff.csv", "--report-json", "report.json"),
        ("staff", "upload", "12345", "bad.csv", "--report-json", "bad.json"),
        ("staff", "show", "12345", "--csv", "var/export.csv"),
        ("status", "--json"),
    ):
        result = vogscreen(tmp_path, *args)
        logs += result.stdout + result.stderr
    assert "staff_list.accepted" in logs and "staff_list.rejected" in logs
    stored = b"".join(path.read_bytes() for path in (tmp_path / "var").rglob("*") if path.is_file())
    stored += (tmp_path / "report.json").read_bytes() + (tmp_path / "bad.json").read_bytes()
    assert b"SQLite format 3" in stored  # we really read the database file
    for employee in employees + bad:
        assert employee.bsn.encode() not in stored, "a BSN in clear was stored"
        assert employee.bsn not in logs, "a BSN in clear reached the output or logs"
        assert employee.birth_date.isoformat() not in logs


def test_the_embedded_key_file_is_created_with_mode_0600_on_first_use(tmp_path: Path) -> None:
    result = vogscreen(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "var" / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (tmp_path / "var" / "vogscreen.db").exists()  # the empty database was upgraded


def test_production_without_keys_is_a_clear_start_up_error() -> None:
    settings = load_settings(
        {"VOGSCREEN_DATABASE_URL": "postgresql://vogscreen@db.invalid/vogscreen"}
    )
    with pytest.raises(ConfigurationError, match="no BSN keys configured"):
        load_vault(settings)


def test_the_blind_index_is_stable_and_the_ciphertext_round_trips(tmp_path: Path) -> None:
    settings = load_settings({"VOGSCREEN_VAR_DIR": str(tmp_path)})
    vault = load_vault(settings)
    number = fake_employees(1)[0].bsn
    assert vault.blind_index(number) == load_vault(settings).blind_index(number)
    assert number not in vault.blind_index(number)
    ciphertext = vault.encrypt(number)
    assert number.encode() not in ciphertext
    assert vault.decrypt(ciphertext) == number
    assert vault.encrypt(number) != ciphertext  # a fresh nonce every time
