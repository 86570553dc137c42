"""Keeping BSNs out of the clear.

A BSN is stored twice, never in clear:

* a **blind index**: HMAC-SHA256 under a secret key, so the same BSN always finds the same
  person without the database ever holding the number;
* an **AES-GCM ciphertext**, so the number can be recovered to send it to the authority.

The embedded default creates a key file (mode 0600) on first use, and only for a database
that holds nothing yet. Anywhere else the keys must be configured, and a missing key stops
start-up with a clear message. The database keeps check values of its keys
(:mod:`vogscreen.runtime.keycheck`), so a lost or swapped key is refused, not taken for new keys.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vogscreen.domain.errors import ConfigurationError
from vogscreen.runtime.settings import Settings

_NONCE_BYTES = 12
# Bound into every ciphertext, so a ciphertext cannot be moved to another purpose.
_AAD = b"vogscreen:bsn:v1"
_CHECK_LABEL = b"vogscreen:key-check:v1"
_CHECK_AAD = b"vogscreen:key-check"


@dataclass(frozen=True)
class BsnVault:
    hmac_key: bytes = field(repr=False)
    encryption_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.hmac_key) < 32:
            raise ConfigurationError("the BSN HMAC key must be at least 32 bytes")
        if len(self.encryption_key) != 32:
            raise ConfigurationError("the BSN encryption key must be 32 bytes (AES-256)")

    def blind_index(self, bsn: str) -> str:
        # A copy of the keyed state saves hashing the key again for every BSN.
        digest = self._keyed_hmac.copy()
        digest.update(bsn.encode("ascii"))
        return digest.hexdigest()

    @functools.cached_property
    def _keyed_hmac(self) -> hmac.HMAC:
        return hmac.new(self.hmac_key, digestmod=hashlib.sha256)

    def encrypt(self, bsn: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self.encryption_key).encrypt(nonce, bsn.encode("ascii"), _AAD)

    def decrypt(self, ciphertext: bytes) -> str:
        nonce, body = ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:]
        return AESGCM(self.encryption_key).decrypt(nonce, body, _AAD).decode("ascii")

    @property
    def fingerprint_key(self) -> bytes:
        """The key of staff-list row fingerprints: derived, so no third key to manage."""
        return hmac.new(self.hmac_key, b"vogscreen:staff-list-row:v1", hashlib.sha256).digest()

    def check_values(self) -> dict[str, bytes]:
        """What the database keeps to recognise these keys (nothing a BSN can be found by)."""
        return {
            "bsn_hmac": hmac.new(self.hmac_key, _CHECK_LABEL, hashlib.sha256).digest(),
            "bsn_aes": self._seal(_CHECK_LABEL),
        }

    def matches(self, stored: dict[str, bytes]) -> bool:
        """True when ``stored`` (from :meth:`check_values`) was made with these keys."""
        expected = hmac.new(self.hmac_key, _CHECK_LABEL, hashlib.sha256).digest()
        if not hmac.compare_digest(stored.get("bsn_hmac", b""), expected):
            return False
        sealed = stored.get("bsn_aes", b"")
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return AESGCM(self.encryption_key).decrypt(nonce, body, _CHECK_AAD) == _CHECK_LABEL
        except (InvalidTag, ValueError):
            return False

    def _seal(self, label: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self.encryption_key).encrypt(nonce, label, _CHECK_AAD)

    def cipher(self) -> BsnCipher:
        """A reusable encrypter for bulk paths (one AESGCM object, many BSNs)."""
        return BsnCipher(AESGCM(self.encryption_key))


@dataclass(frozen=True)
class BsnCipher:
    aead: AESGCM = field(repr=False)

    def encrypt(self, bsn: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self.aead.encrypt(nonce, bsn.encode("ascii"), _AAD)

    def decrypt(self, ciphertext: bytes) -> str:
        nonce, body = ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:]
        return self.aead.decrypt(nonce, body, _AAD).decode("ascii")


def _decode_key(name: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise ConfigurationError(f"VOGSCREEN_{name} is not valid base64") from None


def _read_key_file(path: Path) -> BsnVault:
    try:
        data = json.loads(path.read_text())
        return BsnVault(
            hmac_key=_decode_key("KEY_FILE hmac", data["hmac"]),
            encryption_key=_decode_key("KEY_FILE aes", data["aes"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"the key file {path} cannot be read: {type(exc).__name__}"
        ) from None


def fresh_keys() -> dict[str, str]:
    """A new pair of BSN keys, base64: ``hmac`` (blind index) and ``aes`` (encryption)."""
    return {
        "hmac": base64.b64encode(os.urandom(32)).decode(),
        "aes": base64.b64encode(AESGCM.generate_key(bit_length=256)).decode(),
    }


def create_key_file(path: Path) -> bool:
    """Write fresh BSN keys to ``path`` (mode 0600), unless a key file is already there.

    True when this call wrote the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        json.dump(fresh_keys(), handle)
    return True


def load_vault(settings: Settings, *, may_create: bool = True) -> BsnVault:
    """The configured keys. The embedded default's key file is created when missing, and
    only when ``may_create``: for a database that holds nothing encrypted yet."""
    if settings.bsn_hmac_key or settings.bsn_encryption_key:
        if not (settings.bsn_hmac_key and settings.bsn_encryption_key):
            raise ConfigurationError(
                "set both VOGSCREEN_BSN_HMAC_KEY and VOGSCREEN_BSN_ENCRYPTION_KEY, or neither"
            )
        return BsnVault(
            hmac_key=_decode_key("BSN_HMAC_KEY", settings.bsn_hmac_key),
            encryption_key=_decode_key("BSN_ENCRYPTION_KEY", settings.bsn_encryption_key),
        )
    if settings.key_file is not None:
        if not settings.key_file.exists():
            raise ConfigurationError(f"the key file {settings.key_file} does not exist")
        return _read_key_file(settings.key_file)
    if not settings.is_embedded:
        raise ConfigurationError(
            "no BSN keys configured: set VOGSCREEN_BSN_HMAC_KEY and "
            "VOGSCREEN_BSN_ENCRYPTION_KEY (base64, 32 bytes each) or VOGSCREEN_KEY_FILE"
        )
    path = settings.var_dir / "keys.json"
    if not path.exists():
        if not may_create:
            raise ConfigurationError(
                f"the key file {path} is missing, but the database holds data under its "
                "keys: restore the key file from a backup. New keys would make every "
                "person a stranger, so vogscreen will not create them for this database"
            )
        create_key_file(path)
    return _read_key_file(path)
