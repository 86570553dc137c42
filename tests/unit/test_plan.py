"""The plan is a pure function: plain values in, actions out."""

from __future__ import annotations

import datetime as dt

from vogscreen.domain.plan import Current, Desired, diff_board
from vogscreen.domain.terms import Terms

TODAY = dt.date(2026, 6, 1)


def terms(number: str, *, end: dt.date | None = None, function: str = "leerkracht") -> Terms:
    return Terms(number, "12AB", function, dt.date(2020, 8, 1), end, None)


def test_joiners_leavers_changes_and_the_unchanged_are_told_apart() -> None:
    current = [
        Current(1, "anna", terms("P1")),
        Current(2, "bert", terms("P2")),
        Current(3, "carla", terms("P3")),
    ]
    desired = [
        Desired("anna", terms("P1")),
        Desired("carla", terms("P3", function="directeur")),
        Desired("daan", terms("P4")),
    ]
    diff = diff_board(desired, current, TODAY)
    assert [row.person for row in diff.start] == ["daan"]
    assert [employment.person for employment in diff.end] == ["bert"]
    assert [(e.person, d.terms.function) for e, d in diff.update] == [("carla", "directeur")]
    assert [e.person for e, _ in diff.unchanged] == ["anna"]
    assert diff.counts() == {"new": 1, "leaving": 1, "changed": 1, "unchanged": 1}


def test_a_row_with_a_past_end_date_counts_as_leaving_and_a_future_one_does_not() -> None:
    current = [Current(1, "anna", terms("P1")), Current(2, "bert", terms("P2"))]
    desired = [
        Desired("anna", terms("P1", end=TODAY - dt.timedelta(days=1))),
        Desired("bert", terms("P2", end=TODAY + dt.timedelta(days=30))),
        Desired("eva", terms("P5", end=TODAY - dt.timedelta(days=3))),
    ]
    diff = diff_board(desired, current, TODAY)
    assert [employment.person for employment in diff.end] == ["anna"]
    assert [e.person for e, _ in diff.update] == ["bert"]
    assert diff.start == []  # a person who already left is not started
