"""``vogscreen hits``, ``vogscreen notify`` and ``vogscreen cases``."""

from __future__ import annotations

import datetime as dt
import json

import click
from rich.table import Table
from rich.text import Text

from vogscreen.cli.context import EXIT_FAILED, Context, err, out, pass_context, styled
from vogscreen.domain.statuses import NotificationStatus
from vogscreen.pipeline import followup as case_service
from vogscreen.pipeline.hits import list_hits, poll
from vogscreen.pipeline.notify import notify
from vogscreen.runtime.leases import running


@click.group()
def hits() -> None:
    """Hits (signals) from the screening authority."""


@hits.command("poll")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def hits_poll(context: Context, as_json: bool) -> None:
    """Fetch new hits from the stored cursor and route them to the boards."""
    with running(context.app, "hits") as run, context.app.authority() as authority:
        summary = poll(context.app, authority)
        if run is not None:
            run.counts.update(summary.as_dict())
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
        return
    out.print(
        f"{summary.new} new hit(s): {summary.routed} routed ({summary.cases} case(s) opened), "
        f"{summary.unrouted} unrouted."
    )
    if summary.unrouted:
        out.print("See `vogscreen hits list --unrouted`.")


@hits.command("list")
@click.option("--unrouted", is_flag=True, help="Only hits for persons nobody employs any more.")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def hits_list(context: Context, unrouted: bool, as_json: bool) -> None:
    """List received hits (never any detail: the authority sends none)."""
    rows = list_hits(context.app, unrouted=unrouted)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "authority hit", "raised", "received", "routed")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["authority_hit_id"],
            row["raised_at"][:16],
            row["received_at"][:16],
            "yes" if row["routed"] else Text("no", style="yellow"),
        )
    out.print(table if rows else "No hits.")


@click.command("notify")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def notify_command(context: Context, as_json: bool) -> None:
    """Send the queued notification emails to the boards' HR recipients."""
    with running(context.app, "notify") as run:
        summary = notify(context.app)
        if run is not None:
            run.counts.update(summary.as_dict())
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        out.print(
            f"{summary.sent} sent to {summary.destination}, {summary.failed} failed, "
            f"{summary.deferred} to try again later."
        )
        for message_id, error in summary.failures:
            err.print(styled("red", NotificationStatus.FAILED, f" {message_id}: {error}"))
    if summary.stopped:
        err.print(styled("red", "Stopped:", f" {summary.stopped}"))
        raise SystemExit(EXIT_FAILED)


@click.group()
def cases() -> None:
    """Follow-up cases: one per hit and board."""


@cases.command("list")
@click.option("--board", metavar="NUMBER")
@click.option("--open", "only_open", is_flag=True, help="Only open cases.")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def cases_list(context: Context, board: str | None, only_open: bool, as_json: bool) -> None:
    """List cases."""
    views = case_service.list_cases(context.app, board=board, only_open=only_open)
    if as_json:
        click.echo(json.dumps([view.as_dict() for view in views], indent=2))
        return
    if not views:
        out.print("No cases.")
        return
    table = Table("case", "board", "personeelsnummer", "name", "status", "deadline", "outcome")
    for view in views:
        table.add_row(
            view.reference,
            view.board,
            view.personeelsnummer or "",
            view.name,
            view.status,
            view.deadline.isoformat(),
            view.outcome or "",
        )
    out.print(table)


@cases.command("resolve")
@click.argument("reference", metavar="CASE")
@click.option("--outcome", type=click.Choice(case_service.OUTCOMES), required=True)
@click.option("--by", "who", help="Who resolved it (default: VOGSCREEN_ACTOR or $USER).")
@click.option(
    "--vog-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date of the new VOG (YYYY-MM-DD), on or after the hit.",
)
@click.option("--note", help="A note, kept on the case.")
@pass_context
def cases_resolve(
    context: Context,
    reference: str,
    outcome: str,
    who: str | None,
    vog_date: dt.datetime | None,
    note: str | None,
) -> None:
    """Resolve case CASE (its reference, e.g. VS-10001-000001)."""
    case = case_service.resolve(
        context.app,
        reference,
        outcome,
        who,
        vog_date=vog_date.date() if vog_date else None,
        note=note,
    )
    out.print(f"Resolved {case.reference}: {outcome}.")


@cases.command("remind")
@pass_context
def cases_remind(context: Context) -> None:
    """Queue reminders for cases open too long, then send them."""
    with running(context.app, "reminders") as run:
        queued = case_service.remind(context.app)
        if run is not None:
            run.counts["reminders"] = queued
    with running(context.app, "notify"):
        summary = notify(context.app)
    out.print(f"{queued} reminder(s) queued; {summary.sent} sent to {summary.destination}.")
