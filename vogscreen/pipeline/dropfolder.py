"""The drop folder: ``inbox/<board number>/*.csv|xlsx``, as HR systems deliver over SFTP.

Each file is handed in as the board's staff list, oldest first, then moved to ``done/``
(accepted, unchanged or held) or ``rejected/``, with its report beside it as JSON. Files
still being written (changed in the last few seconds) are left for the next run.

Whoever can write to the folder can put anything in it, so nothing in it is trusted: a
file is opened relative to the board's folder with ``O_NOFOLLOW`` and read only when the
opened file is a regular file with no other name (a hard link could be to anything). A
symbolic link, a pipe or a hard link is refused unread, logged and filed in ``rejected/``
with a report; so is a file that breaks the reader, so that one file never holds up the
next. The folders files are moved into are opened the same way, and a report is never
written through a link.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import structlog

from vogscreen.domain.errors import ConfigurationError, LeaseHeld, StateConflict
from vogscreen.domain.language import Text, msg
from vogscreen.domain.statuses import FiledAs, UploadOutcome
from vogscreen.intake import problems as p
from vogscreen.intake.problems import Problem
from vogscreen.pipeline.boards import check_board_number
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.upload_report import UploadReport
from vogscreen.runtime.bootstrap import App
from vogscreen.store.database import DatabaseFailure

log = structlog.get_logger(__name__)

SUFFIXES = (".csv", ".xlsx", ".txt")
# O_NONBLOCK: opening a pipe must not wait for a writer (it is refused right after).
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_REPORT = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_REPORT_SUFFIX = ".report.json"
_NAME_MAX = 255  # bytes in a file name (ext4, xfs, btrfs)
_MAX_NAME_TRIES = 1000


class _Refused(Exception):
    """A file of the folder that is not read; the message says why, for the board."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message


def waiting_files(folder: Path, settle_seconds: float) -> list[Path]:
    if not folder.is_dir():
        return []
    cutoff = time.time() - settle_seconds
    waiting = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if Path(entry.name).suffix.lower() not in SUFFIXES or entry.is_dir(
                follow_symlinks=False
            ):
                continue
            # lstat: a link is judged by itself, and refused when it is opened.
            modified = entry.stat(follow_symlinks=False).st_mtime
            if modified <= cutoff:
                waiting.append((modified, entry.name))
    return [folder / name for _, name in sorted(waiting)]


class _Inbox:
    """A board's folder and its done/ and rejected/, held open so that no link is followed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd = self._open_folder(folder, None)
        self.targets: dict[str, int] = {}
        try:
            for kind in FiledAs:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(kind, dir_fd=self.fd)
                self.targets[kind] = self._open_folder(folder / kind, self.fd)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _open_folder(path: Path, parent: int | None) -> int:
        try:
            return os.open(path.name if parent is not None else path, _FOLDER, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise ConfigurationError(
                    f"{path} is not a folder of its own (a symbolic link?); the drop folder "
                    "is not processed until it is"
                ) from None
            raise

    def close(self) -> None:
        for fd in (*self.targets.values(), self.fd):
            os.close(fd)
        self.targets.clear()

    def open(self, name: str) -> BinaryIO:
        try:
            fd = os.open(name, _FILE, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _Refused(
                    msg(
                        "this is a symbolic link, not a file; vogscreen does not follow links "
                        "and has removed it"
                    )
                ) from None
            raise
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise _Refused(
                    msg(
                        "this is not a regular file (a pipe, a device or a folder) and was "
                        "taken out of the folder"
                    )
                )
            if status.st_nlink > 1:
                raise _Refused(
                    msg(
                        "this file has another name as well (a hard link); vogscreen removed "
                        "this name (the file itself is untouched)"
                    )
                )
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def file(
        self, name: str, kind: str, stamp: str, report: UploadReport, *, remove: bool = False
    ) -> str:
        """Move the entry (never what a link points to) into ``kind`` under a name no other
        file has, with its report beside it, and return that name. With ``remove``, the
        entry is deleted instead (only its report is filed): a link moved into
        ``rejected/`` would still hand out what it points to to anyone who reads that
        folder over SFTP.

        The report is created first with O_EXCL, which claims the name; the entry is moved
        only when no file of that name is there either (a rename would overwrite it)."""
        target = self.targets[kind]
        text = json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"
        for moved in archive_names(stamp, name):
            try:
                fd = os.open(moved + _REPORT_SUFFIX, _REPORT, 0o666, dir_fd=target)
            except FileExistsError:
                continue
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                if _exists(moved, target):
                    os.unlink(moved + _REPORT_SUFFIX, dir_fd=target)
                    continue
                if remove and not _is_folder(name, self.fd):
                    os.unlink(name, dir_fd=self.fd)  # the link itself, never its target
                else:
                    os.rename(name, moved, src_dir_fd=self.fd, dst_dir_fd=target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(moved + _REPORT_SUFFIX, dir_fd=target)
                raise
            return moved
        raise FileExistsError(errno.EEXIST, f"no free name in {kind}/ for this file")


def _is_folder(name: str, folder: int) -> bool:
    return stat.S_ISDIR(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)


def _exists(name: str, folder: int) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def archive_names(stamp: str, name: str) -> Iterator[str]:
    """The names a file may be filed under: ``<stamp>-<name>``, then ``<stamp>.2-<name>``
    and so on for files of the same name filed in the same second; each is cut short where
    needed so that its report's name still fits in a file name."""
    for number in range(1, _MAX_NAME_TRIES + 1):
        prefix = f"{stamp}-" if number == 1 else f"{stamp}.{number}-"
        yield prefix + _fitting(name, _NAME_MAX - len(prefix) - len(_REPORT_SUFFIX))


def _fitting(name: str, room: int) -> str:
    encoded = os.fsencode(name)
    if len(encoded) <= room:
        return name
    suffix = os.fsencode(Path(name).suffix)[:16]
    stem = encoded[: room - len(suffix)].decode("utf-8", errors="ignore")
    return stem + os.fsdecode(suffix)


def _refusal(board: str, name: str, code: str, message: Text) -> UploadReport:
    return UploadReport(
        status=UploadOutcome.REJECTED,
        board=board,
        filename=name,
        problems=[Problem(None, None, code, message)],
    )


def _hand_in(app: App, board: str, inbox: _Inbox, name: str) -> UploadReport | None:
    """The report on one file, or None when it is to be left for the next run."""
    try:
        opened = inbox.open(name)
    except FileNotFoundError:
        return None  # taken away since the folder was listed
    except _Refused as refused:
        log.warning("dropfolder.refused", file=name, reason=str(refused))
        return _refusal(board, name, p.NOT_A_REGULAR_FILE, refused.message)
    with opened:
        try:
            return upload(
                app, board, Path(name), opened=opened, received_by=f"drop folder ({name})"
            )
        except DatabaseFailure:
            raise  # the database, not the file: the run fails and the file waits
        except (StateConflict, LeaseHeld) as exc:
            log.warning("dropfolder.deferred", file=name, reason=str(exc))
            return None
        except Exception as exc:
            # Only the kind: an exception's text may quote what it read.
            log.error("dropfolder.unreadable", file=name, error=type(exc).__name__)
            return _refusal(
                board,
                name,
                p.UNREADABLE,
                msg(
                    "the file could not be read (vogscreen failed on it); the operators have "
                    "been told"
                ),
            )


def process_board(app: App, board: str) -> dict[str, int]:
    board = check_board_number(board)
    folder = app.settings.inbox_dir / board
    counts = {"files": 0, "accepted": 0, "rejected": 0, "held": 0, "unchanged": 0}
    waiting = waiting_files(folder, app.settings.inbox_settle_seconds)
    if not waiting:
        return counts
    inbox = _Inbox(folder)
    try:
        for path in waiting:
            report = _hand_in(app, board, inbox, path.name)
            if report is None:
                continue
            counts["files"] += 1
            counts[report.status] = counts.get(report.status, 0) + 1
            kind = FiledAs.REJECTED if report.status == UploadOutcome.REJECTED else FiledAs.DONE
            stamp = app.now().strftime("%Y%m%dT%H%M%S")
            # What was refused unread (a link, a pipe) is removed, not kept where it can
            # still be read through; its report says why.
            refused = any(problem.code == p.NOT_A_REGULAR_FILE for problem in report.problems)
            try:
                inbox.file(path.name, kind, stamp, report, remove=refused)
            except OSError as exc:
                # The list is stored (or refused) already; the file stays in the inbox, comes
                # back as unchanged next time, and the other files still go in.
                counts["not_filed"] = counts.get("not_filed", 0) + 1
                log.error(
                    "dropfolder.not_filed",
                    file=path.name,
                    status=report.status,
                    error=type(exc).__name__,
                    errno=exc.errno,
                )
                continue
            log.info("dropfolder.processed", file=path.name, status=report.status, moved_to=kind)
    finally:
        inbox.close()
    return counts
