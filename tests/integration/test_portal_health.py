"""The portal's health and readiness, and where its API document lives."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient

from vogscreen.runtime.bootstrap import App
from vogscreen.store.database import make_engine
from vogscreen.web.app import create_app


def test_healthz_answers_while_the_process_lives(portal: TestClient) -> None:
    assert portal.get("/healthz").status_code == 200


def test_readyz_answers_200_when_the_database_answers_and_503_when_it_does_not(
    portal: TestClient, app: App
) -> None:
    assert portal.get("/readyz").json() == {"database": "answers"}
    # Nothing listens on port 1 of loopback: the connection is refused at once.
    gone = make_engine("postgresql+psycopg://vogscreen@127.0.0.1:1/vogscreen")
    with TestClient(create_app(dataclasses.replace(app, engine=gone))) as unready:
        answer = unready.get("/readyz")
        assert unready.get("/healthz").status_code == 200
    assert answer.status_code == 503
    assert answer.json() == {"database": "does not answer"}


def test_the_openapi_document_and_the_docs_are_served_under_api(portal: TestClient) -> None:
    document = portal.get("/api/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.")
    assert portal.get("/api/docs").status_code == 200


def test_htmx_is_served_from_the_package(portal: TestClient) -> None:
    answer = portal.get("/static/htmx.min.js")
    assert answer.status_code == 200
    assert b"htmx" in answer.content[:200]
