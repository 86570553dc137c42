"""A previewed file, kept until it is handed in: so the board chooses its file once.

A staff list holds BSNs and birth dates, so the file is kept only encrypted (AES-GCM under
a key derived for this purpose), bound to the board and the session that previewed it,
and for an hour at most. Handing it in removes it; so does :func:`sweep` once the hour
has passed, which the next preview runs and the worker's daily retention job too, so a
preview nobody came back for does not stay on disk.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vogscreen.pipeline.login import Principal, portal_key
from vogscreen.runtime.bootstrap import App

KEPT_SECONDS = 3600
_NONCE = 12


@dataclass(frozen=True)
class Preview:
    key: str
    filename: str
    data: bytes


def _folder(app: App) -> Path:
    folder = Path(app.settings.var_dir) / "portal-previews"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _bound(who: Principal, filename: str) -> bytes:
    return json.dumps([who.board, who.session_id, filename]).encode()


def _path(app: App, key: str) -> Path | None:
    # Keys are ours (token_urlsafe): anything else names no file.
    if not key or not all(c.isalnum() or c in "-_" for c in key):
        return None
    return _folder(app) / f"{key}.bin"


def keep(app: App, who: Principal, filename: str, data: bytes) -> str:
    sweep(app)
    key = secrets.token_urlsafe(24)
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(portal_key(app, "preview")).encrypt(nonce, data, _bound(who, filename))
    name = filename.encode()
    path = _path(app, key)
    assert path is not None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(len(name).to_bytes(2, "big") + name + nonce + sealed)
    return key


def take(app: App, who: Principal, key: str) -> Preview | None:
    """The previewed file of this board and session, while it is kept."""
    path = _path(app, key)
    if path is None or not path.is_file():
        return None
    if time.time() - path.stat().st_mtime > KEPT_SECONDS:
        path.unlink(missing_ok=True)
        return None
    raw = path.read_bytes()
    size = int.from_bytes(raw[:2], "big")
    filename = raw[2 : 2 + size].decode()
    nonce, sealed = raw[2 + size : 2 + size + _NONCE], raw[2 + size + _NONCE :]
    try:
        data = AESGCM(portal_key(app, "preview")).decrypt(nonce, sealed, _bound(who, filename))
    except InvalidTag:  # another board's or another session's preview
        return None
    return Preview(key, filename, data)


def forget(app: App, key: str) -> None:
    path = _path(app, key)
    if path is not None:
        path.unlink(missing_ok=True)


def sweep(app: App) -> int:
    """Remove the previews kept longer than :data:`KEPT_SECONDS`; how many."""
    folder = Path(app.settings.var_dir) / "portal-previews"
    if not folder.is_dir():
        return 0
    cutoff = time.time() - KEPT_SECONDS
    removed = 0
    for path in folder.glob("*.bin"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed
