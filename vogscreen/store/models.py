"""The database schema, as SQLAlchemy 2 typed models.

Alembic migrations (``vogscreen/store/migrations/``) are the only way this schema reaches a
database; a test checks that the models and the migrations agree. Bulk paths use Core
statements on these tables (``Person.__table__``) rather than ORM objects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Board(Base):
    """A school board (bevoegd gezag), known by its 5-digit DUO number."""

    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(5), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    removal_threshold_percent: Mapped[int] = mapped_column(Integer, default=10)
    removal_threshold_count: Mapped[int] = mapped_column(Integer, default=5)
    followup_weeks: Mapped[int] = mapped_column(Integer, default=8)
    created_at: Mapped[dt.datetime]


class Person(Base):
    """A member of staff. The BSN is held only as a blind index and a ciphertext."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    bsn_index: Mapped[str] = mapped_column(String(64), unique=True)
    bsn_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    surname: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str | None] = mapped_column(String(50))
    initials: Mapped[str | None] = mapped_column(String(50))
    first_names: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]


class StaffList(Base):
    """One upload of a board's staff list: accepted (with rows) or rejected (without)."""

    __tablename__ = "staff_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    # pending: accepted, waiting to be applied; applied; held: waits for confirm/reject;
    # discarded: rejected by an operator after a hold; superseded: a newer list won;
    # rejected: invalid file, stored without rows.
    status: Mapped[str] = mapped_column(String(20), index=True)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[dt.datetime]
    received_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # Set when an operator confirmed a held list: the removal guard no longer applies.
    confirmed_at: Mapped[dt.datetime | None]


class StaffListRow(Base):
    """One row of a board's staff lists, as the board gave it (the desired state).

    A row is stored once and belongs to every list of its board from the list that brought
    it in (``staff_list_id``) up to, not including, the list that dropped or changed it
    (``removed_in_list_id``; empty while the board's newest list still has it). A board's
    lists that carry rows form one chain in id order, so a list's rows are
    :func:`vogscreen.store.staff_lists.members` of it, and a day with a few changes writes
    only those changes instead of copying the whole list again.
    """

    __tablename__ = "staff_list_rows"
    __table_args__ = (
        Index("ix_staff_list_rows_board_added", "board_id", "staff_list_id"),
        Index("ix_staff_list_rows_board_removed", "board_id", "removed_in_list_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    staff_list_id: Mapped[int] = mapped_column(ForeignKey("staff_lists.id"))
    removed_in_list_id: Mapped[int | None] = mapped_column(ForeignKey("staff_lists.id"))
    # Keyed BLAKE2b of the row's cells as read (and of the file's header): an unchanged row
    # of the next list is recognised without validating it again. Keyed, because the cells
    # hold a BSN and a birth date. Empty for rows stored before fingerprints existed.
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    surname: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str | None] = mapped_column(String(50))
    initials: Mapped[str | None] = mapped_column(String(50))
    first_names: Mapped[str | None] = mapped_column(String(200))
    personeelsnummer: Mapped[str | None] = mapped_column(String(50))
    brin: Mapped[str | None] = mapped_column(String(6))
    function: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    vog_date: Mapped[dt.date | None] = mapped_column(Date)


class Employment(Base):
    """A person's employment at a board; current while ``ended_at`` is empty."""

    __tablename__ = "employments"
    __table_args__ = (UniqueConstraint("board_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    personeelsnummer: Mapped[str | None] = mapped_column(String(50))
    brin: Mapped[str | None] = mapped_column(String(6))
    function: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    vog_date: Mapped[dt.date | None] = mapped_column(Date)
    first_staff_list_id: Mapped[int] = mapped_column(ForeignKey("staff_lists.id"))
    # The list that last started or changed this employment (not every list that merely
    # repeated it: rewriting every current employment each day would cost a whole board).
    last_staff_list_id: Mapped[int] = mapped_column(ForeignKey("staff_lists.id"))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class Subscription(Base):
    """A person's registration at the screening authority: one per person."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    # pending -> active (confirmed) -> ending -> ended; failed when the authority refused.
    status: Mapped[str] = mapped_column(String(20), index=True)
    # Counts the person's subscription cycles; part of every idempotency key, so a person
    # who leaves and comes back gets fresh keys while a retried apply reuses the old ones.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    authority_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class AuthorityOperation(Base):
    """The authority outbox: one row per subscribe or unsubscribe to send."""

    __tablename__ = "authority_outbox"
    # (status, id): a drain pages through the pending rows in queue order, by key.
    # (person_id, status): a person's unfinished operations, found without a scan.
    # (person_id, operation, generation): each step of a person's cycle is queued once.
    __table_args__ = (
        Index("ix_authority_outbox_status_id", "status", "id"),
        Index("ix_authority_outbox_person_status", "person_id", "status"),
        Index("ux_authority_outbox_step", "person_id", "operation", "generation", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    operation: Mapped[str] = mapped_column(String(20))
    generation: Mapped[int] = mapped_column(Integer)
    # Random, drawn when the row is queued: never derived from a row id that a database
    # may hand out again (SQLite reuses the highest id after a delete).
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    # pending -> done | rejected | cancelled (never sent, no longer wanted)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # While pending: when the row last left in a batch (committed before it left). A row
    # once sent may have been applied, so it is replayed with its key, never cancelled.
    sent_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None]
    # The authority's reference this step concerns: what a subscribe brought back, what an
    # unsubscribe ended. Kept per generation, so an unsubscribe still in flight when the
    # person starts a new cycle is sent with its own reference.
    subscription_ref: Mapped[str | None] = mapped_column(String(100))
    error_code: Mapped[str | None] = mapped_column(String(50))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]


class Hit(Base):
    """A signal from the authority: a new relevant record. It carries no offence detail."""

    __tablename__ = "hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_hit_id: Mapped[str] = mapped_column(String(100), unique=True)
    authority_ref: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    raised_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
    routed: Mapped[bool] = mapped_column(Boolean, default=False)


class Cursor(Base):
    """Where a paged feed (the authority's hits) was left off."""

    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime]


class Case(Base):
    """The follow-up of one hit by one board."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("hit_id", "board_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id"))
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    employment_id: Mapped[int | None] = mapped_column(ForeignKey("employments.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    opened_at: Mapped[dt.datetime]
    deadline: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(30))
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[dt.datetime | None]
    last_reminder_at: Mapped[dt.datetime | None]
    # What the board recorded when it resolved the case: the date of the new VOG, a note.
    vog_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """The notification outbox: one email to one board."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_id", "status", "id"),
        UniqueConstraint("dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    # A hit's letter and its reminders belong to a case; a letter about the board's own
    # data names its staff list or the employment the authority refused instead.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    staff_list_id: Mapped[int | None] = mapped_column(ForeignKey("staff_lists.id"))
    employment_id: Mapped[int | None] = mapped_column(ForeignKey("employments.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    message_id: Mapped[str] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


class JobRun(Base):
    """One run of a job, manual or scheduled. ``(job, board_key, slot)`` is claimed once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "board_key", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    board_key: Mapped[str] = mapped_column(String(10))
    slot: Mapped[str] = mapped_column(String(60))
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime]
    # Renewed while the run lasts; a running run whose heartbeat stopped was abandoned
    # (its worker died) and another worker takes it over.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    finished_at: Mapped[dt.datetime | None]
    # running | ok | failed | busy (the board's lease was held) | stopped (SIGTERM)
    # | abandoned (its process died; recorded when another run took over its lease)
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """A per-board lease that keeps two runs for one board apart; it expires if unrenewed."""

    __tablename__ = "leases"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]


class AuditEvent(Base):
    """Append-only record of every change of state. Never a BSN or birth date."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    board_id: Mapped[int | None] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class KeyCheck(Base):
    """Proof that the configured BSN keys are the ones this database was filled with.

    One row per key: an HMAC of a fixed label under the blind-index key, and an AES-GCM
    ciphertext of that label under the encryption key. A lost or swapped key file would
    otherwise make every person a stranger: everyone "new", everyone "leaving".
    """

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime]


def table(model: type[Base]) -> Table:
    """The Core table of a model, for set-based statements on bulk paths."""
    return cast(Table, model.__table__)


class ApiToken(Base):
    """A board's API token. Only its SHA-256 digest is kept; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(320))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(320))
    last_used_at: Mapped[dt.datetime | None]


class LoginRequest(Base):
    """One request for a login link, known address or not: what the rate limits count.
    The address and the client are kept only as digests."""

    __tablename__ = "login_requests"
    __table_args__ = (Index("ix_login_requests_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    address_digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    client_digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)


class LoginLink(Base):
    """A one-time login link mailed to a board's recipient: its digest, valid until
    ``expires_at``, used at most once."""

    __tablename__ = "login_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class PortalSession(Base):
    """A signed-in person at a board. ``method`` says how they signed in (``LoginMethod``)
    and ``principal`` who they are to that method: the e-mail address for a link, later the
    subject of an OIDC login."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    principal: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
