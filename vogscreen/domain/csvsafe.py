"""Writing CSV that is safe to open in a spreadsheet.

Values that start with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) would be
run as formulas by Excel and LibreOffice. We store such values as given, and escape them
with a leading apostrophe in every CSV we write (the OWASP advice for CSV injection).
The operators' commands (:mod:`vogscreen.cli.csvout`) and the board's reports
(:mod:`vogscreen.pipeline.reports`) both write through here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import TextIO

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_csv(handle: TextIO, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
    writer.writerow([escape_cell(name) for name in header])
    for row in rows:
        writer.writerow([escape_cell(value) for value in row])
