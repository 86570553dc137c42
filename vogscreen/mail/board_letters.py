"""The letters about a board's own data: a rejected list, a held list, a refused person.

Each has a link into the portal, where the board sees the details and acts. None names a
BSN or a birth date: a refusal names the personeelsnummer and asks the board to check
the person's data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vogscreen.domain.language import DEFAULT_LANGUAGE, Text, msg, msg_n
from vogscreen.domain.plan import HOLD_HINTS
from vogscreen.domain.statuses import HoldReason, NotificationKind
from vogscreen.mail.compose import UNKNOWN, OutgoingMessage, default_templates, long_date

HELD_SUBJECT = msg("Your staff list is waiting for your confirmation")
REFUSED_SUBJECT = msg("Please check the details of personeelsnummer %(personeelsnummer)s")
HOLD_WHY: dict[str, Text] = {
    HoldReason.REMOVALS: msg(
        "The list would end more employments than the limit set for your board: many "
        "employees on your current list are missing from it."
    ),
    HoldReason.OLDER_FILE: msg(
        "The file was saved before the list that has already been applied, so it may be "
        "out of date."
    ),
    HoldReason.OTHER_BOARD: msg("The list names schools (BRIN numbers) of another board."),
    HoldReason.KNOWN_PERSON: msg(
        "Someone on the list is already known to vogscreen with another birth date."
    ),
}
HOLD_OTHER = msg("The list needs your confirmation before it is applied.")
HOLD_TODO = msg(
    "If the list is correct, confirm it. If it is not, reject it with a reason and hand in "
    "a corrected list."
)
_TODO: dict[str, Text] = {str(reason): hint for reason, hint in HOLD_HINTS.items()}
REFUSAL_WHY: dict[str, Text] = {
    "unknown_bsn": msg("The authority does not know the BSN on your staff list."),
    "birth_date_mismatch": msg(
        "The birth date on your staff list does not match what the authority has "
        "registered for this BSN."
    ),
}
REFUSAL_OTHER = msg("The authority refused the registration.")


@dataclass(frozen=True)
class BoardLetter:
    """What a letter about the board's own data says; which fields apply depends on kind."""

    kind: str
    board_name: str
    portal_link: str
    received: dt.date | None = None
    problems: int = 0
    hold: str | None = None
    person_name: str | None = None
    personeelsnummer: str | None = None
    refusal: str | None = None

    def subject(self, language: str = DEFAULT_LANGUAGE) -> str:
        if self.kind == NotificationKind.LIST_REJECTED:
            return msg_n(
                "Your staff list was rejected (%(n)s problem)",
                "Your staff list was rejected (%(n)s problems)",
                self.problems,
            ).render(language)
        if self.kind == NotificationKind.LIST_HELD:
            return HELD_SUBJECT.render(language)
        number = self.personeelsnummer or UNKNOWN.render(language)
        return Text(REFUSED_SUBJECT.msgid, {"personeelsnummer": number}).render(language)

    def template_values(self, language: str = DEFAULT_LANGUAGE) -> dict[str, object]:
        unknown = UNKNOWN.render(language)
        hold = HOLD_WHY.get(self.hold or "", HOLD_OTHER)
        refusal = REFUSAL_WHY.get(self.refusal or "", REFUSAL_OTHER)
        return {
            "board_name": self.board_name,
            "link": self.portal_link,
            "received": long_date(self.received, language) if self.received else unknown,
            "problems": self.problems,
            "why": (hold if self.kind == NotificationKind.LIST_HELD else refusal).render(language),
            # What to do about a held list: confirm or reject it, or (another board's
            # list, a person known elsewhere) ask the operator; as the portal says it.
            "todo": _TODO.get(self.hold or "", HOLD_TODO).render(language),
            "person_name": self.person_name or unknown,
            "personeelsnummer": self.personeelsnummer or unknown,
        }


def compose_board_letter(
    letter: BoardLetter,
    *,
    sender: str,
    recipients: list[str],
    message_id: str,
    reply_to: str | None,
    now: dt.datetime,
    language: str = DEFAULT_LANGUAGE,
) -> OutgoingMessage:
    return default_templates().message(
        letter.kind,
        letter.template_values(language),
        letter.subject(language),
        sender=sender,
        recipients=recipients,
        message_id=message_id,
        reply_to=reply_to,
        now=now,
        language=language,
    )
