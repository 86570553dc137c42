"""``vogscreen demo``: a walk-through of vogscreen on the embedded default.

It runs in the current directory (which should be empty: the README's command uses
``./demo/``), with fake but valid BSNs, and shows each step as an operator would see it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vogscreen.domain.errors import StateConflict
from vogscreen.pipeline.boards import add_board
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.login import issue_link
from vogscreen.pipeline.notify import notify
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.status import status
from vogscreen.pipeline.upload_report import UploadReport
from vogscreen.runtime.authorities import raise_mock_hit
from vogscreen.runtime.bootstrap import App
from vogscreen.store.boards import board_numbers
from vogscreen.testing import fake_employees, staff_csv

BOARD_A = ("10001", "Stichting Openbaar Onderwijs Voorbeeldstad", "hr@soov.example.nl")
BOARD_B = ("10002", "Vereniging Christelijk Onderwijs Rivierenland", "personeel@vcor.example.nl")

Say = Callable[[str], None]
ShowReport = Callable[[UploadReport], None]
ShowStatus = Callable[[dict[str, Any]], None]


def run_demo(
    app: App, folder: Path, say: Say, show_report: ShowReport, show_status: ShowStatus
) -> None:
    with app.sessions() as session:
        if board_numbers(session):
            raise StateConflict(
                "this database already has boards; run the demo in an empty directory "
                "(the README's `./dev demo` does)"
            )
    folder.mkdir(parents=True, exist_ok=True)

    say("1. Two school boards register, each with its HR address.")
    for number, name, email in (BOARD_A, BOARD_B):
        add_board(app, number, name, [email])
        say(f"   board {number}: {name} → {email}")

    staff_a = fake_employees(12, seed=101, brin="06XY")
    staff_b = fake_employees(8, seed=202, brin="21QZ")
    # One teacher works at both boards: same person, each board's own personeelsnummer.
    shared = dataclasses.replace(staff_a[0], personeelsnummer="B-0042", brin="21QZ01")
    staff_b.append(shared)

    say("\n2. Board 10001 hands in its staff list, with two mistakes in it.")
    broken = staff_csv(staff_a).replace(staff_a[3].bsn, staff_a[3].bsn[:-1] + "0", 1)
    broken = broken.replace(staff_a[7].start_date.isoformat(), "31-02-2019", 1)
    bad_file = folder / "personeel-10001-fout.csv"
    bad_file.write_text(broken, encoding="utf-8-sig")
    show_report(upload(app, BOARD_A[0], bad_file, received_by="hr@soov.example.nl"))

    say("\n3. The board fixes its file and hands it in again (preview first, then for real).")
    good_file = folder / "personeel-10001.csv"
    good_file.write_text(staff_csv(staff_a), encoding="utf-8-sig")
    show_report(upload(app, BOARD_A[0], good_file, dry_run=True))
    show_report(upload(app, BOARD_A[0], good_file, received_by="hr@soov.example.nl"))

    say("\n4. Board 10002 sends its list from Excel (Windows-1252, comma-separated).")
    file_b = folder / "personeel-10002.csv"
    file_b.write_bytes(staff_csv(staff_b, delimiter=",").encode("cp1252"))
    show_report(upload(app, BOARD_B[0], file_b, received_by="personeel@vcor.example.nl"))

    say("\n5. The same file again is recognised and changes nothing.")
    show_report(upload(app, BOARD_B[0], file_b))

    say("\n6. Reconcile: apply both lists and subscribe everyone at the (mock) authority.")
    with app.authority() as authority:
        summary = reconcile(app, authority)
        say(
            f"   {summary.drain.subscribed} persons subscribed for {12 + 9} employments: "
            "the teacher at both boards is subscribed once."
        )
        say("\n7. The authority signals a hit for the teacher who works at both boards.")
        hit_id = raise_mock_hit(app, BOARD_A[0], staff_a[0].personeelsnummer).hit_id
        say(f"   hit {hit_id} raised (no offence detail: the authority never sends any)")
        polled = poll(app, authority)
        say(f"   polled: {polled.new} new hit, {polled.cases} cases opened (one per board)")
    sent = notify(app)
    say(f"   {sent.sent} emails sent to {sent.destination}")

    say("\n8. Status:")
    show_status(status(app))
    say(f"\nThe emails are in {app.settings.maildir.resolve()}/new (one file per message).")
    say(f"The demo's files are in {folder.resolve()}; the database is {app.engine.url}.")
    say("Try `vogscreen status`, `vogscreen cases list` and `vogscreen staff show 10001`.")
    link = issue_link(app, BOARD_A[0], BOARD_A[2], actor="demo")
    say(
        f"\n9. The board portal. Start it here with `vogscreen serve` (./dev demo runs it for a"
        f" minute), then open this login link for {BOARD_A[2]} of board {BOARD_A[0]}"
        f" (it works once, for 15 minutes):\n   {link}"
    )
