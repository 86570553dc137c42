"""``vogscreen keys``: BSN keys for a new installation."""

from __future__ import annotations

from pathlib import Path

import click

from vogscreen.cli.context import EXIT_USAGE, err, out, styled
from vogscreen.runtime.crypto import create_key_file, fresh_keys


@click.group()
def keys() -> None:
    """BSN keys (blind index and encryption)."""


@keys.command("generate")
@click.option(
    "--key-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the pair to this JSON key file (mode 0600; never over an existing file) "
    "instead of printing it.",
)
def generate(key_file: Path | None) -> None:
    """Make a fresh pair of BSN keys, for a NEW database only.

    Prints VOGSCREEN_BSN_HMAC_KEY and VOGSCREEN_BSN_ENCRYPTION_KEY lines to put in the
    service's environment (or a secret store), or writes a key file for
    VOGSCREEN_KEY_FILE. Keep a backup: a database filled under these keys cannot be read
    with any others, and vogscreen refuses to start with other keys.
    """
    if key_file is not None:
        if not create_key_file(key_file):
            err.print(styled("red", "error:", f" {key_file} already exists; it is left as it is"))
            raise SystemExit(EXIT_USAGE)
        out.print(f"Wrote a fresh key pair to {key_file} (mode 0600). Keep a backup of it.")
        return
    pair = fresh_keys()
    click.echo(f"VOGSCREEN_BSN_HMAC_KEY={pair['hmac']}")
    click.echo(f"VOGSCREEN_BSN_ENCRYPTION_KEY={pair['aes']}")
