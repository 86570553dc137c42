"""``vogscreen mock-authority``: the mock screening authority, for tests and demos."""

from __future__ import annotations

import os

import click

from vogscreen.cli.context import Context, out, pass_context
from vogscreen.runtime.authorities import adapter_module, raise_mock_hit
from vogscreen.runtime.crypto import load_vault

IN_MEMORY = "sqlite://"


@click.group("mock-authority")
def mock_authority() -> None:
    """The mock screening authority: serve it over HTTP, or have it signal a hit."""


@mock_authority.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8700, show_default=True)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of API requests answered with a 5xx or left hanging (after the work is done).",
)
@click.option(
    "--latency", type=click.IntRange(min=0), default=0, metavar="MS", help="Delay per request."
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Requests per second before answering 429 with Retry-After.",
)
@click.option(
    "--token",
    envvar="VOGSCREEN_MOCK_AUTHORITY_TOKEN",
    help="Require this bearer token (or set VOGSCREEN_MOCK_AUTHORITY_TOKEN).",
)
@click.option(
    "--database",
    default=IN_MEMORY,
    show_default=True,
    metavar="URL",
    help="The server's own database; the default keeps it in memory. A lasting database "
    "hashes BSNs with a key derived from this installation's BSN keys.",
)
@click.option("--seed", type=int, help="Seed for the fault generator, to repeat a run.")
@pass_context
def serve(
    context: Context,
    host: str,
    port: int,
    fail_rate: float,
    latency: int,
    rate_limit: int | None,
    token: str | None,
    database: str,
    seed: int | None,
) -> None:
    """Serve the authority REST contract (docs/authority-api.yaml) until interrupted.

    GET / answers 200 when ready; /_admin/hits, /_admin/stats and /_admin/reset are the
    admin API for tests.
    """
    server = adapter_module("server")
    # A database that outlives the process needs the same hashing key next time.
    secret = os.urandom(32) if database == IN_MEMORY else load_vault(context.settings).hmac_key
    faults = server.Faults(
        fail_rate=fail_rate, latency_ms=latency, rate_limit=rate_limit, seed=seed
    )
    out.print(f"Mock authority on http://{host}:{port}/ (Ctrl+C stops it).")
    server.serve(
        host=host,
        port=port,
        database=database,
        secret=secret,
        faults=faults,
        token=token,
        log_level=context.settings.log_level,
    )


@mock_authority.command("hit")
@click.option("--board", "board_number", required=True, metavar="NUMBER", help="The board.")
@click.option("--personeelsnummer", required=True, help="The employee's number at that board.")
@pass_context
def hit(context: Context, board_number: str, personeelsnummer: str) -> None:
    """Have the mock authority signal a hit for a board's current employee.

    In-process with VOGSCREEN_AUTHORITY=mock; through the server's admin API with
    VOGSCREEN_AUTHORITY=http. The next hit intake picks it up.
    """
    raised = raise_mock_hit(context.app, board_number, personeelsnummer)
    out.print(
        f"Raised hit {raised.hit_id} on subscription {raised.subscription_ref} "
        f"(board {board_number}, personeelsnummer {personeelsnummer})."
    )
