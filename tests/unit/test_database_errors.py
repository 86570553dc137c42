"""Driver errors an operator or a board can act on are said as ours, in one line."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from vogscreen.domain.errors import DatabaseBusy
from vogscreen.store.database import translate_error


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_busy_so_it_is_tried_again(sqlstate: str) -> None:
    error = OperationalError("INSERT …", {}, _DriverError("deadlock detected", sqlstate))
    ours = translate_error(error, "postgresql+psycopg://u@127.0.0.1/db")
    assert isinstance(ours, DatabaseBusy)
    assert "try again" in str(ours)


def test_another_operational_error_is_left_alone() -> None:
    error = OperationalError("SELECT …", {}, _DriverError("disk I/O error"))
    assert translate_error(error, "sqlite:///var/vogscreen.db") is None
