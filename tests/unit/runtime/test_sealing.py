"""Known secret values kept out of what is saved: sealed reversibly (state, outbox
commands) or masked (records)."""

from __future__ import annotations

import pytest

from flowapp.runtime.sealing import (
    MASK,
    NONE,
    REFERENCES,
    KnownSecrets,
    SecretGone,
    seal_state,
    unseal,
    unseal_state,
)

SECRETS = {
    "token": "tok-123456",
    "petStore": {"username": "ada", "password": "pa/ss~word"},
    "client": {"id": "client-1", "secret": "cs-999999", "scopes": ["read-all"]},
}


def test_every_occurrence_is_sealed_and_comes_back() -> None:
    known = KnownSecrets(SECRETS)
    command = {
        "headers": {"Authorization": "Bearer tok-123456", "X-Both": "tok-123456:cs-999999"},
        "url": "https://api.example.com/x?key=tok-123456&k2=tok-123456",
        "auth": {"scheme": "oauth2", "client": {"id": "client-1", "secret": "cs-999999"}},
        "body": [1, None, "pa/ss~word"],
    }
    sealed, references = known.seal(command)
    text = repr(sealed)
    for value in ("tok-123456", "cs-999999", "pa/ss~word", "client-1"):
        assert value not in text
    assert sealed["headers"]["Authorization"] == f"Bearer {MASK}"
    assert sealed["url"] == f"https://api.example.com/x?key={MASK}&k2={MASK}"
    assert unseal(sealed, references, SECRETS) == command


def test_short_values_are_not_looked_for() -> None:
    sealed, references = KnownSecrets(SECRETS).seal({"who": "ada lovelace"})
    assert sealed == {"who": "ada lovelace"} and references == []


def test_the_longest_secret_wins_where_two_overlap() -> None:
    secrets = {"short": "abcd", "long": "abcdefgh"}
    sealed, references = KnownSecrets(secrets).seal("xabcdefghy abcd")
    assert sealed == f"x{MASK}y {MASK}"
    assert unseal(sealed, references, secrets) == "xabcdefghy abcd"


def test_a_mask_written_by_a_workflow_or_a_caller_is_never_replaced() -> None:
    """References name positions, not placeholder texts: input cannot pull a secret in."""
    known = KnownSecrets(SECRETS)
    value = {"from-caller": f"{MASK} and {MASK}", "real": "tok-123456"}
    sealed, references = known.seal(value)
    opened = unseal(sealed, references, SECRETS)
    assert opened == value
    assert "tok-123456" not in opened["from-caller"]


def test_keys_that_need_escaping_in_pointers() -> None:
    known = KnownSecrets(SECRETS)
    value = {"a/b": {"c~d": ["x", "tok-123456"]}}
    sealed, references = known.seal(value)
    assert sealed == {"a/b": {"c~d": ["x", MASK]}}
    assert unseal(sealed, references, SECRETS) == value


def test_unsealing_uses_the_secrets_current_values() -> None:
    known = KnownSecrets(SECRETS)
    sealed, references = known.seal("Bearer tok-123456")
    rotated = {**SECRETS, "token": "tok-rotated"}
    assert unseal(sealed, references, rotated) == "Bearer tok-rotated"


def test_a_secret_no_longer_supplied_is_named() -> None:
    sealed, references = KnownSecrets(SECRETS).seal({"h": "Bearer tok-123456"})
    with pytest.raises(SecretGone) as raised:
        unseal(sealed, references, {})
    assert raised.value.name == "token"
    missing: list[str] = []
    assert unseal(sealed, references, {}, missing) == {"h": f"Bearer {MASK}"}
    assert missing == ["token"]


def test_a_state_keeps_its_references_beside_it() -> None:
    known = KnownSecrets(SECRETS)
    state = {"frames": {"1": {"input": {"token": "tok-123456"}}}, "status": "waiting"}
    sealed = seal_state(state, known)
    assert REFERENCES in sealed and "tok-123456" not in repr(sealed)
    assert unseal_state(sealed, SECRETS) == state
    assert seal_state(state, NONE) == state  # nothing known: unchanged, no references


def test_masking_for_records_is_final() -> None:
    masked = KnownSecrets(SECRETS).mask({"detail": "HTTP 401 from GET /x?key=tok-123456"})
    assert masked == {"detail": f"HTTP 401 from GET /x?key={MASK}"}
