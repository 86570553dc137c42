"""``vogscreen reconcile`` and ``vogscreen validate``."""

from __future__ import annotations

import json

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vogscreen.cli.context import EXIT_FAILED, EXIT_HELD, Context, err, out, pass_context, styled
from vogscreen.domain.plan import BoardDiff
from vogscreen.pipeline import reconcile as reconciliation
from vogscreen.pipeline.authority_check import validate
from vogscreen.pipeline.authority_sync import count_due
from vogscreen.pipeline.reconcile import ReconcileSummary
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.leases import ALL_BOARDS, board_lease, running, worker_name
from vogscreen.store.employments import workplaces

# The counts of a board's apply, in the order of its table's columns.
_COUNTS = tuple(BoardDiff().counts())


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@click.command("reconcile")
@click.option("--board", "board", metavar="NUMBER", help="Only this board's staff lists.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing, send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def reconcile_command(context: Context, board: str | None, dry_run: bool, as_json: bool) -> None:
    """Apply pending staff lists, then send the queued operations to the authority.

    Exit codes: 0 done, 1 the authority could not be reached (operations stay queued for
    the next run) or is misconfigured, 3 a staff list was held by the removal guard.
    """
    app = context.app
    if dry_run:
        summary = reconciliation.run(app, None, board=board, dry_run=True)
    else:
        with (
            running(app, "reconcile", board or ALL_BOARDS) as run,
            app.authority() as authority,
            _progress() as progress,
        ):
            assert run is not None
            task = progress.add_task("Sending to the authority", total=None)

            def advance(count: int) -> None:
                if progress.tasks[task].total is None:
                    progress.update(task, total=count_due(app) + count)
                progress.advance(task, count)

            holder = f"{worker_name()}/run-{run.id}"
            summary = reconciliation.run(
                app,
                authority,
                board=board,
                progress=advance,
                guard=None if board else (lambda number: board_lease(app, number, holder)),
            )
            run.counts.update(summary.as_dict()["authority"])
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        _print_summary(app, summary)
    if summary.apply.held:
        raise SystemExit(EXIT_HELD)
    if summary.drain.stopped:
        raise SystemExit(EXIT_FAILED)


def _print_summary(app: App, summary: ReconcileSummary) -> None:
    title = "Plan (dry run: nothing written, nothing sent)" if summary.dry_run else "Reconciled"
    out.print(styled("bold", title))
    _print_boards(summary)
    for result in summary.apply.boards:
        for staff_list in result.superseded:
            out.print(
                styled(
                    "yellow",
                    f"Staff list {staff_list} of board {result.board} is superseded",
                    f" by staff list {result.superseded_by}: it was never applied.",
                )
            )
    for result in summary.apply.held:
        out.print(
            styled(
                "yellow",
                "Held",
                f" staff list {result.staff_list} of board {result.board}: "
                f"{result.reason}. `vogscreen staff confirm {result.staff_list}` applies it, "
                f"`vogscreen staff reject {result.staff_list}` discards it.",
            )
        )
    if summary.apply.lapsed:
        out.print(f"{summary.apply.lapsed} employment(s) ended because datum_uit_dienst passed.")
    changes = summary.apply.subscriptions
    out.print(
        f"Subscriptions: {changes.subscribe} to subscribe, {changes.unsubscribe} to unsubscribe"
        + (f", {changes.cancelled} cancelled before sending" if changes.cancelled else "")
        + "."
    )
    if summary.dry_run:
        return
    drained = summary.drain
    out.print(
        f"Authority: {drained.subscribed} subscribed, {drained.unsubscribed} unsubscribed, "
        f"{drained.rejected} refused, {drained.deferred} left queued."
    )
    if drained.rejections:
        _print_rejections(app, drained.rejections)
    if drained.stopped:
        err.print(
            styled(
                "red", "Stopped:", f" {drained.stopped}. Queued operations are retried next run."
            )
        )


def _print_boards(summary: ReconcileSummary) -> None:
    if not summary.apply.boards:
        out.print("No pending staff lists.")
        return
    table = Table("board", "staff list", "outcome", *_COUNTS)
    for result in summary.apply.boards:
        counts = result.counts
        table.add_row(
            result.board,
            str(result.staff_list),
            result.outcome,
            *(str(counts.get(key, "")) for key in _COUNTS),
        )
    out.print(table)


def _print_rejections(app: App, rejections: list[tuple[int, str]]) -> None:
    people = {person_id for person_id, _ in rejections}
    with app.sessions() as session:
        where = workplaces(session, people)
    table = Table("board", "personeelsnummer", "refused because", title="Refused by the authority")
    for person_id, code in rejections:
        row = where.get(person_id)
        table.add_row(row.board if row else "?", (row.personeelsnummer or "") if row else "", code)
    out.print(table)
    out.print("Ask the board to check these persons' BSN and birth date.")


@click.command("validate")
@click.option("--repair", is_flag=True, help="Re-subscribe the missing, cancel the unknown.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_context
def validate_command(context: Context, repair: bool, as_json: bool) -> None:
    """Compare our subscriptions with the authority's list (and repair the drift)."""
    app = context.app
    with (
        running(app, "validate") as run,
        app.authority() as authority,
        err.status("Reading the authority's subscriptions …"),
    ):
        report = validate(app, authority, repair=repair)
        if run is not None:
            run.counts.update(report.as_dict())
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    out.print(
        f"Authority holds {report.authority}, we hold {report.ours} active: "
        f"{report.missing} missing at the authority, {report.unknown} unknown to us."
    )
    if repair:
        out.print(f"Repaired: {report.resubscribed} re-subscribed, {report.cancelled} cancelled.")
    elif report.missing or report.unknown:
        out.print("Run `vogscreen validate --repair` to fix the drift.")
