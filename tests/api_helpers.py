"""Helpers for the API tests: a portal with a small body limit, tokens, files."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from fastapi.testclient import TestClient

from vogscreen.pipeline.tokens import create_token
from vogscreen.runtime.bootstrap import App
from vogscreen.testing import FakeEmployee, staff_csv
from vogscreen.web.app import create_app

PROBLEM = "application/problem+json"


@contextmanager
def portal_client(
    app: App, *, max_upload_bytes: int | None = None, raise_server_exceptions: bool = True
) -> Iterator[TestClient]:
    if max_upload_bytes is not None:
        app.settings = dataclasses.replace(app.settings, max_upload_bytes=max_upload_bytes)
    with TestClient(
        create_app(app),
        base_url="http://127.0.0.1:8000",
        raise_server_exceptions=raise_server_exceptions,
    ) as client:
        yield client


def bearer(app: App, board: str, name: str = "test") -> dict[str, str]:
    _, token = create_token(app, board, name, "test-operator")
    return {"Authorization": f"Bearer {token}"}


def csv_file(employees: Sequence[FakeEmployee], name: str = "personeel.csv") -> dict[str, object]:
    return {"file": (name, staff_csv(employees).encode(), "text/csv")}
