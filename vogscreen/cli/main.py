"""The ``vogscreen`` operator command line."""

from __future__ import annotations

import sys

import click

from vogscreen import __version__
from vogscreen.cli import (
    authority,
    boards,
    followup,
    keys,
    reconcile,
    serve,
    staff,
    status,
    worker,
)
from vogscreen.cli.context import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_USAGE,
    Context,
    err,
    out,
    pass_context,
    styled,
)
from vogscreen.domain.errors import (
    ConfigurationError,
    DatabaseBusy,
    InvalidInput,
    LeaseHeld,
    VogscreenError,
)
from vogscreen.runtime.logs import configure_logging
from vogscreen.runtime.settings import load_settings
from vogscreen.store.database import translate_error


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            try:
                return super().invoke(ctx)
            except Exception as exc:
                # A database driver's error an operator can act on, said as ours. Without
                # a context no database was opened: nothing to translate.
                if not isinstance(ctx.obj, Context):
                    raise
                ours = translate_error(exc, ctx.obj.settings.database_url)
                if ours is None:
                    raise
                raise ours from None
        except (InvalidInput, ConfigurationError) as exc:
            err.print(styled("red", "error:", f" {exc}"))
            ctx.exit(EXIT_USAGE)
        except (LeaseHeld, DatabaseBusy) as exc:
            err.print(styled("yellow", "busy:", f" {exc}"))
            ctx.exit(EXIT_BUSY)
        except VogscreenError as exc:
            err.print(styled("red", "error:", f" {exc}"))
            ctx.exit(EXIT_FAILED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vogscreen")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Continuous VOG screening for Dutch education.

    Settings come from VOGSCREEN_* environment variables; without any, vogscreen runs on
    the embedded default: a SQLite database and key file under ./var/, the in-process mock
    authority and a local mail folder.
    """
    try:
        settings = load_settings()
    except VogscreenError as exc:
        err.print(styled("red", "error:", f" {exc}"))
        ctx.exit(EXIT_USAGE)
    configure_logging(settings.log_level, settings.log_format)
    ctx.obj = Context(settings)
    ctx.call_on_close(lambda: _close(ctx.obj))


def _close(context: Context) -> None:
    if "app" in context.__dict__:
        context.app.close()


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Create or upgrade the database schema to the latest migration."""
    from vogscreen.store.database import current_revision, head_revision, make_engine, upgrade

    engine = make_engine(context.settings.database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        out.print(f"The schema is up to date ({after}).")
    else:
        out.print(
            f"Upgraded the schema from {before or 'nothing'} to {after} (head {head_revision()})."
        )


@cli.command()
@pass_context
def demo(context: Context) -> None:
    """Walk through vogscreen on the embedded default, in the current directory."""
    from pathlib import Path

    from vogscreen.cli.demo import run_demo
    from vogscreen.cli.status import print_status
    from vogscreen.cli.upload_report import print_report

    run_demo(context.app, Path("files"), out.print, print_report, print_status)


def _register() -> None:
    cli.add_command(authority.mock_authority)
    cli.add_command(reconcile.reconcile_command)
    cli.add_command(reconcile.validate_command)
    cli.add_command(worker.worker)
    cli.add_command(worker.run_job)
    cli.add_command(worker.runs)
    cli.add_command(followup.hits)
    cli.add_command(followup.notify_command)
    cli.add_command(followup.cases)
    cli.add_command(boards.board)
    cli.add_command(staff.staff)
    cli.add_command(status.status)
    cli.add_command(keys.keys)
    cli.add_command(serve.serve)


_register()


def main() -> None:
    sys.exit(cli.main(prog_name="vogscreen", standalone_mode=True))
