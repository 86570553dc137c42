"""Two boards that share people hand in their lists at the same moment: both are stored.

On PostgreSQL two transactions that insert some of the same persons (by blind index) in
different orders deadlocked, and one upload failed (found by the portal benchmark, 16
clients at once); persons now go in in the order of their index. On SQLite the database
serialises the writers, and the test holds there too."""

from __future__ import annotations

import threading
from pathlib import Path

from vogscreen.domain.statuses import UploadOutcome
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.intake import upload
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import fake_employees, staff_csv


def test_two_boards_sharing_people_hand_in_at_once_and_both_lists_are_stored(
    app: App, tmp_path: Path
) -> None:
    shared = fake_employees(400, seed=71)
    boards = {"20001": list(shared), "20002": list(reversed(shared))}
    for number in boards:
        add_board(app, number, f"Stichting {number}", [f"hr@{number}.example.nl"])
    outcomes: dict[str, object] = {}
    start = threading.Barrier(len(boards))

    def hand_in(number: str) -> None:
        path = tmp_path / f"{number}.csv"
        # Each board its own schools: a list naming another board's school would be held.
        rows = [e.__class__(**{**e.__dict__, "brin": f"{number[-1]}0AB"}) for e in boards[number]]
        path.write_text(staff_csv(rows))
        start.wait()
        try:
            outcomes[number] = upload(app, number, path).status
        except Exception as exc:  # the failure is the finding
            outcomes[number] = exc

    threads = [threading.Thread(target=hand_in, args=(number,)) for number in boards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == dict.fromkeys(boards, UploadOutcome.ACCEPTED)
