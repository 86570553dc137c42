"""What every ``vogscreen`` command shares: exit codes, consoles and the lazy App."""

from __future__ import annotations

import sys
from functools import cached_property

import click
from rich.console import Console
from rich.text import Text

from vogscreen.runtime.bootstrap import App, bootstrap
from vogscreen.runtime.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_HELD = 3
EXIT_BUSY = 4

# Piped into a file or a log, 80 columns would cut tables short; a terminal sets its own.
_PIPE_WIDTH = None if sys.stdout.isatty() else 160
# No markup and no emoji codes: what we print holds file names, cell text, names and error
# messages from outside, and "[/]" in a staff list's header must not crash the report nor
# ":x:" turn into a picture. Colour goes on as a style (:func:`styled`), never parsed.
out = Console(highlight=False, soft_wrap=True, width=_PIPE_WIDTH, markup=False, emoji=False)
# soft_wrap: an error is one line in a log file, not cut at 80 columns.
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def styled(style: str, lead: str, rest: str = "") -> Text:
    """``lead`` in ``style``, then ``rest`` as it is: neither is read as markup."""
    return Text.assemble((lead, style), rest)


class Context:
    """Built per invocation; the App (database, keys) only when a command needs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def app(self) -> App:
        return bootstrap(self.settings)


pass_context = click.make_pass_decorator(Context)
