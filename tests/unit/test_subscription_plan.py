"""The subscription planner and the removal guard, with plain values: no database."""

from __future__ import annotations

import pytest

from tests.texts import en
from vogscreen.domain.plan import (
    PersonState,
    SubscriptionAction,
    plan_subscriptions,
    removal_guard,
)
from vogscreen.domain.statuses import PlanAction, SubscriptionStatus


def plan(state: PersonState) -> list[SubscriptionAction]:
    return plan_subscriptions([state])


# -- plan_subscriptions -------------------------------------------------------------------


def test_someone_employed_without_a_subscription_is_subscribed_as_generation_one() -> None:
    assert plan(PersonState(person_id=1, employed=True)) == [
        SubscriptionAction(PlanAction.SUBSCRIBE, 1, 1)
    ]


@pytest.mark.parametrize("status", [SubscriptionStatus.ENDED, SubscriptionStatus.ENDING])
def test_someone_employed_again_after_an_ended_or_ending_subscription_gets_the_next_generation(
    status: SubscriptionStatus,
) -> None:
    state = PersonState(person_id=7, employed=True, status=status, generation=3)
    assert plan(state) == [SubscriptionAction(PlanAction.SUBSCRIBE, 7, 4)]


@pytest.mark.parametrize("status", [SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE])
def test_someone_employed_and_subscribed_needs_nothing(status: SubscriptionStatus) -> None:
    assert plan(PersonState(person_id=1, employed=True, status=status, generation=1)) == []


def test_a_leaver_whose_subscribe_was_never_sent_has_it_cancelled_instead_of_unsubscribed() -> None:
    state = PersonState(
        person_id=2,
        employed=False,
        status=SubscriptionStatus.PENDING,
        generation=1,
        unsent_subscribe=41,
    )
    assert plan(state) == [SubscriptionAction(PlanAction.CANCEL, 2, 1, 41)]


def test_a_leaver_whose_pending_subscribe_has_been_sent_is_unsubscribed() -> None:
    state = PersonState(
        person_id=2, employed=False, status=SubscriptionStatus.PENDING, generation=2
    )
    assert plan(state) == [SubscriptionAction(PlanAction.UNSUBSCRIBE, 2, 2)]


def test_a_leaver_with_an_active_subscription_is_unsubscribed_in_its_generation() -> None:
    state = PersonState(person_id=3, employed=False, status=SubscriptionStatus.ACTIVE, generation=5)
    assert plan(state) == [SubscriptionAction(PlanAction.UNSUBSCRIBE, 3, 5)]


def test_an_active_subscription_is_unsubscribed_even_if_an_unsent_subscribe_is_known() -> None:
    # Only a pending subscription's subscribe can still be held back.
    state = PersonState(
        person_id=3,
        employed=False,
        status=SubscriptionStatus.ACTIVE,
        generation=1,
        unsent_subscribe=9,
    )
    assert plan(state) == [SubscriptionAction(PlanAction.UNSUBSCRIBE, 3, 1)]


def test_a_refused_subscription_of_someone_no_longer_employed_is_closed() -> None:
    state = PersonState(person_id=4, employed=False, status=SubscriptionStatus.FAILED, generation=1)
    assert plan(state) == [SubscriptionAction(PlanAction.CLOSE, 4, 1)]


def test_a_refused_subscription_of_someone_still_employed_is_left_for_the_operator() -> None:
    state = PersonState(person_id=4, employed=True, status=SubscriptionStatus.FAILED, generation=1)
    assert plan(state) == []


@pytest.mark.parametrize("status", [None, SubscriptionStatus.ENDED, SubscriptionStatus.ENDING])
def test_someone_not_employed_and_not_subscribed_needs_nothing(
    status: SubscriptionStatus | None,
) -> None:
    assert plan(PersonState(person_id=5, employed=False, status=status, generation=1)) == []


def test_each_person_is_planned_on_their_own_in_the_order_given() -> None:
    states = [
        PersonState(person_id=9, employed=True),
        PersonState(person_id=8, employed=False, status=SubscriptionStatus.ACTIVE, generation=1),
        PersonState(person_id=7, employed=True, status=SubscriptionStatus.ACTIVE, generation=1),
    ]
    assert plan_subscriptions(states) == [
        SubscriptionAction(PlanAction.SUBSCRIBE, 9, 1),
        SubscriptionAction(PlanAction.UNSUBSCRIBE, 8, 1),
    ]


def test_nobody_to_plan_means_nothing_to_do() -> None:
    assert plan_subscriptions([]) == []


# -- removal_guard ------------------------------------------------------------------------
# The board's thresholds here: more than 10 % and more than 5 employments.


def test_a_list_ending_more_than_both_thresholds_is_held_and_says_why() -> None:
    reason = removal_guard(ending=20, current=100, percent=10, count=5)
    assert reason is not None
    assert "20 of the board's 100" in en(reason) and "(20%)" in en(reason)
    assert "more than 10%" in en(reason) and "more than 5" in en(reason)
    assert "20 van de 100" in reason.render("nl") and "meer dan 10%" in reason.render("nl")


def test_a_list_over_the_percentage_but_not_the_count_is_applied() -> None:
    assert removal_guard(ending=5, current=10, percent=10, count=5) is None


def test_a_list_over_the_count_but_not_the_percentage_is_applied() -> None:
    assert removal_guard(ending=50, current=1000, percent=10, count=5) is None


def test_ending_exactly_the_percentage_is_not_more_than_it() -> None:
    assert removal_guard(ending=10, current=100, percent=10, count=5) is None
    assert removal_guard(ending=11, current=100, percent=10, count=5) is not None


def test_ending_exactly_the_count_is_not_more_than_it() -> None:
    assert removal_guard(ending=6, current=10, percent=10, count=6) is None
    assert removal_guard(ending=7, current=10, percent=10, count=6) is not None


def test_a_list_ending_nothing_is_never_held() -> None:
    assert removal_guard(ending=0, current=100, percent=0, count=0) is None


def test_a_board_without_current_employments_reports_a_share_of_100_percent() -> None:
    # Nothing current to end: the share is taken as all of it, and the count decides.
    reason = removal_guard(ending=6, current=0, percent=10, count=5)
    assert reason is not None and "of the board's 0" in en(reason) and "(100%)" in en(reason)
    assert removal_guard(ending=5, current=0, percent=10, count=5) is None
