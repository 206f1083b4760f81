"""Apps' sealed secrets, on every adapter of the platform store."""

from __future__ import annotations

import pytest

from flowapp.store.platform import InvalidValue, NotFound, PlatformStore

from .platform_factories import T0, make_app, platform_store_fixture  # noqa: F401 (the fixture)

SEALED = b"\x00\x01nonce-and-ciphertext\xff"


def test_a_secret_is_kept_as_sealed_bytes_per_app(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    make_app(platform_store, "billing")
    record = platform_store.put_secret("shop", "apiKey", key_id="k1", sealed=SEALED, now=T0)
    assert (record.app, record.name, record.key_id, record.sealed) == (
        "shop",
        "apiKey",
        "k1",
        SEALED,
    )
    platform_store.put_secret("billing", "apiKey", key_id="k1", sealed=b"other", now=T0)
    assert platform_store.list_secrets("shop") == [record]
    assert [(s.app, s.name) for s in platform_store.list_secrets()] == [
        ("billing", "apiKey"),
        ("shop", "apiKey"),
    ]


def test_replacing_a_secret_keeps_its_creation_time(platform_store: PlatformStore) -> None:
    make_app(platform_store)
    platform_store.put_secret("shop", "apiKey", key_id="k1", sealed=b"one", now=T0)
    replaced = platform_store.put_secret("shop", "apiKey", key_id="k2", sealed=b"two", now=T0 + 5)
    assert (replaced.created_at, replaced.updated_at, replaced.key_id) == (T0, T0 + 5, "k2")
    assert platform_store.list_secrets("shop") == [replaced]


def test_deleting_a_secret(platform_store: PlatformStore) -> None:
    make_app(platform_store)
    platform_store.put_secret("shop", "apiKey", key_id="k1", sealed=SEALED, now=T0)
    platform_store.delete_secret("shop", "apiKey")
    assert platform_store.list_secrets("shop") == []
    with pytest.raises(NotFound):
        platform_store.delete_secret("shop", "apiKey")


def test_a_secret_needs_a_live_app(platform_store: PlatformStore) -> None:
    with pytest.raises(NotFound):
        platform_store.put_secret("ghost", "apiKey", key_id="k1", sealed=SEALED, now=T0)


def test_deleting_an_app_deletes_its_secrets_and_a_new_app_of_that_name_has_none(
    platform_store: PlatformStore,
) -> None:
    make_app(platform_store)
    platform_store.put_secret("shop", "apiKey", key_id="k1", sealed=SEALED, now=T0)
    platform_store.delete_app("shop", now=T0 + 1)
    assert platform_store.list_secrets() == []
    make_app(platform_store, now=T0 + 2)
    assert platform_store.list_secrets("shop") == []


@pytest.mark.parametrize("name", ["", "1abc", "a/b", "a b", "x" * 129, "é"])
def test_secret_names_are_checked(platform_store: PlatformStore, name: str) -> None:
    make_app(platform_store)
    with pytest.raises(InvalidValue):
        platform_store.put_secret("shop", name, key_id="k1", sealed=SEALED, now=T0)


def test_an_oversized_or_empty_sealed_value_is_refused(platform_store: PlatformStore) -> None:
    make_app(platform_store)
    for sealed in (b"", b"x" * 70_001):
        with pytest.raises(InvalidValue):
            platform_store.put_secret("shop", "apiKey", key_id="k1", sealed=sealed, now=T0)
