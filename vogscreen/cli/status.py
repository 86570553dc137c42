"""``vogscreen status``: every board at a glance, and whether all is well."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from vogscreen.cli.context import Context, out, pass_context, styled
from vogscreen.domain.statuses import (
    CaseStatus,
    NotificationStatus,
    OutboxStatus,
    SubscriptionStatus,
)
from vogscreen.pipeline.status import status as collect


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def status(context: Context, as_json: bool) -> None:
    """Show every board: staff, subscriptions, queued operations, cases and the last run."""
    report = collect(context.app)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    print_status(report)


def print_status(report: dict[str, Any]) -> None:
    """The status report as the operator sees it; shared with the demo."""
    if report["boards"]:
        table = Table(
            "board", "name", "staff", "subscribed", "queued", "open cases", "staff list", "last run"
        )
        for board in report["boards"]:
            staff_list, run = board["staff_list"], board["last_run"]
            table.add_row(
                board["number"],
                board["name"],
                str(board["staff"]),
                str(board["subscriptions"]),
                str(board["pending_operations"]),
                str(board["open_cases"]),
                "none" if staff_list is None else f"{staff_list['id']} ({staff_list['status']})",
                "none"
                if run is None
                else f"{run['job']} {run['outcome']} {run['started_at'][:16]}",
            )
        out.print(table)
    else:
        out.print("No boards yet.")
    subscriptions = report["subscriptions"]
    active, pending, ending, failed = (
        subscriptions[status]
        for status in (
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.PENDING,
            SubscriptionStatus.ENDING,
            SubscriptionStatus.FAILED,
        )
    )
    out.print(
        f"Subscriptions: {active} active, {pending} pending, {ending} ending, "
        f"{failed} refused by the authority. "
        f"Authority outbox: {report['authority_outbox'][OutboxStatus.PENDING]} queued."
    )
    notifications = report["notifications"]
    out.print(
        f"Cases: {report['cases'][CaseStatus.OPEN]} open, {report['cases']['overdue']} overdue. "
        f"Unrouted hits: {report['hits']['unrouted']}. Notifications: "
        f"{notifications[NotificationStatus.PENDING]} pending, "
        f"{notifications[NotificationStatus.FAILED]} failed."
    )
    if report["healthy"]:
        out.print(styled("green", "Healthy."))
    else:
        out.print(styled("red", "Not healthy:", " " + "; ".join(report["problems"])))
