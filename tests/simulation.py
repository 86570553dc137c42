"""A deterministic crash-and-fault simulation of the whole pipeline (issue 10).

In the manner of FoundationDB's simulation and TigerBeetle's VOPR: from one seed, a
``random.Random`` draws a scenario (boards, staff lists with joiners, leavers, people at
two boards, past and future end dates, changed terms, returns after retention), authority
faults (5xx, 429, applied-then-lost answers, answers missing items) and *crashes*, and
interleaves uploads, reconciles, drains, retention, hit polling, reminders and notify on
a moving :class:`~vogscreen.testing.FakeClock`. Everything runs through the real pipeline
functions on a real database, with the in-process mock authority.

A crash is a :class:`SimulatedCrash` (a ``BaseException``, so no ``except Exception`` of
ours can swallow it) that propagates out of the job, rolling back its open transaction;
the job is simply run again later, as a restarted worker would. Crashes come from three
seams, never from patching our code:

* the database: an engine listener raises before the n-th statement or commit of a job;
* the authority port: :class:`FaultyAuthority` raises after the inner authority applied a
  batch (or loses its answer, or answers only part of it);
* SMTP: :class:`SimMailer` raises after the server accepted a message, before the mark.

After every quiet period (faults off, jobs run until nothing is pending) the invariants
are checked: the authority screens exactly the persons with a current employment; every
idempotency key was applied at most once and names one operation; every hit opened
exactly one case per employing board; no notification was lost (and none was sent twice
without a crash to excuse it); no BSN or birth date reached a log event, report or email.

``./dev simulate --seeds 10000`` sweeps seeds; ``./dev simulate --seed S -v`` replays one,
with its trace. A failure prints its seed and the command that reproduces it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import structlog
import tenacity
from sqlalchemy import Engine, event, func, select

from vogscreen.adapters.mock import MockAuthority, derive_key
from vogscreen.domain.errors import AuthorityUnavailable, DeliveryError, StateConflict
from vogscreen.domain.retry import retry_policy
from vogscreen.domain.statuses import HoldReason, StaffListStatus, UploadOutcome
from vogscreen.mail.compose import OutgoingMessage
from vogscreen.pipeline.authority_check import validate
from vogscreen.pipeline.authority_sync import drain
from vogscreen.pipeline.boards import add_board, update_board
from vogscreen.pipeline.followup import remind
from vogscreen.pipeline.hits import poll
from vogscreen.pipeline.intake import upload
from vogscreen.pipeline.notify import notify
from vogscreen.pipeline.reconcile import confirm
from vogscreen.pipeline.reconcile import run as reconcile
from vogscreen.pipeline.retention import purge
from vogscreen.pipeline.status import status
from vogscreen.ports.authority import (
    HitPage,
    ItemResult,
    SubscribeItem,
    SubscriptionPage,
    UnsubscribeItem,
)
from vogscreen.runtime.bootstrap import App
from vogscreen.runtime.crypto import create_key_file, load_vault
from vogscreen.runtime.settings import load_settings
from vogscreen.store.database import make_engine, session_factory, upgrade
from vogscreen.store.models import (
    AuthorityOperation,
    Board,
    Case,
    Hit,
    Notification,
    Person,
    StaffList,
    Subscription,
)
from vogscreen.testing import FUNCTIONS, SURNAMES, FakeClock, FakeEmployee, bsn_stream, staff_csv

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
STEPS = 60
# How a failure's detail names the known defects, so a sweep can count them.
TAGS = ("[item 6", "[item 7", "[unrouted", "[retention")
# Retries without waiting: the simulated clock, not the wall clock, is what moves.
QUICK = retry_policy(tenacity.stop_after_attempt(2), tenacity.wait_none())
T = TypeVar("T")

# The invariants, as a failure names them.
SUBSCRIPTIONS = "subscriptions"  # the authority screens exactly the currently employed
KEYS = "keys"  # every idempotency key applied at most once, for one operation
HITS = "hits"  # every hit: exactly one case per employing board
NOTIFICATIONS = "notifications"  # no notification lost
PRIVACY = "privacy"  # no BSN or birth date in a log event, report or email
SETTLES = "settles"  # with the faults off, the pipeline comes to rest
JOB = "job"  # a job failed with an error that is neither a crash nor the authority's


class SimulatedCrash(BaseException):
    """The process dies here. Not an Exception: nothing of ours may catch it."""


@dataclass(frozen=True)
class Failure:
    invariant: str
    detail: str


class InvariantBroken(Exception):
    def __init__(self, invariant: str, detail: str) -> None:
        super().__init__(f"{invariant}: {detail}")
        self.failure = Failure(invariant, detail)


class Broken(Exception):
    """The invariants that one check found broken."""

    def __init__(self, failures: list[Failure]) -> None:
        super().__init__("; ".join(f"{f.invariant}: {f.detail}" for f in failures))
        self.failures = failures


# -- the scenario -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """What one seed draws before it starts: the shape of its world and its weather."""

    boards: int
    initial: int  # staff per board on its first list
    steps: int
    quiet_every: int
    join: float  # chance, three times per new list, of a joiner (in the hiring season)
    leave: float  # chance per row of leaving in a new list
    correct: float  # chance that a joiner is taken off the next list again (a mistaken row)
    change: float  # chance per row of changed terms
    authority_faults: float  # chance a call to the authority meets a fault
    crashes: float  # chance a job is crashed at some statement of ours
    mail_faults: float  # chance a message meets a fault
    retention_days: int

    @classmethod
    def draw(cls, rng: random.Random, steps: int) -> Scenario:
        return cls(
            boards=rng.randint(1, 3),
            initial=rng.randint(1, 6),
            steps=steps,
            quiet_every=rng.randint(8, 20),
            join=rng.choice((0.05, 0.15, 0.3, 0.5)),
            leave=rng.choice((0.05, 0.15, 0.3)),
            correct=rng.choice((0.0, 0.3, 0.6, 0.6)),
            change=rng.choice((0.0, 0.1, 0.3)),
            authority_faults=rng.choice((0.0, 0.1, 0.3, 0.5, 0.7)),
            crashes=rng.choice((0.0, 0.15, 0.3, 0.5)),
            mail_faults=rng.choice((0.0, 0.1, 0.3)),
            retention_days=rng.choice((30, 60, 183)),
        )


@dataclass(frozen=True)
class Identity:
    """A person as HR knows them: the same on every board's list."""

    number: int
    bsn: str
    birth_date: dt.date
    surname: str
    prefix: str
    initials: str


@dataclass(frozen=True)
class RaisedHit:
    hit_id: str
    bsn: str
    boards: frozenset[str]  # the boards that employ the person while the hit is in flight


@dataclass
class Outcome:
    seed: int
    scenario: Scenario
    failures: list[Failure] = field(default_factory=list)
    step: int = 0
    stats: Counter[str] = field(default_factory=Counter)
    trace: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def invariants(self) -> list[str]:
        return sorted({failure.invariant for failure in self.failures})

    def tagged(self, tag: str) -> bool:
        return any(tag in failure.detail for failure in self.failures)


# -- the seams ----------------------------------------------------------------------------


class CrashInjector:
    """Crashes a job before its n-th database statement or commit (through engine events)."""

    def __init__(self, engine: Engine, rng: random.Random) -> None:
        self.rng = rng
        self.countdown: int | None = None
        self.where = ""
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def arm(self, chance: float) -> None:
        self.countdown = int(self.rng.expovariate(1 / 20)) if self.rng.random() < chance else None

    def disarm(self) -> None:
        self.countdown = None

    def _point(self, where: str) -> None:
        if self.countdown is None:
            return
        if self.countdown == 0:
            self.countdown = None
            raise SimulatedCrash(f"crash before {where}")
        self.countdown -= 1

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self._point(" ".join(statement.split()[:3]))

    def _commit(self, _conn: Any) -> None:
        self._point("COMMIT")


def _fingerprint(item: SubscribeItem | UnsubscribeItem) -> str:
    if isinstance(item, SubscribeItem):
        payload = f"{item.bsn}|{item.birth_date.isoformat()}"
    else:
        payload = item.subscription_ref
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# Answers lost and crashes after the authority applied a batch are what trust is made of.
_AUTHORITY_FAULTS = ("5xx", "429", "lost", "crash", "partial")
_AUTHORITY_WEIGHTS = (1, 1, 2, 5, 1)


class FaultyAuthority:
    """The authority port with seeded faults in front of the real (mock) authority."""

    def __init__(self, inner: MockAuthority, rng: random.Random, chance: float) -> None:
        self.inner = inner
        self.rng = rng
        self.chance = chance
        self.enabled = False
        self.faults: Counter[str] = Counter()
        self.sent: dict[str, str] = {}  # idempotency key -> what it carried first
        self.reused: list[str] = []

    def _note(self, items: Sequence[SubscribeItem | UnsubscribeItem]) -> None:
        for item in items:
            fingerprint = _fingerprint(item)
            first = self.sent.setdefault(item.idempotency_key, fingerprint)
            if first != fingerprint:
                self.reused.append(item.idempotency_key)

    def _write(self, call: Callable[[Any], list[ItemResult]], items: Any) -> list[ItemResult]:
        self._note(items)
        faulty = self.enabled and self.rng.random() < self.chance
        kind = self.rng.choices(_AUTHORITY_FAULTS, _AUTHORITY_WEIGHTS)[0] if faulty else None
        if kind is not None:
            self.faults[kind] += 1
        if kind == "5xx":
            raise AuthorityUnavailable("the authority answered 503")
        if kind == "429":
            raise AuthorityUnavailable("the authority answered 429", retry_after=30.0)
        results = call(items)
        if kind == "lost":
            raise AuthorityUnavailable("the connection dropped after the authority applied it")
        if kind == "crash":
            raise SimulatedCrash("crash after the authority applied a batch")
        if kind == "partial":
            return results[: len(results) // 2]
        return results

    def subscribe(self, items: Sequence[SubscribeItem]) -> list[ItemResult]:
        return self._write(self.inner.subscribe, items)

    def unsubscribe(self, items: Sequence[UnsubscribeItem]) -> list[ItemResult]:
        return self._write(self.inner.unsubscribe, items)

    def list_subscriptions(self, page: str | None = None) -> SubscriptionPage:
        return self.inner.list_subscriptions(page)

    def fetch_hits(self, cursor: str | None = None) -> HitPage:
        if self.enabled and self.rng.random() < self.chance / 2:
            raise AuthorityUnavailable("the authority answered 502")
        return self.inner.fetch_hits(cursor)

    def close(self) -> None:
        self.inner.close()


class SimMailer:
    """An SMTP server that keeps what it accepted; it may defer, or we may crash after."""

    def __init__(self, rng: random.Random, chance: float) -> None:
        self.rng = rng
        self.chance = chance
        self.enabled = False
        self.accepted: list[OutgoingMessage] = []

    def __enter__(self) -> SimMailer:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def send(self, message: OutgoingMessage) -> list[str]:
        faulty = self.enabled and self.rng.random() < self.chance
        kind = self.rng.choice(("451", "down", "crash")) if faulty else None
        if kind == "451":
            raise DeliveryError("451 try again later", permanent=False)
        if kind == "down":
            raise DeliveryError("connection refused", permanent=False, unreachable=True)
        self.accepted.append(message)
        if kind == "crash":
            raise SimulatedCrash("crash after the SMTP server accepted a message")
        return []

    def describe(self) -> str:
        return "the simulation's SMTP server"


# -- databases ----------------------------------------------------------------------------


class SqliteDatabases:
    """A migrated template file, copied over one file for each seed.

    The seeds of one process share that file and its engines: an engine caches the SQL it
    has compiled, and compiling it all again for every seed cost more than running it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.template = root / "template.db"
        self.path = root / "seed.db"
        self.url = f"sqlite:///{self.path}"
        self.engines: tuple[Engine, Engine] | None = None

    def new(self, name: str) -> tuple[str, Engine, Engine]:
        if not self.template.exists():
            engine = make_engine(f"sqlite:///{self.template}")
            upgrade(engine)
            engine.dispose()
        if self.engines is None:
            self.engines = (make_engine(self.url), make_engine(self.url))
        for engine in self.engines:
            engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.path)
        return self.url, *self.engines

    def drop(self, name: str) -> None:
        for engine in self.engines or ():
            engine.dispose()


class PostgresDatabases:
    """A migrated template database on a running server, cloned for each seed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.template: str | None = None
        self.engines: dict[str, tuple[Engine, Engine]] = {}

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.base_url + "/postgres", autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[call-overload]

    def new(self, name: str) -> tuple[str, Engine, Engine]:
        if self.template is None:
            self.template = "sim_template"
            self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.template}"')
            engine = make_engine(f"{self.base_url}/{self.template}")
            upgrade(engine)
            engine.dispose()
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        url = f"{self.base_url}/{name}"
        self.engines[name] = (make_engine(url), make_engine(url))
        return url, *self.engines[name]

    def drop(self, name: str) -> None:
        for engine in self.engines.pop(name, ()):
            engine.dispose()
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


Databases = SqliteDatabases | PostgresDatabases


# -- the simulation -------------------------------------------------------------------------


class Simulation:
    """One seed's world: our pipeline, the authority, the mail server and HR's lists."""

    def __init__(
        self,
        seed: int,
        workdir: Path,
        database: tuple[str, Engine, Engine],
        scenario: Scenario,
        outcome: Outcome,
    ) -> None:
        url, engine, authority_engine = database
        self.seed = seed
        self.rng = random.Random(seed)
        # Separate streams, so that a change in one kind of fault does not reshuffle the rest.
        self.fault_rng = random.Random(f"{seed}:faults")
        self.s = scenario
        self.outcome = outcome
        self.workdir = workdir
        key_file = workdir / "keys.json"
        create_key_file(key_file)
        settings = load_settings(
            {
                "VOGSCREEN_VAR_DIR": str(workdir / "var"),
                "VOGSCREEN_DATABASE_URL": url,
                "VOGSCREEN_KEY_FILE": str(key_file),
                "VOGSCREEN_ACTOR": "simulation",
                "VOGSCREEN_RETENTION_DAYS": str(scenario.retention_days),
            }
        )
        self.clock = FakeClock(START)
        # What bootstrap() wires, on the engine the databases hand out (see SqliteDatabases).
        self.app = App(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            vault=load_vault(settings),
            clock=self.clock,
        )
        # The authority is another system: its own engine, which our crashes do not reach.
        self.mock = MockAuthority(
            session_factory(authority_engine),
            key=derive_key(self.app.vault.hmac_key),
            clock=self.clock,
        )
        self.authority = FaultyAuthority(self.mock, self.fault_rng, scenario.authority_faults)
        self.mailer = SimMailer(self.fault_rng, scenario.mail_faults)
        self.injector = CrashInjector(self.app.engine, self.fault_rng)
        self.chaos = False
        self.boards = [f"{10001 + i}" for i in range(scenario.boards)]
        self.people: list[Identity] = []
        self._numbers = bsn_stream(seed + 1)
        self.lists: dict[str, dict[str, FakeEmployee]] = {b: {} for b in self.boards}
        self.joined: dict[str, set[str]] = {b: set() for b in self.boards}
        self.unsent: dict[str, dict[str, FakeEmployee]] = {}  # an upload that crashed
        self.hits: list[RaisedHit] = []
        self.in_flight: dict[str, int] = Counter()  # BSN -> hits raised, not yet stored
        self.released: set[str] = set()  # hits seen stored
        self.notify_crashes = 0
        self.texts: list[str] = []  # every report, for the privacy check
        self.events: list[dict[str, Any]] = []
        self.uploads = 0

    def close(self) -> None:
        self.injector.close()

    # -- HR's side: people and lists ------------------------------------------------------

    def trace(self, line: str) -> None:
        self.outcome.trace.append(f"[{self.clock():%Y-%m-%d %H:%M}] {line}")

    def _new_identity(self) -> Identity:
        full = self.rng.choice(SURNAMES)
        prefix, _, surname = full.rpartition(" ")
        identity = Identity(
            number=len(self.people),
            bsn=next(self._numbers),
            # Before 2000, so no birth date can be mistaken for any other date we use.
            birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 14_000)),
            surname=surname,
            prefix=prefix,
            initials=self.rng.choice("ABCDEFGHJKLMNPRSTW") + ".",
        )
        self.people.append(identity)
        return identity

    def _row(self, board: str, who: Identity) -> FakeEmployee:
        index = self.boards.index(board)
        return FakeEmployee(
            bsn=who.bsn,
            birth_date=who.birth_date,
            surname=who.surname,
            prefix=who.prefix,
            initials=who.initials,
            personeelsnummer=f"P{index}{who.number:05d}",
            brin=f"{12 + index * 11}{'ABCD'[index]}X",
            function=self.rng.choice(FUNCTIONS),
            start_date=dt.date(2010, 8, 1) + dt.timedelta(days=self.rng.randrange(0, 4_000)),
            vog_date=dt.date(2010, 6, 1) + dt.timedelta(days=self.rng.randrange(0, 3_000)),
        )

    def employing(self, bsn: str, today: dt.date) -> set[str]:
        """The boards whose latest list shows a current employment of this person."""
        return {
            board
            for board, rows in self.lists.items()
            if bsn in rows and (rows[bsn].end_date is None or rows[bsn].end_date >= today)
        }

    def _next_list(self, board: str) -> dict[str, FakeEmployee]:
        rng, today = self.rng, self.app.today()
        rows = dict(self.lists[board])
        joined, self.joined[board] = self.joined[board], set()
        for bsn, row in list(rows.items()):
            if bsn in self.in_flight:
                continue  # a hit is on its way for them: their boards stay as they are
            if bsn in joined and rng.random() < self.s.correct:
                del rows[bsn]  # HR takes back a row it sent by mistake
                continue
            if row.end_date is not None and row.end_date < today and rng.random() < 0.5:
                del rows[bsn]  # the export stops naming someone who left a while ago
                continue
            roll = rng.random()
            if roll < self.s.leave:
                how = rng.random()
                if how < 0.6:
                    del rows[bsn]
                elif how < 0.85:  # a past end date: leaving
                    rows[bsn] = replace(row, end_date=today - dt.timedelta(rng.randint(1, 30)))
                else:  # a future end date: leaving later, when it has passed
                    rows[bsn] = replace(row, end_date=today + dt.timedelta(rng.randint(0, 60)))
            elif roll < self.s.leave + self.s.change:
                change = rng.randrange(4)
                if change == 0:
                    rows[bsn] = replace(row, function=rng.choice(FUNCTIONS))
                elif change == 1:
                    rows[bsn] = replace(row, vog_date=today - dt.timedelta(rng.randint(0, 30)))
                elif change == 2:
                    rows[bsn] = replace(row, brin=row.brin[:4] + "01")
                else:
                    rows[bsn] = replace(row, end_date=None)  # extended, or back again
        # Schools hire for the school year, in August and September; hardly at other times,
        # so for months no one new gets an id.
        join = self.s.join if today.month in (8, 9) else self.s.join / 8
        for _ in range(3):
            if rng.random() < join:
                self._join(board, rows, today)
        if not rows:
            self._join(board, rows, today)  # a list is never empty
        return rows

    def _join(self, board: str, rows: dict[str, FakeEmployee], today: dt.date) -> None:
        rng = self.rng
        elsewhere = [
            p
            for p in self.people
            if p.bsn not in rows and p.bsn not in self.in_flight and self.employing(p.bsn, today)
        ]
        former = [
            p
            for p in self.people
            if p.bsn not in rows
            and p.bsn not in self.in_flight
            and not any(p.bsn in other for other in self.lists.values())
        ]
        roll = rng.random()
        if roll < 0.25 and elsewhere:
            who = rng.choice(elsewhere)  # works at two boards
        elif roll < 0.5 and former:
            who = rng.choice(former)  # comes back, perhaps after retention forgot them
        else:
            who = self._new_identity()
        row = self._row(board, who)
        if rng.random() < 0.1:  # a list that names a leaver who never started here
            row = replace(row, end_date=today - dt.timedelta(rng.randint(1, 30)))
        rows[who.bsn] = row
        self.joined[board].add(who.bsn)

    # -- jobs -----------------------------------------------------------------------------

    def _job(self, name: str, call: Callable[[], T]) -> T | None:
        """Run one job; a crash or an unreachable authority ends it, to be run again later."""
        if self.chaos:
            self.injector.arm(self.s.crashes)
        try:
            result = call()
        except SimulatedCrash as crash:
            self.outcome.stats["crashes"] += 1
            if name == "notify":
                self.notify_crashes += 1
            self.trace(f"{name}: {crash}")
            return None
        except AuthorityUnavailable as exc:
            self.outcome.stats["authority_down"] += 1
            self.texts.append(str(exc))
            self.trace(f"{name}: the authority is unavailable")
            return None
        except Exception as exc:
            raise InvariantBroken(JOB, f"{name} raised {type(exc).__name__}: {exc}") from exc
        finally:
            self.injector.disarm()
        as_dict = getattr(result, "as_dict", None)
        report = as_dict() if callable(as_dict) else result
        self.texts.append(repr(report))
        self.trace(f"{name}: {report}")
        return result

    def upload_list(self, board: str) -> None:
        rows = self.unsent.pop(board, None) or self._next_list(board)
        self.uploads += 1
        path = self.workdir / f"list-{board}-{self.uploads}.csv"
        path.write_text(staff_csv(sorted(rows.values(), key=lambda row: row.personeelsnummer)))
        report = self._job(f"upload {board}", lambda: upload(self.app, board, path))
        if report is None:
            self.unsent[board] = rows  # HR (or the drop folder) hands it in again
            return
        if report.status == UploadOutcome.HELD and report.hold == HoldReason.OLDER_FILE:
            # A correction can bring back an earlier list byte for byte, which is held as
            # an older file; the operator checks with the board and confirms it.
            self.lists[board] = rows
            self.confirm_held()
            return
        if report.status not in (UploadOutcome.ACCEPTED, UploadOutcome.UNCHANGED):
            raise InvariantBroken(
                JOB, f"a valid list for board {board} was {report.status}: {report.as_dict()}"
            )
        self.lists[board] = rows

    def confirm_held(self) -> None:
        with self.app.sessions() as session:
            held = list(
                session.scalars(
                    select(StaffList.id).where(StaffList.status == StaffListStatus.HELD)
                )
            )
        for staff_list in held:
            self._job(f"confirm {staff_list}", functools.partial(self._confirm, staff_list))

    def _confirm(self, staff_list: int) -> None:
        # StateConflict: a newer list came in meanwhile, and that one is the board's staff.
        with contextlib.suppress(StateConflict):
            confirm(self.app, staff_list)

    def reconcile(self) -> None:
        self._job("reconcile", lambda: reconcile(self.app, self.authority, retry=QUICK))

    def drain(self) -> None:
        self._job("drain", lambda: drain(self.app, self.authority, retry=QUICK))

    def poll(self) -> None:
        self._job("hits", lambda: poll(self.app, self.authority, retry=QUICK))
        self._release_stored_hits()

    def notify(self) -> None:
        self._job("notify", lambda: notify(self.app, self.mailer))

    def retention(self) -> None:
        counts = self._job("retention", lambda: purge(self.app))
        if counts:
            self.outcome.stats["purged"] += counts["persons"]

    def reminders(self) -> None:
        self._job("reminders", lambda: remind(self.app))

    def raise_hit(self) -> None:
        """The authority signals a record for someone it screens and we employ, steadily.

        Only when no list waits to be applied and for someone with no end date anywhere,
        so that their employing boards are known until the hit is stored.
        """
        with self.app.sessions() as session:
            waiting = session.scalar(select(func.count()).where(StaffList.status == "pending"))
        if waiting or self.unsent:
            return
        today = self.app.today()
        steady = [
            p.bsn
            for p in self.people
            if self.employing(p.bsn, today)
            and all(rows[p.bsn].end_date is None for rows in self.lists.values() if p.bsn in rows)
        ]
        refs = self.mock.screened(steady)
        if not refs:
            return
        bsn = self.rng.choice(sorted(refs))
        hit_id = self.mock.raise_hit(refs[bsn])
        self.hits.append(RaisedHit(hit_id, bsn, frozenset(self.employing(bsn, today))))
        self.in_flight[bsn] += 1
        self.trace(f"authority raises hit {hit_id} for person #{self._number(bsn)}")

    def _number(self, bsn: str) -> int:
        return next(p.number for p in self.people if p.bsn == bsn)

    def _release_stored_hits(self) -> None:
        # Only hits not yet seen stored: an earlier hit for the same person, stored and
        # released before, must not release the one still on its way.
        waiting = {
            hit.hit_id: hit
            for hit in self.hits
            if hit.bsn in self.in_flight and hit.hit_id not in self.released
        }
        if not waiting:
            return
        with self.app.sessions() as session:
            stored = set(
                session.scalars(
                    select(Hit.authority_hit_id).where(Hit.authority_hit_id.in_(waiting))
                )
            )
        for hit_id in stored:
            self.released.add(hit_id)
            bsn = waiting[hit_id].bsn
            self.in_flight[bsn] -= 1
            if not self.in_flight[bsn]:
                del self.in_flight[bsn]

    def advance(self) -> None:
        roll = self.rng.random()
        if roll < 0.35:
            self.clock.advance(hours=self.rng.randint(1, 20))
            return
        if roll < 0.75:
            self.clock.advance(days=self.rng.randint(1, 30))
        else:
            self.clock.advance(days=self.rng.randint(30, 150))
        # The nightly jobs. Days pass as one step here, but a worker would have reconciled
        # on one of those nights at least, unless it was down all along (or a held list
        # waited for its confirmation as long).
        if self.rng.random() < 0.9:
            self._nightly_reconcile()
        if self.rng.random() < 0.6:
            self.retention()
        if self.rng.random() < 0.3:
            self.reminders()

    def _nightly_reconcile(self) -> None:
        chaos, self.chaos = self.chaos, False
        self.authority.enabled = self.mailer.enabled = False
        try:
            self.reconcile()
        finally:
            self.chaos = self.authority.enabled = self.mailer.enabled = chaos

    # -- the run --------------------------------------------------------------------------

    def setup(self) -> None:
        for board in self.boards:
            add_board(self.app, board, f"Stichting {board}", [f"hr@{board}.example.nl"])
            # No list is held for a confirmation: the guard is not what this tests.
            update_board(self.app, board, removal_threshold_count=100_000)
            self.lists[board] = {
                who.bsn: self._row(board, who)
                for who in (self._new_identity() for _ in range(self.s.initial))
            }
            self.unsent[board] = self.lists[board]
            self.lists[board] = {}

    def step(self) -> None:
        actions: list[tuple[float, Callable[[], None]]] = [
            (3.0, lambda: self.upload_list(self.rng.choice(self.boards))),
            (3.0, self.reconcile),
            (1.0, self.drain),
            (2.0, self.poll),
            (2.0, self.notify),
            (1.5, self.raise_hit),
            (1.0, self.retention),
            (0.5, self.reminders),
            (3.0, self.advance),
        ]
        weights = [weight for weight, _ in actions]
        self.rng.choices([action for _, action in actions], weights)[0]()

    def run(self) -> None:
        self.setup()
        for number in range(self.s.steps):
            self.outcome.step = number
            self.chaos = self.authority.enabled = self.mailer.enabled = True
            self.step()
            if number % self.s.quiet_every == self.s.quiet_every - 1:
                self.quiet_period()
        self.outcome.step = self.s.steps
        self.quiet_period(last=True)

    def quiet_period(self, *, last: bool = False) -> None:
        """Faults off; run every job until nothing is pending; then check the invariants."""
        self.chaos = self.authority.enabled = self.mailer.enabled = False
        self.trace("quiet period")
        for _ in range(50):
            for board in list(self.unsent):
                self.upload_list(board)
            self.confirm_held()
            self.reconcile()
            self.poll()
            self.notify()
            if not self._pending():
                break
            self.clock.advance(minutes=61)  # past any backoff
        else:
            raise InvariantBroken(SETTLES, f"still pending after 50 rounds: {self._pending()}")
        self.check(last=last)

    def _pending(self) -> dict[str, int]:
        with self.app.sessions() as session:
            counts = {
                "lists": session.scalar(
                    select(func.count()).where(StaffList.status.in_(("pending", "held")))
                ),
                "operations": session.scalar(
                    select(func.count()).where(AuthorityOperation.status == "pending")
                ),
                "notifications": session.scalar(
                    select(func.count()).where(Notification.status == "pending")
                ),
            }
        counts["uploads"] = len(self.unsent)
        return {name: int(count or 0) for name, count in counts.items() if count}

    # -- the invariants -------------------------------------------------------------------

    def check(self, *, last: bool = False) -> None:
        """Every invariant, each on its own: a failure lists all that broke."""
        report = validate(self.app, self.authority, retry=QUICK)
        self.texts.append(repr(report.as_dict()))
        if last:
            self.texts.append(repr(status(self.app)))
        broken: list[Failure] = []
        for check in (
            lambda: self.check_subscriptions(report.as_dict()),
            self.check_keys,
            self.check_hits,
            self.check_notifications,
            self.check_privacy,
        ):
            try:
                check()
            except InvariantBroken as failure:
                broken.append(failure.failure)
        if broken:
            raise Broken(broken)

    def _ours(self, bsns: Sequence[str]) -> dict[str, tuple[int, str | None, str | None]]:
        """Our person id, subscription status and authority reference for these BSNs."""
        index = {self.app.vault.blind_index(bsn): bsn for bsn in bsns}
        with self.app.sessions() as session:
            rows = session.execute(
                select(Person.bsn_index, Person.id, Subscription.status, Subscription.authority_ref)
                .outerjoin(Subscription, Subscription.person_id == Person.id)
                .where(Person.bsn_index.in_(index))
            ).all()
        return {index[row.bsn_index]: (row.id, row.status, row.authority_ref) for row in rows}

    def _operations(self, person_id: int) -> list[str]:
        with self.app.sessions() as session:
            return [
                f"{op.idempotency_key}={op.status}/attempts {op.attempts}"
                for op in session.scalars(
                    select(AuthorityOperation)
                    .where(AuthorityOperation.person_id == person_id)
                    .order_by(AuthorityOperation.id)
                )
            ]

    def check_subscriptions(self, validation: dict[str, int]) -> None:
        today = self.app.today()
        employed = {p.bsn for p in self.people if self.employing(p.bsn, today)}
        screened = self.mock.screened(p.bsn for p in self.people)
        total = sum(len(page.items) for page in self._subscription_pages())
        surplus = sorted(set(screened) - employed)
        missing = sorted(employed - set(screened))
        if not surplus and not missing and total == len(screened):
            return
        ours = self._ours(surplus + missing)
        lines = []
        applied = self.mock.applied_counts()
        for label, group in (
            ("screened but employed nowhere", surplus),
            ("employed but not screened", missing),
        ):
            for bsn in group:
                person_id, state, ref = ours.get(bsn, (None, None, None))
                operations = self._operations(person_id) if person_id is not None else []
                lines.append(
                    f"person #{self._number(bsn)} (our id {person_id}) {label}: our subscription "
                    f"{state} ref {ref}; outbox {operations}; "
                    f"authority applied {_keys_of(applied, person_id)}"
                    f"{_diagnosis(label, state, operations, applied)}"
                )
        if total != len(screened):
            lines.append(f"the authority screens {total - len(screened)} BSNs we never handed in")
        lines.append(f"validate says {validation}")
        raise InvariantBroken(SUBSCRIPTIONS, "\n    ".join(lines))

    def _subscription_pages(self) -> Iterator[SubscriptionPage]:
        page: str | None = None
        while True:
            result = self.mock.list_subscriptions(page)
            yield result
            if result.next_page is None:
                return
            page = result.next_page

    def check_keys(self) -> None:
        twice = {key: n for key, n in self.mock.applied_counts().items() if n > 1}
        if twice:
            raise InvariantBroken(KEYS, f"applied more than once: {twice}")
        if self.authority.reused:
            raise InvariantBroken(
                KEYS,
                f"idempotency keys sent again for a different operation (another person, or "
                f"another reference), so the authority replayed another's answer: "
                f"{sorted(set(self.authority.reused))} [item 7: a recycled person id]",
            )

    def check_hits(self) -> None:
        with self.app.sessions() as session:
            stored = Counter(session.scalars(select(Hit.authority_hit_id)))
            cases = session.execute(
                select(Hit.authority_hit_id, Hit.person_id, Board.number, Case.id)
                .join(Case, Case.hit_id == Hit.id)
                .join(Board, Board.id == Case.board_id)
            ).all()
            notes = Counter(
                session.scalars(select(Notification.case_id).where(Notification.kind == "hit"))
            )
        boards: dict[str, Counter[str]] = {}
        for row in cases:
            boards.setdefault(row.authority_hit_id, Counter())[row.number] += 1
            if notes[row.id] != 1:
                raise InvariantBroken(
                    HITS,
                    f"case {row.id} of hit {row.authority_hit_id} has {notes[row.id]} "
                    "hit notifications",
                )
        for hit in self.hits:
            if stored[hit.hit_id] != 1:
                raise InvariantBroken(HITS, f"hit {hit.hit_id} stored {stored[hit.hit_id]} times")
            got = boards.get(hit.hit_id, Counter())
            if set(got) != hit.boards or any(n != 1 for n in got.values()):
                raise InvariantBroken(
                    HITS,
                    f"hit {hit.hit_id} for person #{self._number(hit.bsn)} opened cases "
                    f"{dict(got)}, not one at each of {sorted(hit.boards)}"
                    f"{self._unrouted_reason(hit.hit_id)}",
                )
        if set(stored) - {hit.hit_id for hit in self.hits}:
            raise InvariantBroken(HITS, "hits stored that the authority never raised")

    def _unrouted_reason(self, hit_id: str) -> str:
        with self.app.sessions() as session:
            hit = session.scalar(select(Hit).where(Hit.authority_hit_id == hit_id))
        if hit is None or hit.routed:
            return ""
        if hit.person_id is None:
            return (
                " [unrouted: its subscription reference was unknown to us when it came in, "
                "though the authority had applied the subscribe; it is never routed after]"
            )
        return " (stored unrouted: no current employment when it came in)"

    def check_notifications(self) -> None:
        accepted = Counter(message.message_id for message in self.mailer.accepted)
        with self.app.sessions() as session:
            notifications = session.execute(
                select(Notification.id, Notification.message_id, Notification.status)
            ).all()
        for row in notifications:
            if row.status != "sent" or row.message_id not in accepted:
                raise InvariantBroken(
                    NOTIFICATIONS,
                    f"notification {row.id} is {row.status}, accepted {accepted[row.message_id]}x",
                )
        again = sum(n - 1 for n in accepted.values())
        if again > self.notify_crashes:
            raise InvariantBroken(
                NOTIFICATIONS,
                f"{again} messages sent again with only {self.notify_crashes} crashes to excuse it",
            )

    def check_privacy(self) -> None:
        secrets = [p.bsn for p in self.people]
        secrets += [p.birth_date.isoformat() for p in self.people]
        secrets += [f"{p.birth_date:%d-%m-%Y}" for p in self.people]
        logs = "\n".join(repr(event) for event in self.events)
        mails = "\n".join(
            message.data.decode("utf-8", "replace") for message in self.mailer.accepted
        )
        for where, text in (
            ("a log event", logs),
            ("a report", "\n".join(self.texts)),
            ("an email", mails),
        ):
            for secret in secrets:
                if secret in text:
                    at = text.index(secret)
                    context = text[max(0, at - 80) : at].replace(secret, "<secret>")
                    raise InvariantBroken(
                        PRIVACY, f"a BSN or birth date in {where}, after: {context!r}"
                    )
        self.events.clear()
        self.texts.clear()


def _keys_of(applied: dict[str, int], person_id: int | None) -> list[str]:
    return [key for key in applied if key.split(":")[1:2] == [str(person_id)]]


def _diagnosis(
    label: str, state: str | None, operations: list[str], applied: dict[str, int]
) -> str:
    if label.startswith("screened") and any("=cancelled/attempts 0" in op for op in operations):
        cancelled = [op.split("=")[0] for op in operations if "=cancelled" in op]
        if any(key in applied for key in cancelled):
            return " [item 6: a subscribe the authority applied was cancelled as never sent]"
    if label.startswith("screened") and state == "active":
        return (
            " [retention: we still employ them; a list that dropped them waited longer than "
            "the retention period, which purged the rows it removed before it was applied]"
        )
    if label.startswith("employed") and state == "active":
        return " [item 7: recorded active from a replayed answer for someone else]"
    return ""


# -- running seeds ------------------------------------------------------------------------


def run_seed(seed: int, databases: Databases, root: Path, steps: int = STEPS) -> Outcome:
    rng = random.Random(f"{seed}:scenario")
    scenario = Scenario.draw(rng, steps)
    outcome = Outcome(seed, scenario)
    name = f"sim_{seed}_{int(time.time() * 1000) % 100_000}"
    workdir = root / f"seed-{seed}"
    workdir.mkdir(parents=True, exist_ok=True)
    database = databases.new(name)
    simulation: Simulation | None = None
    try:
        with structlog.testing.capture_logs() as events:
            simulation = Simulation(seed, workdir, database, scenario, outcome)
            simulation.events = events
            try:
                simulation.run()
            except InvariantBroken as broken:
                outcome.failures = [broken.failure]
            except Broken as broken:
                outcome.failures = broken.failures
    finally:
        if simulation is not None:
            outcome.stats["uploads"] = simulation.uploads
            outcome.stats["hits"] = len(simulation.hits)
            outcome.stats["people"] = len(simulation.people)
            outcome.stats.update(simulation.authority.faults)
            simulation.close()
        databases.drop(name)
        shutil.rmtree(workdir, ignore_errors=True)
    return outcome


def describe(outcome: Outcome, *, trace: bool = False) -> str:
    lines = [
        f"seed {outcome.seed} broke {', '.join(outcome.invariants)} at step "
        f"{outcome.step} of {outcome.scenario.steps}:",
        *(f"  {failure.invariant}: {failure.detail}" for failure in outcome.failures),
        f"  scenario: {outcome.scenario}",
        f"  reproduce: ./dev simulate --seed {outcome.seed} -v",
    ]
    if trace:
        lines += ["  trace:", *(f"    {line}" for line in outcome.trace)]
    return "\n".join(lines)


@contextmanager
def sqlite_databases() -> Iterator[tuple[SqliteDatabases, Path]]:
    with tempfile.TemporaryDirectory(prefix="vogscreen-sim-") as root:
        yield SqliteDatabases(Path(root) / "db"), Path(root)


def sweep(seeds: Sequence[int], steps: int) -> list[Outcome]:
    """Run these seeds one after another on SQLite, in this process."""
    with sqlite_databases() as (databases, root):
        return [run_seed(seed, databases, root, steps) for seed in seeds]


def sweep_parallel(
    seeds: Sequence[int], steps: int, jobs: int, chunk: int = 10
) -> Iterator[Outcome]:
    """The seeds in ``jobs`` processes, in chunks; outcomes in seed order."""
    if jobs <= 1:
        for start in range(0, len(seeds), chunk):
            yield from sweep(seeds[start : start + chunk], steps)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [seeds[start : start + chunk] for start in range(0, len(seeds), chunk)]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        for outcomes in pool.map(sweep, chunks, [steps] * len(chunks)):
            yield from outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="./dev simulate", description="Crash-and-fault simulation of the whole pipeline."
    )
    parser.add_argument("--seeds", type=int, default=300, help="how many seeds (from --first)")
    parser.add_argument("--first", type=int, default=0, help="the first seed of a sweep")
    parser.add_argument("--seed", type=int, help="replay this one seed")
    parser.add_argument("--steps", type=int, default=STEPS, help="steps per seed")
    parser.add_argument("--jobs", type=int, default=2, help="processes running seeds")
    parser.add_argument("-v", "--verbose", action="store_true", help="print a failing trace")
    parser.add_argument("--stop", action="store_true", help="stop at the first failure")
    args = parser.parse_args(argv)
    if args.seed is not None:
        seeds, jobs = [args.seed], 1
    else:
        seeds, jobs = list(range(args.first, args.first + args.seeds)), args.jobs
    failures: list[Outcome] = []
    started, ran = time.monotonic(), 0
    for outcome in sweep_parallel(seeds, args.steps, jobs):
        ran += 1
        if not outcome.ok:
            failures.append(outcome)
            print(describe(outcome, trace=args.verbose), flush=True)
            if args.stop:
                break
        if ran % 100 == 0:
            print(
                f"{ran} seeds, {len(failures)} failed, {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    print(f"{ran} seeds in {time.monotonic() - started:.1f} s: {len(failures)} failed")
    if failures:
        by_invariant = Counter(name for outcome in failures for name in outcome.invariants)
        print(f"failures by invariant: {dict(by_invariant)}")
        for tag in TAGS:
            tagged = [outcome.seed for outcome in failures if outcome.tagged(tag)]
            print(f"{tag}]: {len(tagged)} seeds, first {tagged[:10]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
