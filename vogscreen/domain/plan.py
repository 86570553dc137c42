"""The reconciliation plan: desired state against current state, as a pure function.

Nothing here touches a database or the network; the services load plain values, call
these functions and carry out what they return. Tests call them with plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from vogscreen.domain.language import Text, msg
from vogscreen.domain.statuses import HoldReason, PlanAction, SubscriptionStatus
from vogscreen.domain.terms import Terms

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Desired(Generic[K]):
    person: K
    terms: Terms


@dataclass(frozen=True, slots=True)
class Current(Generic[K]):
    employment_id: int
    person: K
    terms: Terms


@dataclass
class BoardDiff(Generic[K]):
    start: list[Desired[K]] = field(default_factory=list)
    end: list[Current[K]] = field(default_factory=list)
    update: list[tuple[Current[K], Desired[K]]] = field(default_factory=list)
    unchanged: list[tuple[Current[K], Desired[K]]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.start),
            "leaving": len(self.end),
            "changed": len(self.update),
            "unchanged": len(self.unchanged),
        }


def diff_board(
    desired: Iterable[Desired[K]], current: Iterable[Current[K]], today: dt.date
) -> BoardDiff[K]:
    """Compare one board's staff list with its current employments.

    A row whose ``datum_uit_dienst`` lies in the past counts as leaving: it ends a current
    employment and starts none.
    """
    diff: BoardDiff[K] = BoardDiff()
    wanted = {row.person: row for row in desired if not row.terms.has_ended(today)}
    for employment in current:
        row = wanted.pop(employment.person, None)
        if row is None:
            diff.end.append(employment)
        elif row.terms == employment.terms:
            diff.unchanged.append((employment, row))
        else:
            diff.update.append((employment, row))
    diff.start.extend(wanted.values())
    return diff


@dataclass(frozen=True, slots=True)
class Preview:
    counts: dict[str, int]
    ending: int
    current: int
    # The comparison the counts come from: who is new, leaving or changed.
    diff: BoardDiff[Any] | None = None


def preview_counts(diff: BoardDiff[Any], current: int) -> Preview:
    """Counts of a diff that may cover only the changed part of a board (``current`` is all)."""
    counts = diff.counts()
    counts["unchanged"] = current - len(diff.end) - len(diff.update)
    return Preview(counts, len(diff.end), current, diff)


def removal_guard(ending: int, current: int, percent: int, count: int) -> Text | None:
    """Why a staff list must be held, or None when it may be applied.

    A list is held when it would end more than ``percent`` % **and** more than ``count`` of
    the board's current employments: a truncated export must not unsubscribe half a board.
    """
    if ending > count and ending * 100 > percent * current:
        share = round(ending * 100 / current) if current else 100
        return msg(
            "it would end %(ending)s of the board's %(current)s current employments "
            "(%(share)s%%), more than %(percent)s%% and more than %(count)s",
            ending=ending,
            current=current,
            share=share,
            percent=percent,
            count=count,
        )
    return None


def stored_reason(reason: Text | None) -> dict[str, Any]:
    """A hold reason as a list's stored report keeps it: ``reason`` in English for the
    operators' commands, ``reason_text`` to be read again in any language."""
    if reason is None:
        return {"reason": None}
    return {"reason": reason.render("en"), "reason_text": reason.as_dict()}


def reason_of(report: Mapping[str, Any]) -> Text | None:
    """The hold reason of a list's stored report, to be read in any language; a list held
    before reasons were stored as Text has its English reason only, shown as it is."""
    stored = report.get("reason_text")
    if stored:
        return Text.from_dict(stored)
    reason = report.get("reason")
    return Text(str(reason).replace("%", "%%")) if reason else None


# What the board does about a list held for each reason (the reason itself says why).
HOLD_HINTS: dict[HoldReason, Text] = {
    HoldReason.REMOVALS: msg(
        "Check that the file is complete. If these employees really are leaving, confirm "
        "the list; if the export is incomplete, reject it and hand in the complete list."
    ),
    HoldReason.OTHER_BOARD: msg(
        "Check that this is your board's file; if it is not, reject it and hand in your own "
        "list. If a school has moved to your board, ask vogscreen's operator to confirm "
        "the list."
    ),
    HoldReason.KNOWN_PERSON: msg(
        "Check the BSNs and birth dates on your list against your HR system. If you find a "
        "mistake, reject this list and hand in the corrected one; if the list is right, ask "
        "vogscreen's operator to confirm it."
    ),
    HoldReason.OLDER_FILE: msg(
        "Check that this is the newest export. If it is, confirm the list; otherwise "
        "reject it and hand in the newest list."
    ),
}


@dataclass(frozen=True, slots=True)
class PersonState:
    """What the subscription planner needs to know about one person."""

    person_id: int
    employed: bool
    status: SubscriptionStatus | None = None
    generation: int = 0
    unsent_subscribe: int | None = None  # outbox id of a subscribe never attempted


@dataclass(frozen=True, slots=True)
class SubscriptionAction:
    kind: PlanAction
    person_id: int
    generation: int
    outbox_id: int | None = None


def plan_subscriptions(states: Iterable[PersonState]) -> list[SubscriptionAction]:
    """Subscribe when the first employment anywhere starts; unsubscribe when the last ends.

    * employed, with no subscription (or an ended or ending one): subscribe, next generation;
    * not employed, subscribed: unsubscribe; when the subscribe was never sent, cancel it
      instead, so the authority never hears of a subscription that is no longer wanted;
    * not employed, refused by the authority: close the failed subscription;
    * a refused subscription of someone still employed is left for the operator: sending
      the same refused data again every night would change nothing.
    """
    actions = []
    for state in states:
        if state.employed and state.status in (
            None,
            SubscriptionStatus.ENDED,
            SubscriptionStatus.ENDING,
        ):
            actions.append(
                SubscriptionAction(PlanAction.SUBSCRIBE, state.person_id, state.generation + 1)
            )
        elif not state.employed and state.status in (
            SubscriptionStatus.PENDING,
            SubscriptionStatus.ACTIVE,
        ):
            if state.status == SubscriptionStatus.PENDING and state.unsent_subscribe is not None:
                actions.append(
                    SubscriptionAction(
                        PlanAction.CANCEL, state.person_id, state.generation, state.unsent_subscribe
                    )
                )
            else:
                actions.append(
                    SubscriptionAction(PlanAction.UNSUBSCRIBE, state.person_id, state.generation)
                )
        elif not state.employed and state.status == SubscriptionStatus.FAILED:
            actions.append(SubscriptionAction(PlanAction.CLOSE, state.person_id, state.generation))
    return actions
