"""Small helpers shared by the reconciliation tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tenacity
from sqlalchemy import func, select

from vogscreen.domain.errors import AuthorityMisconfigured, AuthorityUnavailable
from vogscreen.domain.retry import retry_policy
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.upload_report import UploadReport
from vogscreen.ports.authority import (
    HitPage,
    ItemResult,
    SubscribeItem,
    SubscriptionPage,
    UnsubscribeItem,
)
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import Subscription
from vogscreen.testing import FakeEmployee, staff_csv

# Retries without waiting, so a test of a failing authority takes no time.
FAST = retry_policy(tenacity.stop_after_attempt(2), tenacity.wait_none())


def hand_in(
    app: App, board: str, employees: Sequence[FakeEmployee], tmp_path: Path
) -> UploadReport:
    path = tmp_path / f"staff-{board}-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text(staff_csv(employees))
    return upload(app, board, path)


def subscription_states(app: App) -> dict[int, str]:
    with app.sessions() as session:
        return dict(session.execute(select(Subscription.person_id, Subscription.status)).all())


def count_rows(app: App, model: type) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


class FlakyAuthority:
    """A screening authority that fails on command, in front of a real one (through the port)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failures: list[Exception] = []
        self.writes = 0

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]:
        self._maybe_fail()
        self.writes += 1
        return list(self.inner.subscribe(items))

    def unsubscribe(self, items: Sequence[UnsubscribeItem]) -> list[ItemResult]:
        self._maybe_fail()
        self.writes += 1
        return list(self.inner.unsubscribe(items))

    def list_subscriptions(self, page: str | None = None) -> SubscriptionPage:
        return self.inner.list_subscriptions(page)  # type: ignore[no-any-return]

    def fetch_hits(self, cursor: str | None = None) -> HitPage:
        return self.inner.fetch_hits(cursor)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.inner.close()


def unavailable(retry_after: float | None = None) -> AuthorityUnavailable:
    return AuthorityUnavailable("the authority answered 503", retry_after=retry_after)


def misconfigured() -> AuthorityMisconfigured:
    return AuthorityMisconfigured("the authority answered 401: check the token")


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
