"""Portal benchmark: every board hands in its list through the API while a worker runs.

::

    .venv/bin/python benchmarks/portal.py --persons 500000 --boards 1200 --json out.json
    .venv/bin/python benchmarks/portal.py --persons 100000 --boards 240 --start-postgres \\
        --json out-pg.json

On a fresh database (SQLite in a temporary directory, ``--database-url``, or a throw-away
PostgreSQL server with ``--start-postgres``) it starts ``vogscreen serve`` and
``vogscreen worker`` as two processes on that database, both on loopback, and measures:

* ``lists_per_s`` and ``rows_per_s``: the generated national data set (the files of
  ``benchmarks/generate.py``, one per board), each board's file posted to
  ``POST /api/v1/boards/{board}/staff-lists`` with that board's token, ``--clients`` at a
  time (16), while the worker applies what comes in (its reconcile runs every few seconds);
* ``latency_ms``: p50, p95 and p99 of those requests, and the slowest;
* ``worker``: how long after the last answer the worker had applied every list, and the
  lists by status then (all ``applied``);
* ``api_vs_cli``: one list of ``--single-rows`` rows (12,000) handed in through the API,
  against the same file through ``vogscreen staff upload`` (a process, as an operator runs
  it), each on a board of its own that has no list yet, median of ``--repeat``. The target
  is at most 1.3. ``api_vs_pipeline`` is the same against the pipeline call in this
  process (no process start, no printing): what the HTTP layer itself costs.

It prints a table and writes every figure to ``--json``. docs/performance.md has results.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from generate import generate
from national import ROOT, Databases, ensure_data, fresh_app, machine
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from stdnum.nl import bsn

from vogscreen.domain.statuses import StaffListStatus, UploadOutcome
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.tokens import create_token
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.logs import configure_logging
from vogscreen.store.models import StaffList

out = Console(highlight=False)
TARGET_API_VS_CLI = 1.3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(app: App) -> dict[str, str]:
    settings = app.settings
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOGSCREEN_")},
        "VOGSCREEN_VAR_DIR": str(settings.var_dir),
        "VOGSCREEN_DATABASE_URL": app.engine.url.render_as_string(hide_password=False),
        "VOGSCREEN_KEY_FILE": str(settings.key_file),
        "VOGSCREEN_ACTOR": "benchmark",
        "VOGSCREEN_LOG_LEVEL": "warning",
        "VOGSCREEN_LOG_FORMAT": "json",
    }


@contextmanager
def portal_and_worker(app: App, logs: Path) -> Any:
    """``vogscreen serve`` and ``vogscreen worker`` on the app's database; the portal's URL."""
    env = _environment(app)
    port = _free_port()
    worker_env = {
        **env,
        # The worker applies what comes in while the boards hand in their lists.
        "VOGSCREEN_SCHEDULE_RECONCILE": "interval: 5",
        "VOGSCREEN_SCHEDULE_DRAIN": "interval: 5",
        "VOGSCREEN_SCHEDULE_DROPFOLDER": "off",
    }
    vogscreen = str(Path(sys.executable).with_name("vogscreen"))
    with ExitStack() as stack:
        serve_log = stack.enter_context((logs / "serve.log").open("wb"))
        worker_log = stack.enter_context((logs / "worker.log").open("wb"))
        serve = subprocess.Popen(
            [vogscreen, "serve", "--port", str(port)], env=env, stdout=serve_log, stderr=serve_log
        )
        stack.callback(_stop, serve)
        worker = subprocess.Popen(
            [vogscreen, "worker"], env=worker_env, stdout=worker_log, stderr=worker_log
        )
        stack.callback(_stop, worker)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or serve.poll() is not None:
                raise SystemExit(f"the portal did not start; see {logs / 'serve.log'}")
            time.sleep(0.2)
        yield base


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _post(client: httpx.Client, base: str, board: str, token: str, path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with path.open("rb") as file:
        answer = client.post(
            f"{base}/api/v1/boards/{board}/staff-lists",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (path.name, file, "text/csv")},
        )
    seconds = time.perf_counter() - started
    if answer.status_code != 201:
        # What became of a list that was not simply accepted: in the result, by board.
        report = answer.json()
        OTHER_ANSWERS[board] = {
            "status": answer.status_code,
            "hold": report.get("hold"),
            "reason": report.get("reason"),
            "codes": sorted({problem.get("code") for problem in report.get("problems", [])}),
        }
    return seconds, answer.status_code


OTHER_ANSWERS: dict[str, dict[str, Any]] = {}


def hand_in_all(
    base: str, tokens: dict[str, str], files: dict[str, Path], clients: int
) -> dict[str, Any]:
    """Every board's file through the API, ``clients`` requests at a time."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    with httpx.Client(timeout=600, limits=limits) as client, ThreadPoolExecutor(clients) as pool:
        started = time.perf_counter()
        answers = list(
            pool.map(lambda b: _post(client, base, b, tokens[b], files[b]), sorted(files))
        )
        wall = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for seconds, _ in answers)
    statuses: dict[str, int] = {}
    for _, status in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "wall_s": wall,
        "statuses": statuses,
        "not_accepted": dict(OTHER_ANSWERS),
        "lists_per_s": len(answers) / wall,
        "latency_ms": {
            "p50": cuts[49],
            "p95": cuts[94],
            "p99": cuts[98],
            "max": latencies[-1],
        },
    }


@dataclass
class Taken:
    """What the national files already use: school codes, and BSNs (a single list's person
    with a BSN of the national set would meet another birth date, and be refused)."""

    schools: set[str] = field(default_factory=set)
    bsns: set[str] = field(default_factory=set)


def _taken(files: list[Path]) -> Taken:
    taken = Taken()
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter=";")
            header = next(reader)
            brin, bsn = header.index("brin"), header.index("bsn")
            for row in reader:
                taken.schools.add(row[brin][:4])
                taken.bsns.add(row[bsn])
    return taken


def _fresh_bsn(rng: random.Random, taken: set[str]) -> str:
    while True:
        candidate = f"{rng.randrange(10**8, 10**9):09d}"
        if candidate not in taken and bsn.is_valid(candidate):
            taken.add(candidate)
            return candidate


def _free_schools(used: set[str]) -> Iterator[str]:
    for digits in range(100):
        for first in string.ascii_uppercase:
            for second in string.ascii_uppercase:
                code = f"{digits:02d}{first}{second}"
                if code not in used:
                    yield code


def _single_files(data: Path, rows: int, count: int, taken: Taken) -> list[Path]:
    """``count`` lists of ``rows`` rows, each of persons no other list has and of schools no
    other list names (a list naming another board's school, or repeating its file, is
    held)."""
    codes = _free_schools(taken.schools)
    rng = random.Random(7)
    files = []
    for index in range(count):
        generate(rows, 1, data / str(index), seed=100 + index)
        (source,) = sorted((data / str(index) / "day0").glob("*.csv"))
        with source.open(encoding="utf-8", newline="") as handle:
            table = list(csv.reader(handle, delimiter=";"))
        column, number = table[0].index("brin"), table[0].index("bsn")
        renamed: dict[str, str] = {}
        for row in table[1:]:
            school = row[column][:4]
            if school not in renamed:
                renamed[school] = next(codes)
            row[column] = renamed[school] + row[column][4:]
            if row[number] in taken.bsns:
                row[number] = _fresh_bsn(rng, taken.bsns)
            taken.bsns.add(row[number])
        target = data / f"single-{index}.csv"
        with target.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(table)
        files.append(target)
    return files


WAYS = ("api", "cli", "pipeline")


def wait_for_the_worker(app: App, timeout: float) -> dict[str, Any]:
    """Until the worker (on the same database) has applied every list handed in: how long
    after the last answer that took, and the lists by status then."""
    started = time.perf_counter()
    while True:
        with app.engine.connect() as connection:
            statuses = dict(
                connection.execute(
                    select(StaffList.status, func.count()).group_by(StaffList.status)
                ).all()
            )
        waiting = statuses.get(StaffListStatus.PENDING, 0)
        if not waiting or time.perf_counter() - started > timeout:
            return {
                "applied_after_s": time.perf_counter() - started,
                "lists_by_status": {str(k): int(v) for k, v in statuses.items()},
            }
        time.sleep(1)


def single_list(
    app: App, base: str, data: Path, rows: int, repeat: int, taken: Taken
) -> dict[str, Any]:
    """One list of ``rows`` rows through the API, through ``vogscreen staff upload`` and
    through the pipeline, each on a fresh board with persons new to vogscreen (median of
    ``repeat``; the order of the three turns each round)."""
    files = iter(_single_files(data, rows, len(WAYS) * repeat, taken))
    env = _environment(app)
    vogscreen = str(Path(sys.executable).with_name("vogscreen"))
    timings: dict[str, list[float]] = {way: [] for way in WAYS}
    for round_ in range(repeat):
        for way in WAYS[round_ % 3 :] + WAYS[: round_ % 3]:
            path = next(files)
            number = f"9{round_ % 10}{WAYS.index(way)}00"
            add_board(app, number, f"Stichting {number}", [f"hr@{number}.example.nl"])
            if way == "api":
                _, token = create_token(app, number, "benchmark", "benchmark")
                with httpx.Client(timeout=600) as client:
                    seconds, status = _post(client, base, number, token, path)
                if status != 201:
                    raise SystemExit(
                        f"the API answered {status} for the {rows}-row list (board {number})"
                    )
                timings[way].append(seconds)
                continue
            started = time.perf_counter()
            if way == "cli":
                subprocess.run(
                    [vogscreen, "staff", "upload", number, str(path)],
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            else:
                report = upload(app, number, path)
                if report.status != UploadOutcome.ACCEPTED:
                    raise SystemExit(f"the {rows}-row list was {report.status}")
            timings[way].append(time.perf_counter() - started)
    medians = {way: statistics.median(values) for way, values in timings.items()}
    return {
        "rows": rows,
        "median_s": medians,
        "runs_s": timings,
        "api_vs_cli": medians["api"] / medians["cli"],
        "api_vs_pipeline": medians["api"] / medians["pipeline"],
    }


def run(args: argparse.Namespace, databases: Databases, tmp: Path) -> dict[str, Any]:
    manifest = ensure_data(args.persons, args.boards, args.seed, args.data or tmp / "data")
    data_dir = args.data or tmp / "data"
    files = {board: data_dir / "day0" / f"{board}.csv" for board in manifest.boards}
    app = fresh_app(databases.main(), tmp / "var", manifest.boards)
    try:
        tokens = {b: create_token(app, b, "benchmark", "benchmark")[1] for b in manifest.boards}
        logs = args.logs or tmp / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with portal_and_worker(app, logs) as base:
            national = hand_in_all(base, tokens, files, args.clients)
            national["rows_per_s"] = manifest.employments / national["wall_s"]
            national["worker"] = wait_for_the_worker(app, args.worker_timeout)
            taken = _taken(list(files.values()))
            single = single_list(app, base, tmp / "single", args.single_rows, args.repeat, taken)
    finally:
        app.close()
    return {"national": national, "single": single}


def report(result: dict[str, Any]) -> None:
    national, single = result["national"], result["single"]
    table = Table("figure", "value", "target")
    table.add_row("lists handed in", f"{sum(national['statuses'].values()):,}", "")
    table.add_row("answers", json.dumps(national["statuses"]), "all 201")
    table.add_row("throughput", f"{national['lists_per_s']:.1f} lists/s", "")
    table.add_row("", f"{national['rows_per_s']:,.0f} rows/s", "")
    worker = national["worker"]
    table.add_row(
        "worker, same database",
        f"every list applied {worker['applied_after_s']:.0f} s after the last answer",
        json.dumps(worker["lists_by_status"]),
    )
    for cut in ("p50", "p95", "p99", "max"):
        table.add_row(f"latency {cut}", f"{national['latency_ms'][cut]:,.0f} ms", "")
    medians = single["median_s"]
    table.add_row(
        f"{single['rows']:,}-row list",
        f"API {medians['api']:.2f} s, staff upload {medians['cli']:.2f} s, "
        f"pipeline {medians['pipeline']:.2f} s",
        "",
    )
    verdict = "PASS" if single["api_vs_cli"] <= TARGET_API_VS_CLI else "MISS"
    table.add_row("API / staff upload", f"{single['api_vs_cli']:.2f}", f"≤ 1.3 {verdict}")
    table.add_row("API / pipeline call", f"{single['api_vs_pipeline']:.2f}", "")
    out.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=500_000)
    parser.add_argument("--boards", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--single-rows", type=int, default=12_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--worker-timeout",
        type=float,
        default=1800,
        help="how long to wait for the worker to apply every list (seconds)",
    )
    parser.add_argument("--database-url", help="a fresh database (default: SQLite in a temp dir)")
    parser.add_argument("--start-postgres", action="store_true")
    parser.add_argument("--data", type=Path, help="keep the generated files here (reused)")
    parser.add_argument("--json", type=Path, required=True, metavar="PATH")
    parser.add_argument("--logs", type=Path, help="keep the portal's and worker's logs here")
    args = parser.parse_args(argv)
    configure_logging("warning", "console")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vogscreen-portal-")))
        url = args.database_url
        if args.start_postgres:
            sys.path.insert(0, str(ROOT))
            from tests.pg import create_database, postgres_server

            url = create_database(stack.enter_context(postgres_server()), "portal")
        databases = Databases(tmp, url)
        result = run(args, databases, tmp)
        result["params"] = {
            "persons": args.persons,
            "boards": args.boards,
            "clients": args.clients,
            "single_rows": args.single_rows,
            "repeat": args.repeat,
            "backend": databases.backend,
        }
        result["machine"] = machine(databases)
    report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
