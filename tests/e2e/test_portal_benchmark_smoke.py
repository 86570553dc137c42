"""The portal benchmark keeps working: a small run, every list through the API with a
worker on the same database, reports every figure, all of them sane.

It starts ``vogscreen serve`` and ``vogscreen worker`` as processes, on 127.0.0.1 only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_small_portal_benchmark_hands_in_every_list_and_the_worker_applies_them(
    tmp_path: Path, database_url: str
) -> None:
    report = tmp_path / "portal.json"
    completed = subprocess.run(
        [
            *(sys.executable, str(ROOT / "benchmarks" / "portal.py")),
            *("--persons", "1500", "--boards", "12", "--clients", "4"),
            *("--single-rows", "300", "--repeat", "1", "--worker-timeout", "120"),
            *("--database-url", database_url, "--json", str(report)),
            *("--logs", str(tmp_path / "logs")),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    logs = "".join(
        f"\n--- {path.name}\n" + path.read_text()[-2000:]
        for path in sorted((tmp_path / "logs").glob("*.log"))
    )
    assert completed.returncode == 0, completed.stderr[-3000:] + logs
    result = json.loads(report.read_text())
    national, single = result["national"], result["single"]
    assert national["statuses"] == {"201": 12}
    assert national["lists_per_s"] > 0 and national["rows_per_s"] > 0
    latency = national["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert national["worker"]["lists_by_status"] == {"applied": 12}
    assert set(single["median_s"]) == {"api", "cli", "pipeline"}
    assert single["api_vs_cli"] > 0 and single["api_vs_pipeline"] > 0
