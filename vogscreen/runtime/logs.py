"""structlog set-up, done once by the entry point.

Logs go to stderr (stdout belongs to the command's own output, such as ``--json``): JSON
when stderr is not a terminal, readable when it is. The last processor before rendering
replaces anything that looks like a BSN, as a final line of defence.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from vogscreen.domain.redact import scrub_bsn_like


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_bsn_like,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
