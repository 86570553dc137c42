"""Alembic environment: runs on a connection handed in by vogscreen, or on the URL."""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from vogscreen.runtime.settings import load_settings
from vogscreen.store.database import make_engine
from vogscreen.store.models import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata
# The mock authority's tables (vogscreen.testing.authority_schema) share a database with
# ours when the in-process mock runs; they are its own, made by it, and never drift.
MOCK_AUTHORITY_PREFIX = "mock_authority_"


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(MOCK_AUTHORITY_PREFIX))


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import our models (they change); a UTC timestamp is a plain
    # timezone-aware DateTime in the database.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url or os.environ.get("VOGSCREEN_DATABASE_URL"):
        url = load_settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


run_migrations_online()
