"""Limits on what an XLSX file may make the reader do, checked before openpyxl runs.

The declared sizes of the parts (checked in :mod:`vogscreen.intake.reading`) bound what a
ZIP may unpack to; this bounds what a small file may still make openpyxl hold in memory.
"""

from __future__ import annotations

import re
import zipfile
import zlib

from vogscreen.domain.language import msg
from vogscreen.intake import problems as p
from vogscreen.intake.problems import FileProblem

# More distinct texts than any staff list has (the largest board has some 15,000 staff):
# openpyxl reads every one into memory before the first row, so a small file declaring
# millions of them would hold a worker for minutes and take a gigabyte.
XLSX_MAX_SHARED_STRINGS = 500_000
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


def check_shared_strings(archive: zipfile.ZipFile, names: set[str]) -> None:
    """Refuse a workbook with more shared strings than :data:`XLSX_MAX_SHARED_STRINGS`,
    counted while the part streams through (about a second per 100 MB), before openpyxl
    would load them all."""
    part = "xl/sharedStrings.xml"
    if part not in names:
        return
    count, tail = 0, b""
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(1 << 20):
                window = tail + chunk
                count += len(_SHARED_STRING.findall(window))
                # A tag cut at the chunk's end is counted in the next window, and not twice.
                cut = window.rfind(b"<", max(0, len(window) - 64))
                tail = window[cut:] if cut >= 0 else b""
                if tail and _SHARED_STRING.match(tail):
                    count -= 1
                if count > XLSX_MAX_SHARED_STRINGS:
                    break
    except (zlib.error, EOFError, zipfile.BadZipFile, OSError):
        raise FileProblem(
            p.XLSX_DAMAGED, msg("the XLSX file is damaged and cannot be read")
        ) from None
    if count > XLSX_MAX_SHARED_STRINGS:
        raise FileProblem(
            p.XLSX_TOO_LARGE,
            msg(
                "the XLSX file holds more than %(limit)s different texts; no staff list has "
                "that many",
                limit=f"{XLSX_MAX_SHARED_STRINGS:,}".replace(",", "."),
            ),
        )
