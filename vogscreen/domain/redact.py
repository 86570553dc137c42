"""The last line of defence for privacy: anything that looks like a BSN is replaced.

Used by the logs' final processor and by every report and problem message on its way out.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

_BSN_LIKE = re.compile(r"(?<!\d)\d{8,9}(?!\d)")
REDACTED = "[redacted]"


def redacted_text(text: str) -> str:
    """``text`` with every BSN-shaped number replaced (a file name, before it is kept)."""
    return _BSN_LIKE.sub(REDACTED, text)


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
