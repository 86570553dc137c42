"""The national benchmark keeps working: a small run reports every figure, all of them sane.

The benchmark runs as its own process, as an operator runs it, on this test's database
(SQLite, or PostgreSQL with ``VOGSCREEN_TEST_DB=postgresql``). Its network traffic stays
on 127.0.0.1 (the mock authority server).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMES = ("floor_s", "intake_s", "reconcile_s", "noop_s", "churn_s")
KEYS = (*TIMES, "http_subscribe_per_s", "notify_per_s", "peak_rss_mb", "naive_ratio")


@pytest.mark.slow
def test_a_small_national_benchmark_reports_every_figure(tmp_path: Path, database_url: str) -> None:
    report = tmp_path / "national.json"
    completed = subprocess.run(
        [
            *(sys.executable, str(ROOT / "benchmarks" / "national.py")),
            *("--persons", "3000", "--boards", "20", "--repeat", "1"),
            *("--notify-messages", "200", "--http-persons", "3000"),
            *("--database-url", database_url, "--json", str(report)),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    result = json.loads(report.read_text())
    details = result["details"]
    assert set(KEYS) <= set(result)
    for key in TIMES:
        assert 0 < result[key] < 60, key
    assert result["http_subscribe_per_s"] > 0
    assert result["notify_per_s"] > 0
    assert details["notify"]["messages"] >= 200
    assert 0 < result["peak_rss_mb"] < 4096
    assert result["naive_ratio"] > 1, "the per-row ORM loop should not beat the bulk path"
    assert result["params"]["backend"] == ("sqlite" if "sqlite" in database_url else "postgresql")

    first_load = details["first_load"]
    assert first_load["persons"] == 3000
    assert first_load["active_subscriptions"] == 3000
    assert first_load["current_employments"] == details["dataset"]["employments"]
    writes = details["first_load_writes"]
    assert writes["rows"]["persons"] == 3000
    assert writes["rows"]["employments"] == first_load["current_employments"]
    assert 0 < writes["seconds"] < result["intake_s"] + result["reconcile_s"]
    churn = details["churn_day"]
    assert churn["new"] == details["dataset"]["churn"]["joiners"]
    assert churn["active_subscriptions"] > 3000 - details["dataset"]["churn"]["leavers"]
    for check in result["targets"].values():
        assert check["pass"] in (True, False, None)
    assert "vogscreen national benchmark" in completed.stdout


def test_the_generated_lists_name_only_schools_of_their_own_board(tmp_path: Path) -> None:
    # At 100k the generator once drew random school codes that two boards shared, and moved
    # churned rows to any code at all; the churn day's lists were then held as another
    # board's file (intake's other_board check) and the benchmark stopped.
    completed = subprocess.run(
        [
            *(sys.executable, str(ROOT / "benchmarks" / "generate.py")),
            *("--persons", "40000", "--boards", "120", "--out", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    owner: dict[str, str] = {}
    for day in ("day0", "day1"):
        for path in sorted((tmp_path / day).glob("*.csv")):
            lines = path.read_text(encoding="utf-8").splitlines()
            column = lines[0].split(";").index("brin")
            for line in lines[1:]:
                school = line.split(";")[column][:4]
                assert owner.setdefault(school, path.stem) == path.stem, (day, school)
