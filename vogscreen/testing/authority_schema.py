"""The mock authority's own tables, and the set-based statements its batches use.

The mock stands in for another organisation: its tables are not part of vogscreen's schema
and no migration makes them. :func:`create_tables` makes them on the mock's first use, on
whatever database it is given (the application's own, for the in-process ``mock`` adapter,
so separate commands see one authority; a database of its own behind the mock authority
server). Every table name starts with ``mock_authority_``: the migrations' drift check
passes over tables of that prefix (``vogscreen/store/migrations/env.py``).

The mock keeps a keyed hash of the BSN, never the number, so a database stays free of BSNs
in clear even with the mock in use.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import Insert, Select

from vogscreen.store.bulk import Rows
from vogscreen.store.models import NAMING, UtcDateTime

PREFIX = "mock_authority_"


class MockAuthorityBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON,
    }


class MockAuthoritySubscription(MockAuthorityBase):
    """A subscription as the authority sees it: a hash of the BSN, never the number."""

    __tablename__ = "mock_authority_subscriptions"

    ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    bsn_hash: Mapped[str] = mapped_column(String(64), unique=True)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime]


class MockAuthorityHit(MockAuthorityBase):
    __tablename__ = "mock_authority_hits"

    seq: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[str] = mapped_column(String(100), unique=True)
    ref: Mapped[str] = mapped_column(String(100))
    raised_at: Mapped[dt.datetime]


class MockAuthorityRequest(MockAuthorityBase):
    """Every write the mock authority applied, by idempotency key: the server-side count."""

    __tablename__ = "mock_authority_requests"

    idempotency_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    operation: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    applied: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[dt.datetime]


subscriptions = cast(Table, MockAuthoritySubscription.__table__)
hits = cast(Table, MockAuthorityHit.__table__)
requests = cast(Table, MockAuthorityRequest.__table__)
assert all(name.startswith(PREFIX) for name in MockAuthorityBase.metadata.tables)

# Two processes making the tables at once: the loser's CREATE fails, its next pass sees them.
_CREATE_PASSES = 3


def create_tables(engine: Engine) -> None:
    """Make the mock's tables where they are missing.

    Checked each time a mock is built, not remembered per engine: a database file may be
    replaced under an engine (the simulation copies a template over it for every seed)."""
    for attempt in range(_CREATE_PASSES):
        try:
            with engine.begin() as connection:
                MockAuthorityBase.metadata.create_all(connection, checkfirst=True)
            break
        except DBAPIError:
            if attempt == _CREATE_PASSES - 1:
                raise


# -- the statements of a batch -----------------------------------------------------------
# Batches are read as one table each (see vogscreen.store.bulk.Rows); the statements that
# read them are built once per dialect.

KEYS = Rows("keys", key=String())
ANSWERS = Rows("answers", key=String(), result=JSON())
HASHES = Rows("hashes", bsn_hash=String())
NEW = Rows("new", ref=String(), bsn_hash=String(), birth_date=Date())


@functools.cache
def recorded_answers(dialect: str) -> Select[Any]:
    keys = KEYS.table(dialect)
    return select(requests.c.idempotency_key, requests.c.result).join(
        keys, requests.c.idempotency_key == keys.c.key
    )


@functools.cache
def record_answers(dialect: str) -> Insert:
    answers = ANSWERS.table(dialect)
    c = requests.c
    return insert(requests).from_select(
        [c.idempotency_key, c.operation, c.result, c.applied, c.at],
        select(
            answers.c.key,
            bindparam("op", type_=c.operation.type),
            answers.c.result,
            literal(1),
            bindparam("now", type_=c.at.type),
        ),
    )


@functools.cache
def known_subscriptions(dialect: str) -> Select[Any]:
    wanted = HASHES.table(dialect)
    c = subscriptions.c
    return select(c.ref, c.bsn_hash, c.birth_date, c.active).join(
        wanted, c.bsn_hash == wanted.c.bsn_hash
    )


@functools.cache
def add_subscriptions(dialect: str) -> Insert:
    new = NEW.table(dialect)
    c = subscriptions.c
    return insert(subscriptions).from_select(
        [c.ref, c.bsn_hash, c.birth_date, c.active, c.created_at],
        select(
            new.c.ref,
            new.c.bsn_hash,
            new.c.birth_date,
            true(),
            bindparam("now", type_=c.created_at.type),
        ),
    )
