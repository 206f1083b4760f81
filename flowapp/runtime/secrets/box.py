"""Sealing secrets for the database: AES-256-GCM (``cryptography``) under a key ring.

A sealed value is ``nonce (12 bytes) || ciphertext || tag``; the associated data binds it
to its app and name, so a sealed value copied to another app's row (by someone who can
write the database) does not open there. Each row records the id of the key that sealed
it (the first 16 hex digits of the key's SHA-256: it names the key without revealing it).

The key ring is a list of keys: the first seals, every one opens. It comes from
``FLOWAPP_SECRETS_KEY`` (keys in URL-safe base64, separated by commas) or, when that is
not set, from ``DATA_DIR/secrets.key`` (one key a line), which is created with one new
key and mode 0600 when it does not exist. Rotation: put a new key first, keep the old
ones after it, restart; ``AppSecrets`` re-seals every row under the first key at start,
after which the old keys can be removed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

KEY_ENVIRONMENT = "FLOWAPP_SECRETS_KEY"
KEY_FILE = "secrets.key"
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretsKeyError(Exception):
    """A key that cannot be used, or a sealed value no key of the ring opens."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def _associated_data(app: str, name: str) -> bytes:
    return b"flowapp-secret\x00" + app.encode() + b"\x00" + name.encode()


@dataclass(frozen=True, slots=True)
class KeyRing:
    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretsKeyError("the key ring has no key")
        for key in self.keys:
            if len(key) != KEY_BYTES:
                raise SecretsKeyError(f"a secrets key is {KEY_BYTES} bytes, not {len(key)}")

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def seal(self, app: str, name: str, value: Any) -> tuple[str, bytes]:
        """``(key id, sealed bytes)`` of a JSON value, under the first key."""
        nonce = os.urandom(NONCE_BYTES)
        plain = orjson.dumps(value)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, plain, _associated_data(app, name))
        return self.current_id, nonce + sealed

    def open(self, app: str, name: str, sealed_by: str, sealed: bytes) -> Any:
        """The JSON value; ``SecretsKeyError`` when no key of the ring opens it."""
        key = self._by_id().get(sealed_by)
        if key is None:
            raise SecretsKeyError(
                f"secret `{name}` of app `{app}` was sealed with key {sealed_by}, which this "
                f"process does not have (give every process the same key: {KEY_ENVIRONMENT} "
                f"or the same {KEY_FILE})"
            )
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            plain = AESGCM(key).decrypt(nonce, body, _associated_data(app, name))
        except InvalidTag:
            raise SecretsKeyError(
                f"secret `{name}` of app `{app}` does not open: it was altered, or moved "
                "from another app or name"
            ) from None
        return orjson.loads(plain)

    def _by_id(self) -> Mapping[str, bytes]:
        return {key_id(key): key for key in self.keys}


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def _decode_keys(texts: Sequence[str], where: str) -> KeyRing:
    keys = []
    for number, text in enumerate(texts, start=1):
        try:
            keys.append(base64.urlsafe_b64decode(text.strip().encode()))
        except ValueError:
            raise SecretsKeyError(f"{where}: key {number} is not URL-safe base64") from None
    try:
        return KeyRing(tuple(keys))
    except SecretsKeyError as error:
        raise SecretsKeyError(f"{where}: {error}") from None


def load_key_ring(data_dir: Path, environ: Mapping[str, str]) -> KeyRing:
    """The ring from ``FLOWAPP_SECRETS_KEY``, else from the data dir's key file (created
    0600 with a new key when missing; a file others can read is made 0600, loudly)."""
    given = environ.get(KEY_ENVIRONMENT, "").strip()
    if given:
        return _decode_keys([t for t in given.split(",") if t.strip()], KEY_ENVIRONMENT)
    path = data_dir / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o): made it 0600", path, mode)
        os.chmod(path, 0o600)
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return _decode_keys(lines, str(path))


def _create_key_file(path: Path) -> None:
    key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it a moment ago
    with os.fdopen(descriptor, "w") as file:
        file.write(encode_key(key) + "\n")
