"""Sealing secrets for the database (AES-256-GCM) and where the key comes from."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from flowapp.runtime.secrets.box import (
    KEY_ENVIRONMENT,
    KEY_FILE,
    KeyRing,
    SecretsKeyError,
    encode_key,
    key_id,
    load_key_ring,
)


def ring(*keys: bytes) -> KeyRing:
    return KeyRing(keys or (os.urandom(32),))


def test_a_sealed_value_opens_to_the_same_json_and_holds_no_plaintext() -> None:
    box = ring()
    value = {"username": "ada", "password": "s3cr3t-value"}
    sealed_by, sealed = box.seal("shop", "petStore", value)
    assert sealed_by == box.current_id
    assert b"s3cr3t-value" not in sealed and b"ada" not in sealed
    assert box.open("shop", "petStore", sealed_by, sealed) == value


def test_sealing_twice_gives_different_bytes() -> None:
    box = ring()
    assert box.seal("shop", "k", "v")[1] != box.seal("shop", "k", "v")[1]


@pytest.mark.parametrize(("app", "name"), [("billing", "apiKey"), ("shop", "other")])
def test_a_sealed_value_moved_to_another_app_or_name_does_not_open(app: str, name: str) -> None:
    box = ring()
    sealed_by, sealed = box.seal("shop", "apiKey", "k-123")
    with pytest.raises(SecretsKeyError, match="altered, or moved"):
        box.open(app, name, sealed_by, sealed)


def test_an_altered_sealed_value_does_not_open() -> None:
    box = ring()
    sealed_by, sealed = box.seal("shop", "apiKey", "k-123")
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SecretsKeyError):
        box.open("shop", "apiKey", sealed_by, altered)


def test_the_first_key_seals_and_every_key_opens() -> None:
    old, new = os.urandom(32), os.urandom(32)
    sealed_by, sealed = ring(old).seal("shop", "apiKey", "k-123")
    rotated = ring(new, old)
    assert rotated.current_id == key_id(new) != sealed_by
    assert rotated.open("shop", "apiKey", sealed_by, sealed) == "k-123"
    with pytest.raises(SecretsKeyError, match="which this process does not have"):
        ring(new).open("shop", "apiKey", sealed_by, sealed)


def test_a_key_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(SecretsKeyError):
        KeyRing((b"short",))


def test_the_key_file_is_created_0600_once_and_reused(tmp_path: Path) -> None:
    first = load_key_ring(tmp_path, {})
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key_ring(tmp_path, {}).current_id == first.current_id


def test_a_key_file_others_can_read_is_made_0600(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_text(encode_key(os.urandom(32)) + "\n")
    path.chmod(0o644)
    load_key_ring(tmp_path, {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_from_the_environment_win_over_the_file(tmp_path: Path) -> None:
    load_key_ring(tmp_path, {})  # a file exists
    new, old = os.urandom(32), os.urandom(32)
    given = f"{encode_key(new)},{encode_key(old)}"
    loaded = load_key_ring(tmp_path, {KEY_ENVIRONMENT: given})
    assert loaded.keys == (new, old)


@pytest.mark.parametrize("given", ["not base64 !!", base64.urlsafe_b64encode(b"short").decode()])
def test_a_bad_key_in_the_environment_says_where(tmp_path: Path, given: str) -> None:
    with pytest.raises(SecretsKeyError, match=KEY_ENVIRONMENT):
        load_key_ring(tmp_path, {KEY_ENVIRONMENT: given})
