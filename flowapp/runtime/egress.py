"""The egress policy: which addresses a workflow's outbound calls may reach.

``flowapp up`` enforces it by default (``flowapp run`` and ``flowapp dev`` leave it open:
the machine is their user's). Enforced, a call may reach a public unicast address, or an
address the allow list admits; everything else is refused: loopback, link-local (with the
cloud metadata service at 169.254.169.254), private ranges (RFC 1918, fc00::/7), shared
address space (CGNAT, 100.64.0.0/10), ``0.0.0.0/8``, multicast, documentation and
reserved ranges, and IPv6 addresses that embed one of those (IPv4-mapped, 6to4, NAT64,
Teredo). Allow-list entries (``--allow-egress``):

- ``10.0.0.0/8``, ``127.0.0.1``, ``::1``: addresses (any port), ``…:8443`` or
  ``[::1]:8443`` for one port;
- ``api.internal``, ``*.corp.example``, ``api.internal:8443``: a host name (or any name
  under a domain) that may resolve to anything, on any port or on one.

Enforcement: a host name is resolved once, by ``PolicyResolver``, and only the addresses
the policy admits are handed to aiohttp's connector, which connects to exactly those
(TLS still verifies and sends the host name: SNI and ``Host`` are unchanged); so a name
that resolves to a public address for the check and a private one for the connection
(DNS rebinding) cannot get through. An address written in the URL never reaches a
resolver: ``check_url`` checks it before the request. Redirects are followed by the
caller, hop by hop, each hop checked again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from yarl import URL

if TYPE_CHECKING:
    from flowapp.runtime.egress_resolver import PolicyResolver as PolicyResolver

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SHARED = ipaddress.ip_network("100.64.0.0/10")
METADATA = ipaddress.ip_network("169.254.0.0/16")


class EgressRefused(OSError):
    """A call to an address the policy refuses. An ``OSError``, as a failed lookup is,
    so that aiohttp reports it as the cause of a connection error."""

    def __init__(self, host: str, address: str, reason: str, port: int | None = None) -> None:
        shown = host if host == address else f"{host} ({address})"
        if port:
            shown += f" port {port}"
        super().__init__(f"the egress policy refuses {shown}: {reason}")
        self.host = host
        self.address = address
        self.reason = reason


def _embedded(address: Address) -> list[Address]:
    """The IPv4 addresses an IPv6 one carries (mapped, 6to4, NAT64, Teredo), then itself."""
    found: list[Address] = []
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if address in NAT64:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [*found, address]  # the embedded ones first: their reason is the telling one


def not_public(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address, or None if it is one."""
    for candidate in _embedded(address):
        reason = _kind(candidate)
        if reason is not None:
            return reason if candidate == address else f"{reason} ({candidate} inside {address})"
    return None


def _kind(address: Address) -> str | None:
    if address.is_loopback:
        return "a loopback address"
    if isinstance(address, ipaddress.IPv4Address) and address in METADATA:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address.packed[0] == 0
    ):
        return "an unspecified address (0.0.0.0/8, ::)"
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED:
        return "a shared address (carrier-grade NAT, 100.64.0.0/10)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address, not routable on the internet"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a special-purpose address, not routable on the internet"
    return None


@dataclass(frozen=True, slots=True)
class AllowRule:
    network: Network | None = None
    host: str | None = None  # a lower-case name, or "*.domain"
    port: int | None = None

    def admits(self, host: str, address: Address, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return any(a in self.network for a in _embedded(address))
        assert self.host is not None
        name = host.lower().rstrip(".")
        if self.host.startswith("*."):
            return name.endswith(self.host[1:])
        return name == self.host

    def __str__(self) -> str:
        where = str(self.host)
        if self.network is not None:
            single = self.network.num_addresses == 1
            where = str(self.network.network_address if single else self.network)
        if self.port is None:
            return where
        return f"[{where}]:{self.port}" if ":" in where else f"{where}:{self.port}"


def parse_rule(entry: str) -> AllowRule:
    """One allow-list entry; ``ValueError`` saying what is wrong with it."""
    text = entry.strip()
    if not text:
        raise ValueError("an empty entry")
    where, port = _split_port(text)
    try:
        return AllowRule(network=ipaddress.ip_network(where, strict=False), port=port)
    except ValueError:
        pass
    name = where.lower().rstrip(".")
    labels = name[2:] if name.startswith("*.") else name
    if not labels or not all(_is_label(label) for label in labels.split(".")):
        raise ValueError(f"`{entry}` is neither an address, a network nor a host name")
    return AllowRule(host=name, port=port)


def _split_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):  # [::1]:8443
        inside, _, rest = text[1:].partition("]")
        return inside, _port(rest[1:], text) if rest.startswith(":") else None
    if text.count(":") == 1:  # host:port or 10.0.0.1:8443 (an IPv6 address has several)
        where, _, port = text.partition(":")
        return where, _port(port, text)
    return text, None


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"`{entry}`: the port must be a number from 1 to 65535")
    return int(text)


def _is_label(label: str) -> bool:
    return 0 < len(label) <= 63 and all(c.isalnum() or c in "-_" for c in label)


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """``enforce`` off: every address (``flowapp run``, ``flowapp dev``)."""

    enforce: bool = False
    allowed: tuple[AllowRule, ...] = ()

    @classmethod
    def enforcing(cls, entries: Iterable[str] = ()) -> EgressPolicy:
        """Enforced, with an allow list of entries (each may hold several, comma-separated)."""
        rules = [parse_rule(e) for entry in entries for e in entry.split(",") if e.strip()]
        return cls(True, tuple(rules))

    def refusal(self, host: str, address: str, port: int) -> str | None:
        """Why a connection to ``address`` (for ``host``, on ``port``) is refused, or None."""
        if not self.enforce:
            return None
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return "not an IP address"
        reason = not_public(ip)
        if reason is None or any(rule.admits(host, ip, port) for rule in self.allowed):
            return None
        return f"{reason}; allow it with --allow-egress"

    def check(self, host: str, address: str, port: int) -> None:
        reason = self.refusal(host, address, port)
        if reason is not None:
            raise EgressRefused(host, address, reason, port)

    def check_url(self, url: URL) -> None:
        """An address written in the URL (names are checked when they are resolved)."""
        host = url.raw_host or ""
        try:
            ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return
        self.check(host, host, url.port or 0)


def refused_by_policy(error: BaseException) -> EgressRefused | None:
    """The refusal behind an aiohttp connection error, if that is what it is."""
    seen: set[int] = set()
    current: Any = error
    while current is not None and id(current) not in seen:
        if isinstance(current, EgressRefused):
            return current
        seen.add(id(current))
        current = getattr(current, "os_error", None) or current.__cause__
    return None


def __getattr__(name: str) -> Any:
    """``PolicyResolver`` lives beside aiohttp (``egress_resolver``), loaded when asked for."""
    if name == "PolicyResolver":
        from flowapp.runtime.egress_resolver import PolicyResolver

        return PolicyResolver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
