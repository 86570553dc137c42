"""``vogscreen worker``, ``vogscreen run JOB`` and ``vogscreen runs``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import click
from rich.table import Table

from vogscreen.cli.context import Context, out, pass_context
from vogscreen.jobs import JOBS
from vogscreen.pipeline.boards import check_board_number
from vogscreen.runtime.leases import ALL_BOARDS, list_runs, running
from vogscreen.runtime.schedule import JobSpec
from vogscreen.store.boards import board_numbers


def job_registry() -> Mapping[str, JobSpec]:
    return JOBS


@click.command("worker")
@pass_context
def worker(context: Context) -> None:
    """Run every job on its schedule until SIGTERM (any number of workers may run).

    Schedules: VOGSCREEN_SCHEDULE_<JOB>="cron: 0 2 * * *" | "interval: 60" | "off".
    """
    from vogscreen.runtime.worker import run_worker

    jobs = job_registry()
    out.print(
        f"Worker started with {len(jobs)} jobs; logs go to stderr. SIGTERM or Ctrl+C stops it."
    )
    raise SystemExit(run_worker(context.app, jobs))


@click.command("run")
@click.argument("job")
@click.option("--board", metavar="NUMBER", help="For per-board jobs: only this board.")
@pass_context
def run_job(context: Context, job: str, board: str | None) -> None:
    """Run JOB once by hand, as the worker would, under the same lease.

    Exits 4 when a run of it (for that board) is already going.
    """
    jobs = job_registry()
    spec = jobs.get(job)
    if spec is None:
        raise click.UsageError(f"unknown job {job!r}; jobs: {', '.join(jobs)}")
    app = context.app
    if board is not None and not spec.per_board:
        raise click.UsageError(f"{job} is not a per-board job")
    if spec.per_board:
        with app.sessions() as session:
            boards = [check_board_number(board)] if board else board_numbers(session)
        targets = [*boards, *([] if board else [ALL_BOARDS])]
    else:
        targets = [ALL_BOARDS]
    for target in targets:
        with running(app, job, target, lease_seconds=app.settings.lease_seconds) as run:
            assert run is not None
            spec.run(app, run)
            shown = "all boards" if target == ALL_BOARDS else f"board {target}"
            out.print(f"{job} for {shown}: run {run.id}, {json.dumps(run.counts, default=str)}")


@click.command("runs")
@click.option("--board", metavar="NUMBER")
@click.option("--failed", is_flag=True, help="Only runs that failed.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_context
def runs(context: Context, board: str | None, failed: bool, limit: int, as_json: bool) -> None:
    """The history of job runs: job, board, start, end, outcome, counts and error."""
    rows = list_runs(context.app, board=board, failed=failed, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        out.print("No runs.")
        return
    table = Table(*_RUN_COLUMNS)
    for row in rows:
        table.add_row(*(show(row) for show in _RUN_COLUMNS.values()))
    out.print(table)


# The table of runs: each column's header, and how a run shows in it.
_RUN_COLUMNS: dict[str, Callable[[dict[str, Any]], str]] = {
    "run": lambda row: str(row["id"]),
    "job": lambda row: str(row["job"]),
    "board": lambda row: str(row["board"]),
    "slot": lambda row: str(row["slot"][:20]),
    "started": lambda row: str(row["started_at"][:19]),
    "ended": lambda row: str((row["finished_at"] or "")[:19]),
    "outcome": lambda row: str(row["outcome"]),
    "counts": lambda row: ", ".join(f"{k}={v}" for k, v in row["counts"].items() if v),
    "error": lambda row: str(row["error"] or ""),
}
