"""Persons: one row per BSN, found by its blind index; the BSN itself only as ciphertext."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from vogscreen.store.bulk import chunks, ids_by
from vogscreen.store.models import Person, table

# A person's own columns, named as a staff list's row names them too.
OWN_COLUMNS = ("birth_date", "surname", "prefix", "initials", "first_names")
_OWN = attrgetter(*OWN_COLUMNS)
_COLUMNS = ("bsn_index", "bsn_cipher", "created_at", *OWN_COLUMNS)


class KnownPerson(NamedTuple):
    id: int
    birth_date: dt.date


_KNOWN = select(Person.bsn_index, Person.id, Person.birth_date).where(
    Person.bsn_index.in_(bindparam("indexes", expanding=True))
)


def known_by_index(session: Session, indexes: Sequence[str]) -> dict[str, KnownPerson]:
    """The persons already stored, by blind index, among ``indexes`` (looked up in chunks)."""
    known: dict[str, KnownPerson] = {}
    for chunk in chunks(indexes):
        for index, person_id, birth_date in session.execute(_KNOWN, {"indexes": list(chunk)}):
            known[index] = KnownPerson(person_id, birth_date)
    return known


def add_persons(
    session: Session, created_at: dt.datetime, people: Sequence[tuple[str, bytes, Any]]
) -> dict[str, int]:
    """Store new persons and return the id of each by blind index.

    ``people`` are (blind index, BSN ciphertext, a row with the :data:`OWN_COLUMNS` as
    attributes). Someone may have stored one of these persons meanwhile: theirs is kept,
    and its id returned.
    """
    rows = [(index, cipher, created_at, *_OWN(row)) for index, cipher, row in people]
    return ids_by(session, table(Person), "bsn_index", rows, _COLUMNS)


_NAMES = select(
    Person.id, Person.surname, Person.prefix, Person.initials, Person.first_names
).where(Person.id.in_(bindparam("ids", expanding=True)))


class Name(NamedTuple):
    surname: str
    prefix: str | None
    initials: str | None
    first_names: str | None


def names_of(session: Session, person_ids: Sequence[int]) -> dict[int, Name]:
    """The names of persons by id (looked up in chunks); never a BSN or birth date."""
    names: dict[int, Name] = {}
    for chunk in chunks(person_ids):
        for row in session.execute(_NAMES, {"ids": list(chunk)}):
            names[row.id] = Name(row.surname, row.prefix, row.initials, row.first_names)
    return names
