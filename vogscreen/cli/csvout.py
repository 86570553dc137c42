"""Writing CSV that is safe to open in a spreadsheet: see :mod:`vogscreen.domain.csvsafe`,
where it moved so that the board's reports write through it too."""

from __future__ import annotations

from vogscreen.domain.csvsafe import escape_cell, write_csv

__all__ = ["escape_cell", "write_csv"]
