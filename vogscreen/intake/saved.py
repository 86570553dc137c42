"""When an XLSX export was saved, from its document properties (``docProps/core.xml``).

Only used to tell an older export from a newer one; a file without the date (a CSV, a
workbook some tool wrote without properties) simply has none. A date after the upload
(:func:`believable`) is a wrong clock or an edited file, not a save: it is not used, or one
such file would make every later export look older. Called on a file that
:func:`vogscreen.intake.reading.read_table` has already read, so the archive's sizes were
checked; the properties part is still read only when it is small, and by a pattern rather
than an XML parser.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib

_CORE = "docProps/core.xml"
_MAX_CORE_BYTES = 64 * 1024
# How far a saved time may lie after the upload and still be believed: a day covers a PC
# whose clock is off and local times written as if they were UTC.
CLOCK_SKEW = dt.timedelta(days=1)
_MODIFIED = re.compile(rb"<(?:\w+:)?modified\b[^>]*>\s*([0-9][0-9T:.+\-Z]{9,39})\s*</")


def saved_at(data: bytes) -> dt.datetime | None:
    """The workbook's last-saved time (UTC), or None when the file does not say."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(_CORE)
            if info.file_size > _MAX_CORE_BYTES:
                return None
            core = archive.read(info)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, zlib.error, RuntimeError):
        return None
    found = _MODIFIED.search(core)
    if found is None:
        return None
    try:
        value = dt.datetime.fromisoformat(found.group(1).decode("ascii").replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def believable(saved: dt.datetime, received: dt.datetime) -> bool:
    """Whether a file said to be saved at ``saved`` can have been, handed in at ``received``."""
    return saved <= received + CLOCK_SKEW
