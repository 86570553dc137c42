"""The report of one upload: what became of the file, in the reader's language.

:class:`UploadReport` is what ``staff upload`` prints, what ``--report-json``, the drop folder
and the API give as a document (:meth:`UploadReport.as_dict`), and what the portal shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from vogscreen.domain.language import DEFAULT_LANGUAGE, Text, check_language
from vogscreen.domain.plan import HOLD_HINTS
from vogscreen.domain.statuses import HoldReason, UploadOutcome
from vogscreen.intake import problems as p
from vogscreen.intake.problems import Problem

# The counts of a report, none yet (dictionary keys: count names, not statuses).
_NO_COUNTS = {"rows": 0, "new": 0, "leaving": 0, "changed": 0, "unchanged": 0}
COUNT_KEYS = tuple(_NO_COUNTS)


@dataclass
class UploadReport:
    """What ``staff upload`` tells the operator, and what --report-json writes."""

    status: UploadOutcome
    board: str
    filename: str
    id: int | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict(_NO_COUNTS))
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    reason: Text | None = None  # why the list is held, for people
    hold: HoldReason | None = None  # why the list is held, as a code
    saved_at: dt.datetime | None = None  # an XLSX export's last-saved time
    # A last-saved time the file claims but cannot have (after it was handed in): not used.
    saved_at_ignored: dt.datetime | None = None
    # The pending lists this one overtakes (they will never be applied), and how many
    # people's changes of the newest of them it undoes.
    supersedes: list[int] = field(default_factory=list)
    undoes: dict[str, int] | None = None
    sheet: str | None = None  # the sheet of a workbook that was read
    # A preview's people: who would be new, leave or change (pipeline.preview_people).
    people: dict[str, list[dict[str, Any]]] | None = None

    def as_dict(self, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The report as --report-json, the drop folder and the API give it: messages,
        hints and the reason read in ``language``; codes, lines and columns as they are."""
        check_language(language)
        hint = HOLD_HINTS.get(self.hold) if self.hold is not None else None
        # Through the logs' redaction, as every problem already went: the file name too.
        return p.redacted(
            {
                "language": language,
                "id": self.id,
                "status": self.status,
                "board": self.board,
                "file": self.filename,
                "dry_run": self.dry_run,
                "counts": dict(self.counts),
                "reason": self.reason.render(language) if self.reason is not None else None,
                "hold": self.hold,
                "hold_hint": hint.render(language) if hint is not None else None,
                "saved_at": iso(self.saved_at),
                "saved_at_ignored": iso(self.saved_at_ignored),
                **({"people": self.people} if self.people is not None else {}),
                "supersedes": list(self.supersedes),
                "undoes": self.undoes,
                "sheet": self.sheet,
                "problems": [problem.as_dict(language) for problem in self.problems],
            }
        )


def iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
