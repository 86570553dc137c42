"""The bulk-write helpers store exactly what a Core insert would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Table, insert, select

from tests.reconcile_helpers import hand_in
from vogscreen.runtime.bootstrap import App
from vogscreen.store.bulk import insert_rows
from vogscreen.store.database import transaction
from vogscreen.store.models import AuditEvent, StaffListRow, table
from vogscreen.testing import fake_employees


def stored(app: App, rows: Table, columns: list[str]) -> list[tuple[object, ...]]:
    with app.sessions() as session:
        query = select(*(rows.c[name] for name in columns)).order_by(rows.c.id)
        return [tuple(row) for row in session.execute(query)]


def test_insert_rows_stores_the_values_a_core_insert_stores(app: App) -> None:
    columns = ["at", "actor", "action", "entity", "entity_id", "board_id", "details"]
    events = [
        (app.now(), "ops", "x.done", "thing", "7", None, {"rows": 3, "names": ["ä", None]}),
        (app.now() + dt.timedelta(microseconds=5), "ops", "y", "thing", None, None, {}),
    ]
    with transaction(app.sessions) as session:
        insert_rows(session, table(AuditEvent), columns, events)
        session.execute(
            insert(table(AuditEvent)), [dict(zip(columns, e, strict=True)) for e in events]
        )
    assert stored(app, table(AuditEvent), columns) == events + events


def test_insert_rows_keeps_dates_bytes_and_empty_values(
    app: App, board: str, tmp_path: Path
) -> None:
    hand_in(app, board, fake_employees(1), tmp_path)  # one row, stored by the intake
    rows = table(StaffListRow)
    columns = [column.name for column in rows.c if column.name != "id"]
    [original] = stored(app, rows, columns)
    assert any(isinstance(value, dt.date) for value in original)
    assert any(isinstance(value, bytes) for value in original)
    assert None in original
    with transaction(app.sessions) as session:
        insert_rows(session, rows, columns, [original])
    assert stored(app, rows, columns) == [original, original]
