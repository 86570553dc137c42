"""Bulk SQL mechanics behind the store's named functions: batches as one bound value,
statements built once, the driver's ``executemany`` on SQLite, ``INSERT … SELECT``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    FromClause,
    Row,
    Select,
    String,
    Table,
    bindparam,
    func,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Insert
from sqlalchemy.types import TypeEngine

from vogscreen.domain.terms import TERM_COLUMNS, Terms

# Far below SQLite's limit of 32,766 bound values and PostgreSQL's 65,535.
CHUNK = 5000
T = TypeVar("T")


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Slices for IN lists and batches: a bounded number of bound values per statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- batches as one value ---------------------------------------------------------------


class Rows:
    """The shape of a batch of rows that a statement reads as one table.

    The rows travel as one bound value per column (PostgreSQL: ``unnest`` of arrays) or one
    in all (SQLite: ``json_each`` of a JSON array of rows), so a batch costs one statement,
    not one per row, nor an ``IN`` list of thousands of values that is sent, parsed and
    planned anew each time. Statements that read rows are built once per dialect and
    cached (``functools.cache``): building the SQL constructs costs more than a small batch.
    """

    def __init__(self, name: str, **columns: TypeEngine[Any]) -> None:
        self.name = name
        self.columns = columns

    def table(self, dialect: str) -> FromClause:
        if dialect == "postgresql":
            arrays = [
                bindparam(f"{self.name}_{column}", type_=ARRAY(kind))
                for column, kind in self.columns.items()
            ]
            return func.unnest(*arrays).table_valued(*self.columns).render_derived(self.name)
        each = func.json_each(bindparam(self.name, type_=String())).table_valued("value")
        fields = (
            type_coerce(func.json_extract(each.c.value, f"$[{i}]"), kind).label(column)
            for i, (column, kind) in enumerate(self.columns.items())
        )
        return select(*fields).select_from(each).subquery(self.name)

    def bind(self, dialect: str, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
        """The parameters that carry ``rows`` (tuples in the order of the columns)."""
        if dialect == "postgresql":
            return {
                f"{self.name}_{column}": [row[i] for row in rows]
                for i, column in enumerate(self.columns)
            }
        # Dates as ISO text: the form in which SQLite stores them.
        return {self.name: json.dumps(rows, default=_iso)}


def _iso(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be sent in a JSON array of rows")


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignore_from(dialect: str, target: Table, source: Select[Any], *key: str) -> Insert:
    """``INSERT … SELECT``, skipping rows whose ``key`` (one unique column or index) is
    already taken."""
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(target)
    names = [str(column.key) for column in source.selected_columns]
    # SQLite cannot tell an upsert's ON CONFLICT from a join's ON unless the SELECT has a
    # WHERE clause (its documentation asks for "WHERE true").
    return statement.from_select(names, source.where(true())).on_conflict_do_nothing(
        index_elements=list(key)
    )


class Lookup:
    """A query for all its rows or, in chunks, only those whose ``column`` is one of given
    values. Both statements are built once: on a per-board path, building a statement and
    its cache key cost more than SQLite running it."""

    def __init__(self, query: Select[*tuple[Any, ...]], column: Any) -> None:
        self.whole = query
        self.some = query.where(column.in_(bindparam("values", expanding=True)))

    def rows(
        self,
        session: Session,
        parameters: dict[str, Any],
        values: Sequence[Any] | None = None,
    ) -> list[Row[*tuple[Any, ...]]]:
        if values is None:
            return list(session.execute(self.whole, parameters).all())
        return [
            row
            for chunk in chunks(values)
            for row in session.execute(self.some, {**parameters, "values": list(chunk)}).all()
        ]


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    unless_taken: str | None = None,
) -> None:
    """Insert many rows given as tuples in the order of ``columns``; with ``unless_taken``,
    skip the rows whose value in that unique column is already there.

    On SQLite the rows go straight to the driver's ``executemany``, each value converted by
    its column type's own bind processor: the same SQL and values as a Core insert, without
    the parameter dictionary SQLAlchemy builds and walks per row, which costs more than
    SQLite's insert itself (20,000 staff-list rows: 0.24 s against 0.11 s). Elsewhere it is
    a Core insert (PostgreSQL batches it into multi-row statements).
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        statement = pg_insert(table)
        if unless_taken is not None:
            statement = statement.on_conflict_do_nothing(index_elements=[unless_taken])
        session.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    processors = [
        (position, process)
        for position, name in enumerate(columns)
        if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        # Values repeat (the same timestamp on every row, dates the validator parsed once):
        # each column remembers its last conversion.
        last: list[tuple[object, object]] = [(None, None)] * len(processors)
        converted = []
        for row in rows:
            values = list(row)
            for slot, (position, process) in enumerate(processors):
                value = values[position]
                if value is None:
                    continue
                seen, done = last[slot]
                if value is not seen:
                    done = process(value)
                    last[slot] = (value, done)
                values[position] = done
            converted.append(tuple(values))
        rows = converted
    marks = ", ".join("?" * len(columns))
    conflict = "" if unless_taken is None else f" ON CONFLICT ({unless_taken}) DO NOTHING"
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}){conflict}", list(rows)
    )


def ids_by(
    session: Session, table: Table, key: str, rows: Sequence[Sequence[Any]], columns: Sequence[str]
) -> dict[Any, int]:
    """Insert the rows whose ``key`` is new; the id of every row's key, new or not.

    The rows go in in the order of their key: two transactions that insert some of the same
    keys (two boards handing in lists that share a person, at once) then take the keys'
    locks in the same order, and one waits for the other instead of both deadlocking."""
    position = list(columns).index(key)
    rows = sorted(rows, key=lambda row: row[position])
    insert_rows(session, table, columns, rows, unless_taken=key)
    lookup = Lookup(select(table.c[key], table.c.id), table.c[key])
    return dict(lookup.rows(session, {}, [row[position] for row in rows]))


def insert_ignore(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    key: str,
    *,
    returning: str | None = None,
) -> dict[Any, Any]:
    """Insert many rows, skipping those whose ``key`` is already taken (SQLite and PostgreSQL).

    With ``returning``, maps the ``key`` of each row actually inserted to that column (as a
    generated id), in the same statements: no second query to learn the new ids.
    """
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    statement = statement.on_conflict_do_nothing(index_elements=[key])
    if returning is None:
        session.execute(statement, rows)
        return {}
    result = session.execute(statement.returning(table.c[key], table.c[returning]), rows)
    return {row[0]: row[1] for row in result}


# -- rows by name, at the speed of an index ---------------------------------------------


def by_name(fields: Sequence[str], *names: str) -> Callable[[Sequence[Any]], Any]:
    """A getter of the columns ``names`` of rows with these ``fields``: the columns are
    found by name once per result, then taken by index (a SQLAlchemy Row's attribute costs
    ten times as much, on lists of a board's every row)."""
    getter: Callable[[Sequence[Any]], Any] = itemgetter(
        *(list(fields).index(name) for name in names)
    )
    return getter


def terms_reader(fields: Sequence[str]) -> Callable[[Sequence[Any]], Terms]:
    """Terms of rows with these ``fields``, read by name (see :func:`by_name`)."""
    take = by_name(fields, *TERM_COLUMNS)
    return lambda row: Terms(*take(row))
