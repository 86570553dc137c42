"""Only what is transient is retried, one log line per attempt (domain/retry)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import tenacity
from structlog.testing import capture_logs

from vogscreen.domain.errors import AuthorityMisconfigured, AuthorityUnavailable
from vogscreen.domain.retry import backoff, retry_policy, wait_for_authority


def _flaky(failures: list[Exception]) -> Callable[[], str]:
    def call() -> str:
        if failures:
            raise failures.pop(0)
        return "answered"

    return call


def test_a_transient_error_is_retried_with_one_log_line_per_attempt() -> None:
    policy = retry_policy(tenacity.stop_after_attempt(3), tenacity.wait_none())
    call = _flaky([AuthorityUnavailable("503"), AuthorityUnavailable("timeout")])
    with capture_logs() as events:
        answer = policy()(call)
    assert answer == "answered"
    retries = [e for e in events if e["event"] == "authority.retry"]
    assert [e["attempt"] for e in retries] == [1, 2]
    assert [e["error"] for e in retries] == ["503", "timeout"]
    assert all(e["log_level"] == "warning" for e in retries)


def test_a_misconfigured_authority_is_not_retried_and_logs_no_retry() -> None:
    policy = retry_policy(tenacity.stop_after_attempt(5), tenacity.wait_none())
    call = _flaky([AuthorityMisconfigured("401")])
    with capture_logs() as events, pytest.raises(AuthorityMisconfigured):
        policy()(call)
    assert [e for e in events if e["event"] == "authority.retry"] == []


def test_the_last_transient_error_is_raised_when_the_attempts_run_out() -> None:
    policy = retry_policy(tenacity.stop_after_attempt(2), tenacity.wait_none())
    call = _flaky([AuthorityUnavailable("first"), AuthorityUnavailable("second")])
    with capture_logs() as events, pytest.raises(AuthorityUnavailable, match="second"):
        policy()(call)
    assert len([e for e in events if e["event"] == "authority.retry"]) == 1


def test_retry_after_is_honoured_up_to_a_minute() -> None:
    def state_after(error: Exception) -> tenacity.RetryCallState:
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.set_exception((type(error), error, None))
        return state

    assert wait_for_authority(state_after(AuthorityUnavailable("429", retry_after=7))) == 7
    assert wait_for_authority(state_after(AuthorityUnavailable("429", retry_after=900))) == 60


def test_a_failed_operation_waits_longer_each_time_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() / 60 for n in (0, 1, 2, 3, 7, 30)] == [1, 1, 2, 4, 60, 60]
