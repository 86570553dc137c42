"""A page of hits is routed as a whole: every hit to every employing board, once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import func, select

from tests.followup_helpers import BOARD_A, BOARD_B, two_boards_with_a_shared_teacher
from tests.reconcile_helpers import FlakyAuthority
from tests.smtp_server import Inbox, smtp_server
from vogscreen.adapters.mock import MockAuthority
from vogscreen.pipeline.followup import list_cases
from vogscreen.pipeline.hits import list_hits, poll
from vogscreen.pipeline.notify import notify
from vogscreen.ports.authority import HitInfo, HitPage
from vogscreen.runtime.authorities import subscription_ref_of
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent, Notification


class ScriptedHits(FlakyAuthority):
    """An authority whose hit feed is a fixed page per cursor, repeats and all."""

    def __init__(self, inner: MockAuthority, pages: dict[str | None, HitPage]) -> None:
        super().__init__(inner)
        self.pages = pages

    def fetch_hits(self, cursor: str | None = None) -> HitPage:
        return self.pages[cursor]


def audited(app: App, action: str) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0)


def test_a_page_routes_each_hit_to_its_boards_once_however_often_it_is_delivered(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    staff_a, staff_b, shared_at_b = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    now = app.now()

    def hit(hit_id: str, board: str, personeelsnummer: str) -> HitInfo:
        return HitInfo(hit_id, subscription_ref_of(app, board, personeelsnummer), now)

    shared = hit("H-1", BOARD_A, staff_a[0].personeelsnummer)  # employed at both boards
    only_a = hit("H-2", BOARD_A, staff_a[1].personeelsnummer)
    unknown = HitInfo("H-3", "not-a-subscription-of-ours", now)
    only_b = hit("H-4", BOARD_B, staff_b[1].personeelsnummer)
    authority = ScriptedHits(
        mock,
        {
            None: HitPage((shared, only_a, shared, unknown), cursor="1", has_more=True),
            "1": HitPage((only_a, only_b), cursor="2", has_more=False),
            "2": HitPage((only_b, shared), cursor="3", has_more=False),  # delivered again
        },
    )

    first = poll(app, authority)
    assert first.as_dict() == {
        "pages": 2,
        "received": 6,
        "new": 4,
        "routed": 3,
        "unrouted": 1,
        "cases": 4,
    }
    again = poll(app, authority)
    assert (again.received, again.new, again.cases) == (2, 0, 0)

    cases = {(view.board, view.personeelsnummer) for view in list_cases(app)}
    assert cases == {
        (BOARD_A, staff_a[0].personeelsnummer),
        (BOARD_B, shared_at_b.personeelsnummer),
        (BOARD_A, staff_a[1].personeelsnummer),
        (BOARD_B, staff_b[1].personeelsnummer),
    }
    assert {hit["authority_hit_id"] for hit in list_hits(app, unrouted=True)} == {"H-3"}
    assert (audited(app, "hit.routed"), audited(app, "case.opened")) == (3, 4)
    with app.sessions() as session:
        keys = session.scalars(select(Notification.dedup_key)).all()
    assert len(keys) == len(set(keys)) == 4


def test_every_routed_hit_of_a_page_is_emailed_to_each_board_once(
    app: App, mock: MockAuthority, tmp_path: Path
) -> None:
    staff_a, staff_b, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    for person in staff_a:
        mock.raise_hit(subscription_ref_of(app, BOARD_A, person.personeelsnummer))
    for person in staff_b[:3]:
        mock.raise_hit(subscription_ref_of(app, BOARD_B, person.personeelsnummer))
    polled = poll(app, mock)
    # Six at board A, one of them also at board B, and three more at board B.
    assert (polled.new, polled.routed, polled.cases) == (9, 9, 10)
    with smtp_server() as (inbox, port):
        app.settings = dataclasses.replace(app.settings, smtp_url=f"smtp://127.0.0.1:{port}")
        assert notify(app, limit=4).sent == 4  # a limit is kept across candidate batches
        assert notify(app).sent == 6
        assert notify(app).sent == 0
    assert_each_once(inbox, 10)


def assert_each_once(inbox: Inbox, count: int) -> None:
    ids = inbox.message_ids()
    assert len(ids) == len(set(ids)) == count
    recipients = [tuple(rcpts) for _, rcpts in inbox.envelopes]
    assert recipients.count(("personeel@zuiderzon.nl",)) == 4
    assert recipients.count(("hr@noorderlicht.nl", "po@noorderlicht.nl")) == 6
