"""``vogscreen board``: register school boards and their HR recipients."""

from __future__ import annotations

import json

import click
from rich.table import Table

from vogscreen.cli.context import Context, out, pass_context
from vogscreen.pipeline import boards as service
from vogscreen.pipeline.tokens import create_token, list_tokens, revoke_token


@click.group()
def board() -> None:
    """School boards (bevoegd gezag) and their HR recipients."""


@board.command("add")
@click.argument("number")
@click.option("--name", required=True, help="The board's name.")
@click.option(
    "--notify",
    "recipients",
    multiple=True,
    required=True,
    metavar="EMAIL",
    help="An HR address that receives hit notifications; repeat for more.",
)
@pass_context
def add(context: Context, number: str, name: str, recipients: tuple[str, ...]) -> None:
    """Register board NUMBER (its 5-digit DUO number)."""
    view = service.add_board(context.app, number, name, recipients)
    out.print(f"Added board {view.number} ({view.name}), notifying {', '.join(view.recipients)}.")


@board.command("list")
@pass_context
def list_(context: Context) -> None:
    """List every board."""
    views = service.list_boards(context.app)
    if not views:
        out.print(
            "No boards yet. Add one with `vogscreen board add NUMBER --name ... --notify ...`."
        )
        return
    table = Table("number", "name", "recipients", "removal threshold")
    for view in views:
        table.add_row(
            view.number,
            view.name,
            "\n".join(view.recipients),
            f"{view.removal_threshold_percent}% and {view.removal_threshold_count}",
        )
    out.print(table)


@board.command("show")
@click.argument("number")
@pass_context
def show(context: Context, number: str) -> None:
    """Show board NUMBER's settings."""
    view = service.show_board(context.app, number)
    table = Table(show_header=False, box=None)
    table.add_row("number", view.number)
    table.add_row("name", view.name)
    table.add_row("recipients", "\n".join(view.recipients))
    table.add_row(
        "removal threshold",
        f"held above {view.removal_threshold_percent}% and above "
        f"{view.removal_threshold_count} employments ended by one list",
    )
    table.add_row("follow-up deadline", f"{view.followup_weeks} weeks")
    out.print(table)


@board.command("set")
@click.argument("number")
@click.option("--name", help="A new name.")
@click.option(
    "--notify",
    "recipients",
    multiple=True,
    metavar="EMAIL",
    help="Replace the recipients with these; repeat for more.",
)
@click.option("--add-notify", multiple=True, metavar="EMAIL", help="Add a recipient.")
@click.option("--remove-notify", multiple=True, metavar="EMAIL", help="Remove a recipient.")
@click.option(
    "--removal-percent",
    type=int,
    help="Hold a list that would end more than this percentage of employments.",
)
@click.option(
    "--removal-count", type=int, help="... and more than this many (both must be exceeded)."
)
@click.option("--followup-weeks", type=int, help="Weeks the board has to get a new VOG.")
@pass_context
def set_(
    context: Context,
    number: str,
    name: str | None,
    recipients: tuple[str, ...],
    add_notify: tuple[str, ...],
    remove_notify: tuple[str, ...],
    removal_percent: int | None,
    removal_count: int | None,
    followup_weeks: int | None,
) -> None:
    """Change board NUMBER's name, recipients or removal threshold."""
    view = service.update_board(
        context.app,
        number,
        name=name,
        recipients=list(recipients) if recipients else None,
        add_recipients=add_notify,
        remove_recipients=remove_notify,
        removal_threshold_percent=removal_percent,
        removal_threshold_count=removal_count,
        followup_weeks=followup_weeks,
    )
    out.print(
        f"Board {view.number}: recipients {', '.join(view.recipients)}; removal threshold "
        f"{view.removal_threshold_percent}% and {view.removal_threshold_count}; "
        f"follow-up {view.followup_weeks} weeks."
    )


@board.group("token")
def token() -> None:
    """API tokens of a board, for its HR system (`Authorization: Bearer <token>`)."""


@token.command("create")
@click.argument("number")
@click.option("--name", required=True, help='What uses it, e.g. "AFAS koppeling".')
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ..., "id": ...}.')
@pass_context
def token_create(context: Context, number: str, name: str, as_json: bool) -> None:
    """Make a token for board NUMBER. It is printed once and never shown again."""
    token_id, secret = create_token(context.app, number, name, context.app.settings.actor)
    if as_json:
        click.echo(json.dumps({"token": secret, "id": token_id}))
        return
    out.print(f"Token {token_id} for board {number} ({name}). Keep it now; it is not shown again:")
    click.echo(secret)


@token.command("list")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def token_list(context: Context, number: str, as_json: bool) -> None:
    """List board NUMBER's tokens (never the tokens themselves)."""
    views = list_tokens(context.app, number)
    if as_json:
        click.echo(json.dumps([view.as_dict() for view in views], indent=2))
        return
    if not views:
        out.print(f"Board {number} has no tokens. Make one with `vogscreen board token create`.")
        return
    table = Table("id", "name", "created", "by", "last used", "revoked")
    for view in views:
        table.add_row(
            str(view.id),
            view.name,
            view.created_at.isoformat(timespec="minutes"),
            view.created_by,
            view.last_used_at.isoformat(timespec="minutes") if view.last_used_at else "",
            view.revoked_at.isoformat(timespec="minutes") if view.revoked_at else "",
        )
    out.print(table)


@token.command("revoke")
@click.argument("number")
@click.argument("token_id", metavar="ID", type=int)
@pass_context
def token_revoke(context: Context, number: str, token_id: int) -> None:
    """Revoke token ID of board NUMBER: from now on it is refused."""
    revoke_token(context.app, number, token_id, context.app.settings.actor)
    out.print(f"Revoked token {token_id} of board {number}.")
