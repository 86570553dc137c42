"""Planner statistics: refreshed after a large write, so the next queries plan well."""

from __future__ import annotations

from sqlalchemy import Engine, text

# What an apply fills and a drain's claims and records read.
_TABLES = "authority_outbox, subscriptions, employments, staff_list_rows, persons"


def refresh_statistics(engine: Engine) -> None:
    """ANALYZE the tables an apply fills (PostgreSQL; SQLite plans without them)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text(f"ANALYZE {_TABLES}"))
