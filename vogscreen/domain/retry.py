"""Retrying the authority: only what is transient, with tenacity, one log line per attempt.

A :data:`RetryPolicy` builds a fresh ``tenacity.Retrying`` for each call; tests inject
``retry_policy(stop_after_attempt(2), wait_none())``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import structlog
import tenacity

from vogscreen.domain.errors import AuthorityUnavailable

log = structlog.get_logger(__name__)

RetryPolicy = Callable[[], tenacity.Retrying]


def wait_for_authority(state: tenacity.RetryCallState) -> float:
    """Honour the authority's Retry-After; otherwise back off exponentially."""
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, AuthorityUnavailable) and error.retry_after is not None:
        return min(error.retry_after, 60.0)
    return float(tenacity.wait_exponential(multiplier=0.5, max=10)(state))


def _log_attempt(state: tenacity.RetryCallState) -> None:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    log.warning(
        "authority.retry",
        attempt=state.attempt_number,
        error=str(error),
        wait_s=round(state.upcoming_sleep, 2),
    )


def retry_policy(stop: tenacity.stop.stop_base, wait: tenacity.wait.WaitBaseT) -> RetryPolicy:
    """A policy with injected stop and wait (tests pass stop_after_attempt(2), wait_none())."""
    return lambda: tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(AuthorityUnavailable),
        stop=stop,
        wait=wait,
        before_sleep=_log_attempt,
        reraise=True,
    )


# Four attempts, honouring Retry-After: what every run uses unless a test injects its own.
default_retry_policy: RetryPolicy = retry_policy(tenacity.stop_after_attempt(4), wait_for_authority)


def backoff(attempts: int) -> dt.timedelta:
    """How long a failed operation waits before the next run tries it: 1, 2, 4 … 60 min."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))
