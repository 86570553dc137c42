"""structlog set-up, done once by the entry point.

Logs go to stderr (stdout belongs to the command's own output, such as ``--json``): JSON
when stderr is not a terminal, readable when it is. The last processor before rendering
replaces anything that looks like a BSN, as a final line of defence.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_BSN_LIKE = re.compile(r"(?<!\d)\d{8,9}(?!\d)")
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _BSN_LIKE.sub(REDACTED, value)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 10_000_000 <= value < 1_000_000_000
    ):
        return REDACTED
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_scrub(item) for item in value]
    return value


def scrub_bsn_like(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace every 8- or 9-digit number in an event with ``[redacted]``.

    Ids, counts and durations stay well below eight digits, so this costs no information
    that an operator needs; a BSN that slipped through never reaches the output.
    """
    for key, value in event_dict.items():
        event_dict[key] = _scrub(value)
    return event_dict


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
