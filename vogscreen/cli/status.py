"""``vogscreen status``: every board at a glance."""

from __future__ import annotations

import json

import click
from rich.table import Table

from vogscreen.cli.main import Context, out, pass_context
from vogscreen.status import status as collect


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def status(context: Context, as_json: bool) -> None:
    """Show the status of every board."""
    report = collect(context.app)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if not report["boards"]:
        out.print("No boards yet.")
        return
    table = Table("board", "name", "staff", "staff list")
    for board in report["boards"]:
        staff_list = board["staff_list"]
        table.add_row(
            board["number"],
            board["name"],
            str(board["staff"]),
            "none" if staff_list is None else f"{staff_list['id']} ({staff_list['status']})",
        )
    out.print(table)
    subscriptions = report["subscriptions"]
    out.print(
        f"Subscriptions: {subscriptions['active']} active, {subscriptions['pending']} pending, "
        f"{subscriptions['ending']} ending, {subscriptions['failed']} refused by the authority. "
        f"Authority outbox: {report['authority_outbox']['pending']} queued."
    )
    out.print(
        f"Cases: {report['cases']['open']} open, {report['cases']['overdue']} overdue. "
        f"Unrouted hits: {report['hits']['unrouted']}. Notifications: "
        f"{report['notifications']['pending']} pending, {report['notifications']['failed']} failed."
    )
