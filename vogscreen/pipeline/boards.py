"""School boards: registering them, their HR recipients and their removal threshold."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email

from vogscreen.domain.errors import InvalidInput, NotFound, StateConflict
from vogscreen.domain.language import msg
from vogscreen.intake.cells import has_control_character
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit, logins
from vogscreen.store import boards as stored
from vogscreen.store.database import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vogscreen.store.models import Board

_BOARD_NUMBER = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class BoardView:
    number: str
    name: str
    recipients: list[str]
    removal_threshold_percent: int
    removal_threshold_count: int
    followup_weeks: int


def check_board_name(name: str) -> None:
    """A board's name goes into every mail to its HR: one line, no control characters."""
    if has_control_character(name):
        raise InvalidInput("a board's name cannot hold a line break or another control character")


def check_board_number(number: str) -> str:
    number = number.strip()
    if not _BOARD_NUMBER.match(number):
        raise InvalidInput(f"a board number is the 5-digit DUO number, not {number!r}")
    return number


MAX_ADDRESS = 200


def normalise_recipients(addresses: Sequence[str]) -> list[str]:
    clean: list[str] = []
    for address in addresses:
        try:
            normalised = validate_email(address.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidInput(
                msg(
                    "%(address)s is not a valid email address: %(reason)s",
                    address=repr(address),
                    reason=str(exc),
                )
            ) from None
        if len(normalised) > MAX_ADDRESS:
            # The audit trail and a list's "handed in by" hold an address in 200 characters.
            raise InvalidInput(msg("An e-mail address is at most %(n)s characters.", n=MAX_ADDRESS))
        if normalised not in clean:
            clean.append(normalised)
    return clean


def _view(board: Board) -> BoardView:
    return BoardView(
        number=board.number,
        name=board.name,
        recipients=list(board.recipients),
        removal_threshold_percent=board.removal_threshold_percent,
        removal_threshold_count=board.removal_threshold_count,
        followup_weeks=board.followup_weeks,
    )


def get_board(session: Session, number: str) -> Board:
    board = stored.board_by_number(session, check_board_number(number))
    if board is None:
        raise NotFound(f"there is no board {number}; add it with `vogscreen board add`")
    return board


def add_board(app: App, number: str, name: str, recipients: Sequence[str]) -> BoardView:
    number = check_board_number(number)
    check_board_name(name)
    if not name.strip():
        raise InvalidInput("a board needs a name")
    if not recipients:
        raise InvalidInput("a board needs at least one HR recipient (--notify)")
    addresses = normalise_recipients(recipients)
    with transaction(app.sessions) as session:
        if stored.board_exists(session, number):
            raise StateConflict(f"board {number} already exists; change it with `board set`")
        board = stored.add_board(session, number, name.strip(), addresses, app.now())
        audit.record(
            session,
            at=app.now(),
            actor=app.settings.actor,
            action="board.added",
            entity="board",
            entity_id=number,
            board_id=board.id,
            recipients=len(addresses),
        )
        return _view(board)


def list_boards(app: App) -> list[BoardView]:
    with app.sessions() as session:
        return [_view(b) for b in stored.all_boards(session)]


def show_board(app: App, number: str) -> BoardView:
    with app.sessions() as session:
        return _view(get_board(session, number))


def update_board(
    app: App,
    number: str,
    *,
    name: str | None = None,
    recipients: Sequence[str] | None = None,
    add_recipients: Sequence[str] = (),
    remove_recipients: Sequence[str] = (),
    removal_threshold_percent: int | None = None,
    removal_threshold_count: int | None = None,
    followup_weeks: int | None = None,
) -> BoardView:
    if removal_threshold_percent is not None and not 0 <= removal_threshold_percent <= 100:
        raise InvalidInput("the removal threshold percentage must be between 0 and 100")
    if removal_threshold_count is not None and removal_threshold_count < 0:
        raise InvalidInput("the removal threshold count cannot be negative")
    if followup_weeks is not None and not 1 <= followup_weeks <= 52:
        raise InvalidInput("the follow-up period must be between 1 and 52 weeks")
    with transaction(app.sessions) as session:
        board = get_board(session, number)
        changed: dict[str, object] = {}
        current = _recipients(board, recipients, add_recipients, remove_recipients)
        if current != board.recipients:
            _end_logins(session, board, current, app.now())
            board.recipients = current
            changed["recipients"] = len(current)
        if name is not None:
            check_board_name(name)
        if name is not None and name.strip() and name.strip() != board.name:
            board.name = name.strip()
            changed["name"] = True
        for attribute, value in (
            ("removal_threshold_percent", removal_threshold_percent),
            ("removal_threshold_count", removal_threshold_count),
            ("followup_weeks", followup_weeks),
        ):
            if value is not None and getattr(board, attribute) != value:
                setattr(board, attribute, value)
                changed[attribute] = value
        if changed:
            audit.record(
                session,
                at=app.now(),
                actor=app.settings.actor,
                action="board.changed",
                entity="board",
                entity_id=board.number,
                board_id=board.id,
                **changed,
            )
        return _view(board)


def _recipients(
    board: Board,
    recipients: Sequence[str] | None,
    add_recipients: Sequence[str],
    remove_recipients: Sequence[str],
) -> list[str]:
    """The board's recipients after a change: replaced, then some added, some removed."""
    current = list(board.recipients)
    if recipients is not None:
        current = normalise_recipients(recipients)
    for address in normalise_recipients(add_recipients):
        if address not in current:
            current.append(address)
    for address in normalise_recipients(remove_recipients):
        if address not in current:
            raise InvalidInput(f"{address} is not a recipient of board {board.number}")
        current.remove(address)
    if not current:
        raise InvalidInput("a board must keep at least one HR recipient")
    return current


def add_recipient(app: App, number: str, address: str, who: str) -> BoardView:
    """Add an HR address to the board's recipients (already there: nothing changes)."""
    (normalised,) = normalise_recipients([address])
    with transaction(app.sessions) as session:
        board = get_board(session, number)
        if normalised not in board.recipients:
            board.recipients = [*board.recipients, normalised]
            _audit_recipient(app, session, board, "board.recipient_added", normalised, who)
        return _view(board)


def remove_recipient(app: App, number: str, address: str, who: str) -> BoardView:
    """Remove an HR address from the board's recipients; the last one stays."""
    (normalised,) = normalise_recipients([address])
    with transaction(app.sessions) as session:
        board = get_board(session, number)
        if normalised not in board.recipients:
            raise NotFound(f"{normalised} is not a recipient of board {board.number}")
        if len(board.recipients) == 1:
            raise StateConflict(
                msg("The last address cannot be removed: a board keeps at least one.")
            )
        kept = [address for address in board.recipients if address != normalised]
        _end_logins(session, board, kept, app.now())
        board.recipients = kept
        _audit_recipient(app, session, board, "board.recipient_removed", normalised, who)
        return _view(board)


def _end_logins(session: Session, board: Board, kept: Sequence[str], now: dt.datetime) -> None:
    """End the portal sessions and unused login links of the addresses that ``kept`` no
    longer lists: an address removed and later added back must log in again."""
    still = {address.casefold() for address in kept}
    gone = [address for address in board.recipients if str(address).casefold() not in still]
    logins.end_for_addresses(session, board.id, gone, now)


def _audit_recipient(
    app: App, session: Session, board: Board, action: str, address: str, who: str
) -> None:
    audit.record(
        session,
        at=app.now(),
        actor=who,
        action=action,
        entity="board",
        entity_id=board.number,
        board_id=board.id,
        address=address,
        recipients=len(board.recipients),
    )
