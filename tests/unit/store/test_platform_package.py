"""The platform store's surface: exports, the opener, and adapters that match the port."""

from __future__ import annotations

import inspect
from typing import Generic, Protocol

import pytest

import flowapp.store.platform
from flowapp.store.platform import (
    MemoryPlatformStore,
    PlatformStore,
    open_platform_store,
)
from flowapp.store.platform.sql import SqlPlatformStore


def test_exports_are_pinned() -> None:
    assert sorted(flowapp.store.platform.__all__) == [
        "AlertRuleRecord",
        "AlertRuleSpec",
        "AlertStateRecord",
        "AlreadyExists",
        "AppExists",
        "AppObservation",
        "AppRecord",
        "Condition",
        "ConditionRecord",
        "DeployRecord",
        "FunctionStatus",
        "InvalidTraffic",
        "InvalidValue",
        "MemoryPlatformStore",
        "NotFound",
        "NotificationRecord",
        "PlatformStore",
        "RevisionRecord",
        "SecretRecord",
        "TokenRecord",
        "TrafficSplit",
        "TriggerStatus",
        "open_platform_store",
    ]


def test_a_five_line_test_needs_no_database() -> None:
    store = open_platform_store("memory://")
    store.create_app("shop", namespace="default", resource={"spec": {}}, now=1.0)
    revision = store.create_revision("shop", digest="sha256:a", resource={}, now=2.0)
    store.set_traffic("shop", [(revision.id, 100)])
    assert store.get_traffic("shop") == [("shop-00001", 100)]
    assert isinstance(store, MemoryPlatformStore)


def test_sql_urls_open_the_sql_store_without_connecting() -> None:
    store = open_platform_store("postgresql://nobody@127.0.0.1:1/none")
    assert isinstance(store, SqlPlatformStore)
    assert store.engine.url.drivername == "postgresql+psycopg"
    store.close()


def _port_methods() -> list[str]:
    """Every method of the port, those of the parts it is made of too."""
    parts = [part for part in PlatformStore.__mro__ if part not in (object, Protocol, Generic)]
    return sorted({name for part in parts for name in vars(part) if not name.startswith("_")})


@pytest.mark.parametrize("adapter", [MemoryPlatformStore, SqlPlatformStore])
@pytest.mark.parametrize("name", _port_methods())
def test_adapters_implement_the_port_with_its_signatures(adapter: type, name: str) -> None:
    expected = inspect.signature(getattr(PlatformStore, name))
    assert inspect.signature(getattr(adapter, name)) == expected
