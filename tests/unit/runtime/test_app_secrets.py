"""``AppSecrets``: each app's secrets merged from the environment, the file and the store,
sealed in the store, and never another app's."""

from __future__ import annotations

import logging
import os

import pytest

from flowapp.runtime.secrets import AppSecrets, KeyRing
from flowapp.store.platform import InvalidValue, MemoryPlatformStore, NotFound

T0 = 1_700_000_000.0


@pytest.fixture
def store() -> MemoryPlatformStore:
    store = MemoryPlatformStore()
    for app in ("shop", "billing"):
        store.create_app(app, namespace="default", resource={"kind": "FlowApp"}, now=T0)
    return store


def vault(store: MemoryPlatformStore, ring: KeyRing | None = None, **given: object) -> AppSecrets:
    return AppSecrets(store, ring or KeyRing((os.urandom(32),)), clock=lambda: T0, **given)  # type: ignore[arg-type]


def test_a_set_secret_is_stored_sealed_and_seen_by_its_app_only(
    store: MemoryPlatformStore,
) -> None:
    secrets = vault(store)
    secrets.set("shop", "apiKey", "k-123-plain")
    (record,) = store.list_secrets()
    assert b"k-123-plain" not in record.sealed
    assert secrets.for_app("shop") == {"apiKey": "k-123-plain"}
    assert secrets.for_app("billing") == {}
    assert secrets.for_app(None) == {}


def test_the_environment_overrides_the_file_which_overrides_the_store(
    store: MemoryPlatformStore,
) -> None:
    secrets = vault(
        store,
        file={"shop": {"a": "file", "b": "file"}},
        environment={"shop": {"a": "environment"}},
    )
    secrets.set("shop", "a", "store")
    secrets.set("shop", "c", "store")
    assert secrets.for_app("shop") == {"a": "environment", "b": "file", "c": "store"}
    listed = {info.name: (info.source, info.also_in) for info in secrets.list("shop")}
    assert listed == {
        "a": ("environment", ("file", "store")),
        "b": ("file", ()),
        "c": ("store", ()),
    }


def test_deleting_a_stored_secret(store: MemoryPlatformStore) -> None:
    secrets = vault(store)
    secrets.set("shop", "apiKey", "k")
    secrets.delete("shop", "apiKey")
    assert secrets.for_app("shop") == {}
    with pytest.raises(NotFound):
        secrets.delete("shop", "apiKey")


def test_a_change_made_by_another_process_arrives_at_the_next_load(
    store: MemoryPlatformStore,
) -> None:
    ring = KeyRing((os.urandom(32),))
    here, there = vault(store, ring), vault(store, ring)
    there.set("shop", "apiKey", "new")
    assert here.for_app("shop") == {}
    here.load()
    assert here.for_app("shop") == {"apiKey": "new"}


def test_rows_sealed_under_an_old_key_are_resealed_under_the_new_one(
    store: MemoryPlatformStore,
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    vault(store, KeyRing((old,))).set("shop", "apiKey", "k")
    rotated = vault(store, KeyRing((new, old)))
    assert rotated.reseal_old_rows() == 1
    (record,) = store.list_secrets()
    assert record.key_id == rotated.ring.current_id
    only_new = vault(store, KeyRing((new,)))
    only_new.load()
    assert only_new.for_app("shop") == {"apiKey": "k"}


def test_a_row_no_key_opens_is_left_out_and_logged_once(
    store: MemoryPlatformStore, caplog: pytest.LogCaptureFixture
) -> None:
    vault(store).set("shop", "apiKey", "k")
    other = vault(store)  # another key
    with caplog.at_level(logging.ERROR):
        other.load()
        other.load()
    assert other.for_app("shop") == {}
    assert [r.getMessage() for r in caplog.records if "apiKey" in r.getMessage()] == [
        "secret `apiKey` of app `shop` was sealed with key "
        f"{store.list_secrets()[0].key_id}, which this process does not have (give every "
        "process the same key: FLOWAPP_SECRETS_KEY or the same secrets.key)"
    ]


@pytest.mark.parametrize("value", ["x" * 70_000, {"n": float("nan")}])
def test_values_that_are_too_large_or_not_json_are_refused(
    store: MemoryPlatformStore, value: object
) -> None:
    with pytest.raises(InvalidValue):
        vault(store).set("shop", "apiKey", value)


def test_an_apps_processes_see_its_secrets_as_environment_variables(
    store: MemoryPlatformStore,
) -> None:
    secrets = vault(store, file={"shop": {"petStore": {"username": "ada"}}})
    secrets.set("shop", "apiKey", "k-123")
    assert secrets.environment_for("shop") == {
        "FLOWAPP_SECRET_apiKey": "k-123",
        "FLOWAPP_SECRET_petStore": '{"username": "ada"}',
    }
    assert secrets.environment_for("billing") == {}
