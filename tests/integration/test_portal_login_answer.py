"""The login page answers before the login letter is sent: how long the answer takes must
not tell whether an address is one of a board's recipients."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.portal_helpers import csrf_of
from tests.portal_server import serving
from vogscreen.runtime.bootstrap import App


@pytest.fixture
def tarpit() -> Iterator[int]:
    """An SMTP port that accepts a connection and never says a word (until the end)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    for connection in held:  # the stuck letter fails now, and is logged
        connection.close()
    listener.close()


def test_a_known_address_gets_its_answer_before_the_letter_has_gone(
    app: App, board: str, tarpit: int
) -> None:
    # The mail server never answers: a letter sent before the answer would hold the answer
    # for the mailer's 30-second timeout, past this client's 5 seconds.
    app.settings = dataclasses.replace(app.settings, smtp_url=f"smtp://127.0.0.1:{tarpit}")
    with serving(app) as url, httpx.Client(base_url=url, timeout=5) as client:
        for address in ("hr@testscholen.nl", "onbekend@example.nl"):
            token = csrf_of(client.get("/inloggen").text)
            answer = client.post("/inloggen", data={"adres": address, "csrf_token": token})
            assert answer.status_code == 303
            assert answer.headers["location"] == "/inloggen/verstuurd"
