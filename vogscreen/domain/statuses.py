"""Every status and outcome vogscreen stores or reports, each vocabulary defined once.

The values are the words in the database and in the documented JSON; a ``StrEnum``
member *is* its string, so it compares, binds and serialises as that word. Nothing else
in the package spells one of these words out.

::

    StaffListStatus      a staff list's life: pending → applied | superseded;
                         held → pending (confirmed) | discarded; rejected (never stored rows)
    UploadOutcome        what one upload came to (``status`` in the upload report)
    HoldReason           why a list is held (``hold`` in the report)
    SubscriptionStatus   pending → active → ending → ended; failed when refused
    Operation            an authority outbox row's kind
    OutboxStatus         pending → done | rejected | cancelled (never sent)
    PlanAction           what the subscription planner decides for one person
    CaseStatus           open → resolved
    CaseOutcome          how a case was resolved
    NotificationKind     which letter a notification sends
    NotificationStatus   pending → sent | failed
    RunOutcome           one job run: running → ok | failed | busy | stopped | abandoned

``tests/unit/test_statuses.py`` fails when a status word is spelled out anywhere else.
"""

from __future__ import annotations

from enum import StrEnum


class StaffListStatus(StrEnum):
    PENDING = "pending"  # accepted, waiting to be applied
    APPLIED = "applied"
    HELD = "held"  # waits for an operator's (or the board's) confirm or reject
    DISCARDED = "discarded"  # rejected after a hold
    SUPERSEDED = "superseded"  # a newer list of the board won before this one was applied
    REJECTED = "rejected"  # an invalid file, stored without rows


# The lists that still count for a board: its newest of these is its current staff.
LIVE_LIST_STATUSES = (StaffListStatus.PENDING, StaffListStatus.APPLIED, StaffListStatus.HELD)


class UploadOutcome(StrEnum):
    """An upload's ``status`` in its report. An accepted list is stored as ``pending``
    (it waits for the next reconcile); the report tells the board what happened to its
    file, the list's status what happens next. :data:`STORED_AS` maps one to the other."""

    ACCEPTED = "accepted"
    UNCHANGED = "unchanged"
    HELD = "held"
    REJECTED = "rejected"


STORED_AS = {
    UploadOutcome.ACCEPTED: StaffListStatus.PENDING,
    UploadOutcome.HELD: StaffListStatus.HELD,
    UploadOutcome.REJECTED: StaffListStatus.REJECTED,
}


class HoldReason(StrEnum):
    REMOVALS = "removals"  # it would end more employments than the board's threshold
    OLDER_FILE = "older_file"  # the file was saved before the list already applied
    OTHER_BOARD = "other_board"  # it names schools of another board
    # it names a person vogscreen knows (from another board) with another birth date
    KNOWN_PERSON = "known_person"


# Held lists that only an operator may confirm: the board itself could be the one that
# should not have them (another board's list, or a guess at someone's birth date).
OPERATOR_HOLDS = frozenset({HoldReason.OTHER_BOARD, HoldReason.KNOWN_PERSON})


class SubscriptionStatus(StrEnum):
    PENDING = "pending"  # subscribe queued, not yet confirmed by the authority
    ACTIVE = "active"  # confirmed by the authority
    ENDING = "ending"  # unsubscribe queued
    ENDED = "ended"
    FAILED = "failed"  # the authority refused the subscribe (unknown BSN, birth date mismatch)


class Operation(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # queued, or in flight (``sent_at`` set)
    DONE = "done"
    REJECTED = "rejected"  # the authority refused this item
    CANCELLED = "cancelled"  # never sent, no longer wanted


class PlanAction(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    CANCEL = "cancel"  # a subscribe never sent, no longer wanted
    CLOSE = "close"  # a refused subscription of someone no longer employed


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CaseOutcome(StrEnum):
    NEW_VOG = "new_vog"
    EMPLOYMENT_ENDED = "employment_ended"
    OTHER = "other"


class NotificationKind(StrEnum):
    HIT = "hit"
    REMINDER = "reminder"
    # Letters about the board's own data, with no case: a rejected or held staff list, a
    # person the authority refused (unknown BSN, birth date that does not match).
    LIST_REJECTED = "list_rejected"
    LIST_HELD = "list_held"
    PERSON_REFUSED = "person_refused"


class LoginMethod(StrEnum):
    """How a portal session was opened. Only the e-mail link exists; an OIDC login (through
    an eHerkenning broker) is the planned second method, next to it."""

    EMAIL_LINK = "email_link"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # could not be composed or was refused for good


class RunOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    BUSY = "busy"  # the board's lease was held
    STOPPED = "stopped"  # SIGTERM or Ctrl+C
    ABANDONED = "abandoned"  # its process died; recorded when another run took over


class AnswerField(StrEnum):
    """Fields of the authority's answers that are spelled like statuses: ``ok`` of one
    item's answer (on the wire and as the mock authority records it), ``applied`` of the
    mock authority server's stats (how often each idempotency key was applied)."""

    OK = "ok"
    APPLIED = "applied"


class FiledAs(StrEnum):
    """The drop folder's folders a handed-in file is moved into, beside its report."""

    DONE = "done"  # accepted, unchanged or held
    REJECTED = "rejected"  # rejected, or refused unread
