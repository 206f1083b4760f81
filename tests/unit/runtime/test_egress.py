"""The egress policy's decisions: which addresses are public, what the allow list admits,
and the resolver that hands aiohttp only admitted addresses."""

from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from flowapp.runtime.egress import (
    EgressPolicy,
    EgressRefused,
    PolicyResolver,
    parse_rule,
    refused_by_policy,
)

ENFORCED = EgressPolicy.enforcing()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("192.0.2.10", "private"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::1", "127.0.0.1 inside"),  # 6to4
        ("64:ff9b::a9fe:a9fe", "169.254.169.254 inside"),  # NAT64
    ],
)
def test_what_is_not_public_is_refused_with_its_reason(address: str, reason: str) -> None:
    refusal = ENFORCED.refusal("example.test", address, 443)
    assert refusal is not None and reason in refusal
    assert "--allow-egress" in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_unicast_addresses_pass(address: str) -> None:
    assert ENFORCED.refusal("example.test", address, 443) is None


def test_an_open_policy_refuses_nothing() -> None:
    assert EgressPolicy().refusal("x", "127.0.0.1", 80) is None


@pytest.mark.parametrize(
    ("entries", "host", "address", "port", "admitted"),
    [
        (["10.0.0.0/8"], "db.internal", "10.9.8.7", 5432, True),
        (["10.0.0.0/8"], "db.internal", "192.168.0.1", 5432, False),
        (["127.0.0.1"], "127.0.0.1", "127.0.0.1", 8080, True),
        (["127.0.0.1:8080"], "127.0.0.1", "127.0.0.1", 8081, False),
        (["[::1]:8443"], "::1", "::1", 8443, True),
        (["api.internal:8443"], "API.internal.", "10.0.0.5", 8443, True),
        (["api.internal:8443"], "api.internal", "10.0.0.5", 80, False),
        (["api.internal"], "evil.internal", "10.0.0.5", 80, False),
        (["*.corp.example"], "a.b.corp.example", "10.0.0.5", 80, True),
        (["*.corp.example"], "corp.example", "10.0.0.5", 80, False),
        (["10.0.0.0/8,api.internal"], "api.internal", "172.16.0.1", 80, True),
    ],
)
def test_the_allow_list_admits_addresses_networks_names_and_ports(
    entries: list[str], host: str, address: str, port: int, admitted: bool
) -> None:
    policy = EgressPolicy.enforcing(entries)
    assert (policy.refusal(host, address, port) is None) is admitted


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "empty"),
        ("10.0.0.0/8:99999", "port must be a number"),
        ("api.internal:http", "port must be a number"),
        ("not a host", "neither an address"),
        ("*.", "neither an address"),
    ],
)
def test_a_bad_allow_list_entry_says_what_is_wrong(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rule(entry)


def test_rules_read_back_as_written() -> None:
    assert [str(parse_rule(e)) for e in ("10.0.0.0/8", "[::1]:8443", "api.internal:8443")] == [
        "10.0.0.0/8",
        "[::1]:8443",
        "api.internal:8443",
    ]


def test_an_address_in_the_url_is_checked_before_any_request() -> None:
    with pytest.raises(EgressRefused, match=r"169\.254\.169\.254"):
        ENFORCED.check_url(URL("http://169.254.169.254/latest/meta-data/"))
    with pytest.raises(EgressRefused):
        ENFORCED.check_url(URL("http://[::ffff:7f00:1]:8080/"))
    ENFORCED.check_url(URL("http://example.test/"))  # names are checked when resolved


class Answers(AbstractResolver):
    """A resolver that answers what it is told (a name that rebinds, say)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_the_resolver_hands_over_only_admitted_addresses() -> None:
    resolver = PolicyResolver(ENFORCED, Answers("127.0.0.1", "93.184.215.14"))
    found = await resolver.resolve("mixed.example", 443)
    assert [r["host"] for r in found] == ["93.184.215.14"]


async def test_a_name_that_resolves_only_to_refused_addresses_is_refused() -> None:
    resolver = PolicyResolver(ENFORCED, Answers("169.254.169.254"))
    with pytest.raises(EgressRefused) as raised:
        await resolver.resolve("metadata.example", 80)
    assert "metadata.example (169.254.169.254)" in str(raised.value)
    assert refused_by_policy(OSError("wrapped")) is None
