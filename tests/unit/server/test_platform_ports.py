"""The platform's ports: ``Platform`` is made of the narrow ports the routes use, and
both implementations provide every method of each with the port's signature."""

from __future__ import annotations

import inspect
from typing import Generic, Protocol

import pytest

from flowapp.cluster.platform import ClusterPlatform
from flowapp.local.platform import LocalPlatform
from flowapp.server import platform as p

PORTS = [
    p.AppLookup,
    p.AppsPort,
    p.RunPolicyPort,
    p.DeploysPort,
    p.InvocationsPort,
    p.LogsPort,
    p.EventsPort,
    p.WebhooksPort,
    p.SourcesPort,
]


def _methods(port: type) -> list[str]:
    parts = [part for part in port.__mro__ if part not in (object, Protocol, Generic)]
    return sorted({name for part in parts for name in vars(part) if not name.startswith("_")})


def test_the_platform_is_the_union_of_the_ports() -> None:
    assert set(_methods(p.Platform)) == {name for port in PORTS for name in _methods(port)}
    assert not {name for name in vars(p.Platform) if not name.startswith("_")}


@pytest.mark.parametrize("implementation", [LocalPlatform, ClusterPlatform])
@pytest.mark.parametrize("name", _methods(p.Platform))
def test_each_implementation_has_each_method_with_its_signature(
    implementation: type, name: str
) -> None:
    expected = inspect.signature(getattr(p.Platform, name), eval_str=True)
    assert inspect.signature(getattr(implementation, name), eval_str=True) == expected
