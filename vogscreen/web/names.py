"""A file name from outside (a browser's or an HR system's upload), made safe to keep.

Only the last part counts (a browser may send a folder along, with either slash); control
characters, quotes and backslashes go (they would break a header or a file system), a name
of dots alone is no name, and a long one is cut to :data:`MOST` characters with its
extension kept. What is left names the list in reports, the history and downloads.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import Path

# An id in a URL: a row id the database can hold (a larger number is no row, and would make
# SQLite raise instead of finding nothing).
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]

MOST = 120
FALLBACK = "personeelslijst.csv"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\;]')
# What the plain (ASCII) name of a download keeps; the rest is "_".
_PLAIN = re.compile(r"[^A-Za-z0-9._ -]")


def safe_filename(given: str | None) -> str:
    name = PurePosixPath((given or "").replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("", name).strip()
    if not name.strip("."):
        return FALLBACK
    if len(name) > MOST:
        _, dot, extension = name.rpartition(".")
        keep = f"{dot}{extension}" if dot and len(extension) <= 5 else ""
        name = name[: MOST - len(keep)] + keep
    return name


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download named ``filename`` (already safe): ASCII
    for every client, and the name itself (RFC 6266 ``filename*``) for those that read it."""
    from urllib.parse import quote

    ascii_name = _PLAIN.sub("_", filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
