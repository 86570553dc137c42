"""``vogscreen staff``: hand in a board's staff list and look at its current staff."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from vogscreen.cli.context import EXIT_FAILED, EXIT_HELD, Context, err, out, pass_context, styled
from vogscreen.cli.csvout import write_csv
from vogscreen.cli.upload_report import print_report
from vogscreen.domain.language import DEFAULT_LANGUAGE, LANGUAGES
from vogscreen.domain.statuses import UploadOutcome
from vogscreen.pipeline import intake as service
from vogscreen.pipeline.staff import current_staff, history
from vogscreen.pipeline.upload_report import COUNT_KEYS


@click.group()
def staff() -> None:
    """Staff lists (personeelslijsten) and current staff."""


@staff.command("upload")
@click.argument("number")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and preview; store nothing.")
@click.option(
    "--report-json",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report (status, counts, every problem) as JSON to this file.",
)
@click.option(
    "--by", "received_by", help="Who handed the list in (default: VOGSCREEN_ACTOR or $USER)."
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default=DEFAULT_LANGUAGE,
    show_default=True,
    help="The language of the report, printed and in --report-json (boards read Dutch).",
)
@pass_context
def upload(
    context: Context,
    number: str,
    file: Path,
    dry_run: bool,
    report_json: Path | None,
    received_by: str | None,
    language: str,
) -> None:
    """Hand in FILE (CSV or XLSX) as the complete staff list of board NUMBER.

    The file is validated row by row. With any problem it is rejected whole (exit 1) and
    the report lists every problem, with how to fix it; otherwise it is stored as the
    board's new snapshot and the report previews what changes. Exit codes: 0 accepted or
    unchanged, 1 rejected, 2 usage error, 3 held.
    """
    with err.status(f"Reading and validating {file.name} …"):
        report = service.upload(context.app, number, file, dry_run=dry_run, received_by=received_by)
    if report_json is not None:
        document = report.as_dict(language)
        report_json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print_report(report, language)
    if report.status == UploadOutcome.REJECTED:
        raise SystemExit(EXIT_FAILED)
    if report.status == UploadOutcome.HELD:
        raise SystemExit(EXIT_HELD)


@staff.command("show")
@click.argument("number")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the list to this CSV file (formula-like values escaped).",
)
@pass_context
def show(context: Context, number: str, csv_path: Path | None) -> None:
    """Show board NUMBER's current staff (never a BSN or birth date)."""
    overview = current_staff(context.app, number)
    if overview.staff_list_id is None:
        out.print(f"Board {overview.board} has no accepted staff list yet.")
        return
    received = overview.received_at.strftime("%Y-%m-%d %H:%M") if overview.received_at else ""
    out.print(
        f"Board {overview.board}: {len(overview.members)} staff, from staff list "
        f"{overview.staff_list_id} ({overview.staff_list_status}, received {received} UTC)."
    )
    if overview.hold is not None:
        out.print(styled("yellow", "Held", f" ({overview.hold}): {overview.reason}."))
    header = [
        "personeelsnummer",
        "name",
        "brin",
        "function",
        "in dienst",
        "uit dienst",
        "VOG",
        "screening",
    ]
    rows = [
        [
            member.personeelsnummer or "",
            member.name,
            member.brin or "",
            member.function or "",
            member.start_date.isoformat() if member.start_date else "",
            member.end_date.isoformat() if member.end_date else "",
            member.vog_date.isoformat() if member.vog_date else "",
            member.screening,
        ]
        for member in overview.members
    ]
    table = Table(*header)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    if csv_path is not None:
        with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
            write_csv(handle, header, rows)
        out.print(f"Wrote {csv_path}.")


@staff.command("history")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Print the lists as JSON.")
@pass_context
def history_command(context: Context, number: str, as_json: bool) -> None:
    """Every staff list board NUMBER handed in: status, counts and who handed it in."""
    lists = history(context.app, number)
    if as_json:
        click.echo(json.dumps(lists, indent=2, ensure_ascii=False))
        return
    if not lists:
        out.print(f"Board {number} has handed in no staff list yet.")
        return
    keys = COUNT_KEYS
    table = Table("id", "status", "file", "received (UTC)", "by", *keys, "why")
    for item in lists:
        counts = item["counts"]
        why = f"{item['hold']}: {item['reason']}" if item["hold"] else ""
        if item["problems"]:
            why = f"{item['problems']} problem(s)"
        table.add_row(
            str(item["id"]),
            item["status"],
            item["file"],
            item["received_at"][:16].replace("T", " "),
            item["received_by"],
            *(str(counts.get(key, "")) for key in keys),
            why,
        )
    out.print(table)


@staff.command("confirm")
@click.argument("staff_list_id", type=int, metavar="ID")
@pass_context
def confirm(context: Context, staff_list_id: int) -> None:
    """Apply held staff list ID past the removal guard, then reconcile its board."""
    from vogscreen.pipeline.reconcile import confirm as release
    from vogscreen.pipeline.reconcile import run as reconcile
    from vogscreen.runtime.leases import running

    board = release(context.app, staff_list_id)
    with running(context.app, "reconcile", board), context.app.authority() as authority:
        summary = reconcile(context.app, authority, board=board)
    out.print(f"Confirmed staff list {staff_list_id} of board {board} and applied it.")
    drained = summary.drain
    out.print(
        f"Authority: {drained.subscribed} subscribed, {drained.unsubscribed} unsubscribed, "
        f"{drained.deferred} left queued."
    )


@staff.command("reject")
@click.argument("staff_list_id", type=int, metavar="ID")
@pass_context
def reject(context: Context, staff_list_id: int) -> None:
    """Discard held staff list ID; the board's current staff stays as it is."""
    from vogscreen.pipeline.reconcile import reject as discard

    board = discard(context.app, staff_list_id)
    out.print(f"Discarded staff list {staff_list_id} of board {board}; nothing was applied.")
