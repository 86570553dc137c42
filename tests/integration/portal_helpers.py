"""Logging in to the portal in tests: ask for a link, read it from the Maildir, follow it."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient

from vogscreen.runtime.bootstrap import App

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"https?://\S+/inloggen/link\?token=[\w-]+")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def mails(app: App) -> list[str]:
    """The bodies of every message in the Maildir, oldest first."""
    folder = Path(app.settings.maildir)
    if not (folder / "new").is_dir():
        return []
    files = [path for part in ("new", "cur") for path in (folder / part).iterdir()]
    bodies = []
    for path in sorted(files, key=lambda path: (path.stat().st_mtime_ns, path.name)):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
        bodies.append(part.get_content() if part else "")
    return bodies


def links_in(app: App) -> list[str]:
    return [link for body in mails(app) for link in _LINK.findall(body)]


def ask_for_link(portal: TestClient, address: str) -> int:
    token = csrf_of(portal.get("/inloggen").text)
    answer = portal.post(
        "/inloggen", data={"adres": address, "csrf_token": token}, follow_redirects=False
    )
    return answer.status_code


def follow(portal: TestClient, link: str) -> int:
    path = link.split("://", 1)[1].split("/", 1)[1]
    landing = portal.get("/" + path)
    if landing.status_code != 200:
        return landing.status_code
    token = link.rsplit("=", 1)[1]
    answer = portal.post(
        "/inloggen/link",
        data={"token": token, "csrf_token": csrf_of(landing.text)},
        follow_redirects=False,
    )
    return answer.status_code


def log_in(portal: TestClient, app: App, address: str = "hr@testscholen.nl") -> None:
    before = len(links_in(app))
    assert ask_for_link(portal, address) == 303
    link = links_in(app)[before]
    assert follow(portal, link) == 303
