"""The drop folder trusts nothing it finds: links, pipes and broken files are refused, unread."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from vogscreen.domain.errors import ConfigurationError
from vogscreen.intake import problems as p
from vogscreen.pipeline.dropfolder import process_board
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import FakeClock, fake_employees, staff_csv

STAFF = fake_employees(4, seed=77)


@pytest.fixture
def folder(app: App, board: str, tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    app.settings = dataclasses.replace(app.settings, inbox_dir=inbox, inbox_settle_seconds=0)
    path = inbox / board
    path.mkdir(parents=True)
    return path


def reports(folder: Path, kind: str) -> dict[str, dict[str, object]]:
    """The reports filed in ``done/`` or ``rejected/``, by the name of the file they are about."""
    target = folder / kind
    if not target.is_dir():
        return {}
    return {
        path.name.split("-", 1)[1].removesuffix(".report.json"): json.loads(path.read_text())
        for path in target.iterdir()
        if path.name.endswith(".report.json")
    }


def codes(report: dict[str, object]) -> list[str]:
    return [problem["code"] for problem in report["problems"]]  # type: ignore[attr-defined, index]


def secret_outside(tmp_path: Path) -> Path:
    """A file outside the inbox that must never be read: a key file, or another board's list."""
    secret = tmp_path / "var" / "keys.json"
    secret.parent.mkdir(exist_ok=True)  # on PostgreSQL no database file made it
    secret.write_text('{"blind_index_key": "c2VjcmV0LWtleS1tYXRlcmlhbA=="}\n')
    return secret


def test_a_symlink_in_the_inbox_is_refused_and_never_read(
    app: App, board: str, folder: Path, tmp_path: Path
) -> None:
    secret = secret_outside(tmp_path)
    (folder / "k.csv").symlink_to(secret)
    outside_list = tmp_path / "elsewhere.csv"
    outside_list.write_text(staff_csv(STAFF))
    (folder / "staff.csv").symlink_to(outside_list)
    (folder / "dir.csv").symlink_to(tmp_path)
    (folder / "real.csv").write_text(staff_csv(STAFF))
    (folder / "inside.csv").symlink_to(folder / "real.csv")

    with capture_logs() as logs:
        counts = process_board(app, board)

    rejected = reports(folder, "rejected")
    assert set(rejected) == {"k.csv", "staff.csv", "dir.csv", "inside.csv"}
    assert all(codes(report) == [p.NOT_A_REGULAR_FILE] for report in rejected.values())
    filed = "".join(path.read_text() for path in (folder / "rejected").glob("*.report.json"))
    assert "c2VjcmV0" not in filed and "blind_index_key" not in filed
    assert set(reports(folder, "done")) == {"real.csv"}
    assert counts["accepted"] == 1 and counts["rejected"] == 4
    # The links themselves were removed, not kept where SFTP would still serve their
    # targets; what they point to is untouched and still there.
    leftovers = [entry for entry in (folder / "rejected").iterdir() if entry.is_symlink()]
    assert leftovers == [] and not any(entry.is_symlink() for entry in folder.iterdir())
    for entry in (folder / "rejected").iterdir():
        assert "blind_index_key" not in entry.read_text()
    assert secret.read_text().startswith('{"blind_index_key"')
    assert outside_list.exists() and (folder / "done").is_dir()
    refused = [line for line in logs if line["event"] == "dropfolder.refused"]
    assert sorted(line["file"] for line in refused) == [
        "dir.csv",
        "inside.csv",
        "k.csv",
        "staff.csv",
    ]
    assert all("symbolic link" in line["reason"] for line in refused)


def test_a_hard_link_to_a_file_outside_the_inbox_is_refused_and_never_read(
    app: App, board: str, folder: Path, tmp_path: Path
) -> None:
    outside_list = tmp_path / "var" / "other-board.csv"
    outside_list.parent.mkdir(exist_ok=True)
    outside_list.write_text(staff_csv(STAFF))
    os.link(outside_list, folder / "linked.csv")

    counts = process_board(app, board)

    assert counts == {"files": 1, "accepted": 0, "rejected": 1, "held": 0, "unchanged": 0}
    assert codes(reports(folder, "rejected")["linked.csv"]) == [p.NOT_A_REGULAR_FILE]
    assert outside_list.read_bytes() == staff_csv(STAFF).encode()


def test_a_fifo_in_the_inbox_is_refused_without_waiting_for_a_writer(
    app: App, board: str, folder: Path
) -> None:
    os.mkfifo(folder / "pipe.csv")
    (folder / "real.csv").write_text(staff_csv(STAFF))

    process_board(app, board)

    assert codes(reports(folder, "rejected")["pipe.csv"]) == [p.NOT_A_REGULAR_FILE]
    assert set(reports(folder, "done")) == {"real.csv"}


def test_a_symlinked_rejected_folder_is_not_written_through(
    app: App, board: str, folder: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "rejected").symlink_to(elsewhere)
    (folder / "kapot.csv").write_text("not;a;list\r\n")

    with pytest.raises(ConfigurationError, match="rejected"):
        process_board(app, board)

    assert list(elsewhere.iterdir()) == []
    assert (folder / "kapot.csv").exists()


def test_a_file_that_breaks_the_reader_is_rejected_and_the_next_file_still_goes_in(
    app: App, board: str, folder: Path
) -> None:
    huge = staff_csv(STAFF).replace("achternaam", "achternaam" + "x" * 200_000)
    (folder / "a-huge.csv").write_text(huge)
    os.utime(folder / "a-huge.csv", (1_000_000_000, 1_000_000_000))  # the oldest: first in line
    (folder / "b-good.csv").write_text(staff_csv(STAFF))

    counts = process_board(app, board)

    assert counts["files"] == 2 and counts["accepted"] == 1 and counts["rejected"] == 1
    assert codes(reports(folder, "rejected")["a-huge.csv"]) == [p.FIELD_TOO_LARGE]
    assert set(reports(folder, "done")) == {"b-good.csv"}
    assert sorted(path.name for path in folder.iterdir()) == ["done", "rejected"]


def test_a_header_less_list_in_the_drop_folder_files_a_report_without_its_bsn_or_birth_date(
    app: App, board: str, folder: Path
) -> None:
    (folder / "geen-kop.csv").write_text(
        "339826903;1966-10-07;Jansen;;N.;P77;12AB;leerkracht;2011-05-24;;2016-06-03\r\n"
    )

    process_board(app, board)

    filed = (next((folder / "rejected").glob("*.report.json"))).read_text()
    assert "339826903" not in filed and "1966-10-07" not in filed
    assert p.MISSING_COLUMN in filed


def test_a_file_swapped_for_a_link_after_the_listing_is_still_refused_unread(
    app: App, board: str, folder: Path, tmp_path: Path
) -> None:
    from vogscreen.pipeline.dropfolder import _Inbox, _Refused, waiting_files

    (folder / "staff.csv").write_text(staff_csv(STAFF))
    listed = waiting_files(folder, 0)
    (folder / "staff.csv").unlink()
    (folder / "staff.csv").symlink_to(secret_outside(tmp_path))  # between listing and open

    inbox = _Inbox(folder)
    try:
        with pytest.raises(_Refused, match="symbolic link"):
            inbox.open(listed[0].name)
    finally:
        inbox.close()


# --- filing: a name is never used twice --------------------------------------------------------


def filed(folder: Path, kind: str) -> list[str]:
    return sorted(path.name for path in (folder / kind).iterdir())


def test_two_files_of_the_same_name_in_the_same_second_are_both_filed_and_neither_is_lost(
    app: App, board: str, folder: Path, clock: FakeClock
) -> None:
    first, second = staff_csv(STAFF), staff_csv(STAFF[:3])
    (folder / "p2.csv").write_text(first)
    assert process_board(app, board)["accepted"] == 1
    (folder / "p2.csv").write_text(second)  # same second: the clock has not moved

    counts = process_board(app, board)

    assert counts["held"] + counts["accepted"] == 1 and "not_filed" not in counts
    stamp = clock().strftime("%Y%m%dT%H%M%S")
    assert filed(folder, "done") == [
        f"{stamp}-p2.csv",
        f"{stamp}-p2.csv.report.json",
        f"{stamp}.2-p2.csv",
        f"{stamp}.2-p2.csv.report.json",
    ]
    assert (folder / "done" / f"{stamp}-p2.csv").read_bytes() == first.encode()
    assert (folder / "done" / f"{stamp}.2-p2.csv").read_bytes() == second.encode()
    assert (folder / "p2.csv").exists() is False


def test_a_rejected_file_of_the_same_name_in_the_same_second_does_not_overwrite_the_first(
    app: App, board: str, folder: Path
) -> None:
    (folder / "kapot.csv").write_bytes(b"not;a;list\n")
    process_board(app, board)
    (folder / "kapot.csv").write_bytes(b"still;not;a;list\n")

    process_board(app, board)

    contents = sorted(
        path.read_bytes()
        for path in (folder / "rejected").iterdir()
        if not path.name.endswith(".report.json")
    )
    assert contents == [b"not;a;list\n", b"still;not;a;list\n"]
    assert len(reports(folder, "rejected")) == 1  # both are about kapot.csv
    assert len(list((folder / "rejected").glob("*.report.json"))) == 2


def test_a_file_whose_name_leaves_no_room_for_the_timestamp_is_filed_and_the_next_still_goes_in(
    app: App, board: str, folder: Path
) -> None:
    long_name = "personeel-" + "x" * 240 + ".csv"  # 254 characters, the most a name may hold
    (folder / long_name).write_text("not;a;list\r\n")
    os.utime(folder / long_name, (1_000_000_000, 1_000_000_000))  # the oldest: first in line
    (folder / "b-good.csv").write_text(staff_csv(STAFF))

    counts = process_board(app, board)

    assert counts["rejected"] == 1 and counts["accepted"] == 1
    assert sorted(path.name for path in folder.iterdir()) == ["done", "rejected"]
    (report,) = (folder / "rejected").glob("*.report.json")
    assert len(report.name) <= 255 and report.name.endswith(".csv.report.json")


class _TakesAway(FakeClock):
    """A clock that, whenever it is read, takes a file away as someone with access to the
    folder might while it is handed in (the upload has it open already)."""

    def __init__(self, start: dt.datetime, victim: Path) -> None:
        super().__init__(start)
        self.victim = victim

    def __call__(self) -> dt.datetime:
        self.victim.unlink(missing_ok=True)
        return super().__call__()


def test_a_file_that_cannot_be_filed_is_logged_and_the_next_file_still_goes_in(
    app: App, board: str, folder: Path, clock: FakeClock
) -> None:
    (folder / "a-weg.csv").write_text(staff_csv(STAFF))
    os.utime(folder / "a-weg.csv", (1_000_000_000, 1_000_000_000))  # the oldest: first in line
    (folder / "b-kapot.csv").write_text("not;a;list\r\n")
    app.clock = _TakesAway(clock(), folder / "a-weg.csv")

    with capture_logs() as logs:
        counts = process_board(app, board)

    assert counts["not_filed"] == 1 and counts["accepted"] == 1 and counts["rejected"] == 1
    assert set(reports(folder, "rejected")) == {"b-kapot.csv"}
    assert filed(folder, "done") == []  # no report left without its file
    assert [line["file"] for line in logs if line["event"] == "dropfolder.not_filed"] == [
        "a-weg.csv"
    ]
