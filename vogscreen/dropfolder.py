"""The drop folder: ``inbox/<board number>/*.csv|xlsx``, as HR systems deliver over SFTP.

Each file is handed in as the board's staff list, oldest first, then moved to ``done/``
(accepted, unchanged or held) or ``rejected/``, with its report beside it as JSON. Files
still being written (changed in the last few seconds) are left for the next run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import structlog

from vogscreen.bootstrap import App
from vogscreen.intake.service import REJECTED, upload

log = structlog.get_logger(__name__)

SUFFIXES = (".csv", ".xlsx", ".txt")


def waiting_files(folder: Path, settle_seconds: float) -> list[Path]:
    if not folder.is_dir():
        return []
    cutoff = time.time() - settle_seconds
    files = [
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() in SUFFIXES and path.stat().st_mtime <= cutoff
    ]
    return sorted(files, key=lambda path: (path.stat().st_mtime, path.name))


def process_board(app: App, board: str) -> dict[str, int]:
    folder = app.settings.inbox_dir / board
    counts = {"files": 0, "accepted": 0, "rejected": 0, "held": 0, "unchanged": 0}
    for path in waiting_files(folder, app.settings.inbox_settle_seconds):
        report = upload(app, board, path, received_by=f"drop folder ({path.name})")
        counts["files"] += 1
        counts[report.status] = counts.get(report.status, 0) + 1
        target = folder / ("rejected" if report.status == REJECTED else "done")
        target.mkdir(exist_ok=True)
        stamp = app.now().strftime("%Y%m%dT%H%M%S")
        moved = target / f"{stamp}-{path.name}"
        path.replace(moved)
        moved.with_name(moved.name + ".report.json").write_text(
            json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"
        )
        log.info("dropfolder.processed", file=path.name, status=report.status, moved_to=target.name)
    return counts
