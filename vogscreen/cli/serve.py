"""``vogscreen serve``: the board portal on uvicorn."""

from __future__ import annotations

import click

from vogscreen.cli.context import Context, out, pass_context


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--trusted-proxy",
    "trusted",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESSES",
    help="The proxies (comma-separated addresses) whose X-Forwarded-For and -Proto are "
    "believed: the client address the login rate limit counts, and https. Give '' when "
    "nothing stands in front of the portal, so a client cannot name its own address.",
)
@pass_context
def serve(context: Context, host: str, port: int, trusted: str) -> None:
    """Run the board portal: the API under /api/v1 and the Dutch pages under /.

    The worker is a separate process (`vogscreen worker`) on the same database; either
    runs without the other. Put it behind a TLS proxy that sets X-Forwarded-Proto, so
    the session cookie is marked Secure.
    """
    import uvicorn

    from vogscreen.web.app import create_app

    portal = create_app(context.app)
    out.print(f"The portal listens on http://{host}:{port}/ (API docs at /api/docs).")
    uvicorn.run(
        portal,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
