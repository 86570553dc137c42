"""``vogscreen validate``: compare our subscriptions with the authority's list.

The periodic validation of FBI Rap Back: page through every subscription the authority
holds and compare it with ours. *Missing* is active with us but unknown to the authority;
*unknown* is held by the authority but not active with us. ``repair`` re-subscribes the
missing (through the outbox, so it is recorded and retried like any other operation) and
cancels the unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from vogscreen.domain.retry import RetryPolicy, default_retry_policy
from vogscreen.pipeline.authority_sync import drain
from vogscreen.ports.authority import ScreeningAuthority, UnsubscribeItem
from vogscreen.runtime.bootstrap import App
from vogscreen.store import audit
from vogscreen.store.bulk import chunks
from vogscreen.store.database import transaction
from vogscreen.store.subscriptions import active_references, mark_ended, sync_people

log = structlog.get_logger(__name__)


@dataclass
class ValidationReport:
    authority: int
    ours: int
    missing: int
    unknown: int
    resubscribed: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "authority": self.authority,
            "ours": self.ours,
            "missing": self.missing,
            "unknown": self.unknown,
            "resubscribed": self.resubscribed,
            "cancelled": self.cancelled,
        }


def authority_refs(authority: ScreeningAuthority, retry: RetryPolicy) -> set[str]:
    refs: set[str] = set()
    page: str | None = None
    while True:
        result = retry()(authority.list_subscriptions, page)
        refs.update(item.subscription_ref for item in result.items)
        if result.next_page is None:
            return refs
        page = result.next_page


def validate(
    app: App,
    authority: ScreeningAuthority,
    *,
    repair: bool = False,
    retry: RetryPolicy = default_retry_policy,
) -> ValidationReport:
    theirs = authority_refs(authority, retry)
    with app.sessions() as session:
        ours = active_references(session)
    missing = [person for ref, person in ours.items() if ref not in theirs]
    unknown = sorted(theirs - set(ours))
    report = ValidationReport(len(theirs), len(ours), len(missing), len(unknown))
    if repair and (missing or unknown):
        now = app.now()
        with transaction(app.sessions) as session:
            # Mark the lost subscriptions ended; the planner then subscribes these people
            # again with a fresh generation, through the outbox.
            mark_ended(session, missing)
            report.resubscribed = sync_people(session, missing, now).subscribe
            audit.record(
                session,
                at=now,
                actor=app.settings.actor,
                action="validation.repaired",
                entity="subscription",
                missing=len(missing),
                unknown=len(unknown),
            )
        if unknown:
            for refs in chunks(unknown, 1000):
                items = [UnsubscribeItem(f"cancel-unknown:{ref}", ref) for ref in refs]
                results = retry()(authority.unsubscribe, items)
                report.cancelled += sum(1 for result in results if result.ok)
        drain(app, authority, retry=retry)
    log.info("validation.done", **report.as_dict())
    return report
