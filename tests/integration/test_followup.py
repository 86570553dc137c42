"""Hits reach every employing board by email, over a real SMTP server; cases follow up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tenacity
from sqlalchemy import insert, select, update

from tests.followup_helpers import BOARD_A, BOARD_B, raise_hit, two_boards_with_a_shared_teacher
from tests.reconcile_helpers import hand_in
from tests.smtp_server import Inbox, free_port, smtp_server
from vogscreen.adapters.mock import MockAuthority, create
from vogscreen.domain.errors import AuthorityUnavailable, StateConflict
from vogscreen.domain.retry import retry_policy
from vogscreen.pipeline.followup import list_cases, remind, resolve
from vogscreen.pipeline.hits import list_hits, poll
from vogscreen.pipeline.notify import notify
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.status import status
from vogscreen.runtime.authorities import subscription_ref_of
from vogscreen.runtime.bootstrap import App
from vogscreen.store.models import AuditEvent, Lease, Notification
from vogscreen.testing import FakeClock
from vogscreen.testing.authority_schema import MockAuthorityHit


@pytest.fixture
def mock(app: App) -> Iterator[MockAuthority]:
    authority = create(app)
    yield authority
    authority.close()


@pytest.fixture
def smtp(app: App) -> Iterator[Inbox]:
    with smtp_server() as (inbox, port):
        app.settings = dataclasses.replace(app.settings, smtp_url=f"smtp://127.0.0.1:{port}")
        yield inbox


def bodies(message: object) -> tuple[str, str]:
    from email.message import EmailMessage

    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_a_hit_on_a_person_at_two_boards_gives_each_board_its_own_message(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path
) -> None:
    staff_a, _, shared_at_b = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)
    polled = poll(app, mock)
    assert (polled.new, polled.routed, polled.cases) == (1, 1, 2)
    summary = notify(app)
    assert (summary.sent, summary.failed) == (2, 0)

    by_recipient = {
        tuple(rcpts): message
        for (_, rcpts), message in zip(smtp.envelopes, smtp.messages, strict=True)
    }
    to_a = by_recipient[("hr@noorderlicht.nl", "po@noorderlicht.nl")]
    to_b = by_recipient[("personeel@zuiderzon.nl",)]
    text_a, html_a = bodies(to_a)
    text_b, html_b = bodies(to_b)
    assert "Stichting Noorderlicht" in text_a and "Zuiderzon" not in text_a + html_a
    assert staff_a[0].personeelsnummer in text_a and shared_at_b.personeelsnummer not in text_a
    assert shared_at_b.personeelsnummer in text_b and staff_a[0].personeelsnummer not in text_b
    assert "Vereniging Zuiderzon" in html_b
    for text, html in ((text_a, html_a), (text_b, html_b)):
        assert "screeningsprofiel 60" in text and "screeningsprofiel 60" in html
        assert "Verklaring Omtrent het Gedrag" in text
        assert "VS-" in text  # the case reference
    # Never a BSN or birth date, in any form, anywhere in the raw messages.
    person = staff_a[0]
    birth = person.birth_date
    forbidden = [
        person.bsn,
        f"{person.bsn[:4]}.{person.bsn[4:6]}.{person.bsn[6:]}",
        birth.isoformat(),
        birth.strftime("%d-%m-%Y"),
        birth.strftime("%d/%m/%Y"),
        f"{birth.day} ",
    ]
    for message in smtp.messages:
        raw = message.as_string()
        assert raw.count(person.bsn) == 0
        for value in forbidden[:5]:
            assert value not in raw
    assert to_a["Content-Language"] == "nl"
    assert all(message["Message-ID"].endswith("@vogscreen.invalid>") for message in smtp.messages)


def test_a_second_poll_and_notify_deliver_nothing_twice(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[2].personeelsnummer)
    poll(app, mock)
    notify(app)
    assert poll(app, mock).new == 0
    assert notify(app).sent == 0
    assert len(smtp.messages) == 1


def test_the_smtp_server_is_down_then_back_and_everything_arrives_once(
    app: App, mock: MockAuthority, tmp_path: Path, clock: FakeClock
) -> None:
    staff_a, staff_b, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)
    raise_hit(app, mock, BOARD_B, staff_b[1].personeelsnummer)
    poll(app, mock)
    port = free_port()
    app.settings = dataclasses.replace(app.settings, smtp_url=f"smtp://127.0.0.1:{port}")
    down = notify(app)  # nothing listens on the port: connection refused
    assert (down.sent, down.deferred) == (0, 1) and down.stopped
    assert status(app)["notifications"]["pending"] == 3
    with smtp_server(port) as (inbox, _):
        # The two never tried go now; the one that met the refused connection backs off.
        assert notify(app).sent == 2
        clock.advance(minutes=2)
        assert notify(app).sent == 1
        assert notify(app).sent == 0
    assert len(inbox.messages) == 3
    assert len(set(inbox.message_ids())) == 3


def test_a_permanently_refused_recipient_fails_that_message_and_the_others_go_out(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    smtp.refuse["personeel@zuiderzon.nl"] = "550 5.1.1 mailbox unknown"
    raise_hit(app, mock, BOARD_A, staff_a[0].personeelsnummer)
    poll(app, mock)
    summary = notify(app)
    assert (summary.sent, summary.failed) == (1, 1)
    assert "550" in summary.failures[0][1]
    assert status(app)["notifications"]["failed"] == 1
    assert len(smtp.messages) == 1
    assert notify(app).sent == 0  # a failed message is not retried by itself


def test_a_crash_after_the_send_and_before_the_mark_gives_at_most_one_recognisable_duplicate(
    app: App, mock: MockAuthority, tmp_path: Path, env: dict[str, str]
) -> None:
    staff_a, staff_b, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[1].personeelsnummer)
    raise_hit(app, mock, BOARD_B, staff_b[2].personeelsnummer)
    poll(app, mock)
    with smtp_server() as (inbox, port):
        command = [str(Path(sys.executable).parent / "vogscreen"), "notify"]
        child_env = {
            **env,
            "VOGSCREEN_SMTP_URL": f"smtp://127.0.0.1:{port}",
            # Long enough for the next command to start, however busy the machine, while
            # the dead run's lease still holds; the test then lets the lease run out.
            "VOGSCREEN_LEASE_SECONDS": "120",
            "PATH": "/usr/bin:/bin",
        }
        child = subprocess.Popen(
            command, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        inbox.kill_after_accepting = child.pid
        child.communicate(timeout=60)
        assert child.returncode == -9  # killed right after the server took the first message
        assert len(inbox.messages) == 1
        busy = subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=60)
        assert busy.returncode == 4  # the dead run's lease has not expired yet
        # Two minutes pass: the dead run's lease runs out (the commands run on real time).
        with app.sessions.begin() as session:
            session.execute(
                update(Lease).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
        done = subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        time.sleep(0.1)
    ids = inbox.message_ids()
    assert len(ids) == 3  # two messages, one of them twice
    assert len(set(ids)) == 2
    assert ids[0] == ids[1]  # the duplicate carries the same Message-ID


def test_a_hit_for_someone_nobody_employs_any_more_is_kept_unrouted(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    leaver = staff_a[3]
    ref = subscription_ref_of(app, BOARD_A, leaver.personeelsnummer)
    hand_in(app, BOARD_A, [e for e in staff_a if e is not leaver], tmp_path)
    reconcile(app, mock)  # unsubscribed at the authority...
    # ... which signals a record it found just before the unsubscribe (a race).
    with app.sessions.begin() as session:
        session.execute(
            insert(MockAuthorityHit).values(hit_id="H-late", ref=ref, raised_at=app.now())
        )
    summary = poll(app, mock)
    assert (summary.new, summary.unrouted) == (1, 1)
    assert [hit["authority_hit_id"] for hit in list_hits(app, unrouted=True)] == ["H-late"]
    assert status(app)["hits"]["unrouted"] == 1
    assert notify(app).sent == 0


def test_a_later_staff_list_closes_cases_for_leavers_and_for_a_new_vog(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path, clock: FakeClock
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    renewer, leaver, waiting = staff_a[1], staff_a[2], staff_a[3]
    for person in (renewer, leaver, waiting):
        raise_hit(app, mock, BOARD_A, person.personeelsnummer)
    poll(app, mock)
    assert status(app)["cases"]["open"] == 3
    clock.advance(days=20)
    today = app.today()
    next_list = [
        dataclasses.replace(e, vog_date=today - dt.timedelta(days=1)) if e is renewer else e
        for e in staff_a
        if e is not leaver
    ]
    hand_in(app, BOARD_A, next_list, tmp_path)
    reconcile(app, mock)
    outcomes = {view.personeelsnummer: (view.status, view.outcome) for view in list_cases(app)}
    assert outcomes[renewer.personeelsnummer] == ("resolved", "new_vog")
    assert outcomes[leaver.personeelsnummer] == ("resolved", "employment_ended")
    assert outcomes[waiting.personeelsnummer] == ("open", None)


def test_a_passed_datum_uit_dienst_closes_the_case_as_a_list_dropping_the_person_does(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path, clock: FakeClock
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    dropped, lapsing = staff_a[2], staff_a[3]
    for person in (dropped, lapsing):
        raise_hit(app, mock, BOARD_A, person.personeelsnummer)
    poll(app, mock)
    clock.advance(days=20)
    leaving_on = app.today() + dt.timedelta(days=3)
    next_list = [
        dataclasses.replace(e, end_date=leaving_on) if e is lapsing else e
        for e in staff_a
        if e is not dropped
    ]
    first = hand_in(app, BOARD_A, next_list, tmp_path)
    reconcile(app, mock)
    clock.advance(days=4)
    assert reconcile(app, mock).apply.lapsed == 1
    closed = {
        view.personeelsnummer: (view.status, view.outcome, view.resolved_by)
        for view in list_cases(app)
    }
    by = f"staff list {first.id}"
    assert closed[dropped.personeelsnummer] == ("resolved", "employment_ended", by)
    assert closed[lapsing.personeelsnummer] == ("resolved", "employment_ended", by)
    with app.sessions() as session:
        resolved = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "case.resolved")
        ).all()
    assert resolved == [{"outcome": "employment_ended"}] * 2


def test_a_case_is_resolved_by_hand_once(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[4].personeelsnummer)
    poll(app, mock)
    (case,) = list_cases(app, only_open=True)
    resolved = resolve(app, case.reference, "other", "hr@noorderlicht.nl")
    assert resolved.resolved_by == "hr@noorderlicht.nl"
    assert list_cases(app, only_open=True) == []
    with pytest.raises(StateConflict):
        resolve(app, case.reference, "new_vog")


def test_reminders_go_out_once_per_period_never_a_flood(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path, clock: FakeClock
) -> None:
    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    raise_hit(app, mock, BOARD_A, staff_a[5].personeelsnummer)
    poll(app, mock)
    notify(app)
    assert remind(app) == 0  # not open long enough
    clock.advance(days=14, hours=1)
    assert remind(app) == 1
    assert remind(app) == 0  # the same period: nothing more
    clock.advance(days=3)
    assert remind(app) == 0
    clock.advance(days=11)
    assert remind(app) == 1  # the next period
    assert notify(app).sent == 2
    subjects = [str(message["Subject"]) for message in smtp.messages]
    assert sum(subject.startswith("Herinnering") for subject in subjects) == 2
    with app.sessions() as session:
        kinds = session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["hit", "reminder", "reminder"]


def test_a_poll_that_fails_halfway_keeps_what_it_stored_and_resumes_there(
    app: App, mock: MockAuthority, smtp: Inbox, tmp_path: Path
) -> None:
    from tests.reconcile_helpers import FlakyAuthority, unavailable
    from vogscreen.adapters.mock import derive_key

    staff_a, _, _ = two_boards_with_a_shared_teacher(app, mock, tmp_path)
    for person in staff_a[1:6]:
        raise_hit(app, mock, BOARD_A, person.personeelsnummer)
    paged = MockAuthority(
        app.sessions, key=derive_key(app.vault.hmac_key), clock=app.clock, page_size=2
    )
    flaky = FlakyAuthority(paged)
    original = flaky.fetch_hits
    calls = {"n": 0}

    def fail_on_second_page(cursor: str | None = None) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise unavailable()
        return original(cursor)

    flaky.fetch_hits = fail_on_second_page  # type: ignore[method-assign,assignment]
    once = retry_policy(tenacity.stop_after_attempt(1), tenacity.wait_none())
    with pytest.raises(AuthorityUnavailable):
        poll(app, flaky, retry=once)
    assert len(list_hits(app)) == 2  # the first page is kept, with its cursor
    resumed = poll(app, paged)
    assert resumed.new == 3 and len(list_hits(app)) == 5
