"""The egress policy at the point of connection: an aiohttp resolver that hands the
connector only the addresses ``flowapp.runtime.egress`` admits. Apart from the policy,
so that checking a policy does not load aiohttp."""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from flowapp.runtime.egress import EgressPolicy, EgressRefused


class PolicyResolver(AbstractResolver):
    """Resolves once, then hands aiohttp only the addresses the policy admits."""

    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        admitted = [r for r in found if self.policy.refusal(host, r["host"], port) is None]
        if not admitted:
            first = found[0]["host"] if found else "no address"
            reason = self.policy.refusal(host, first, port) or "no address"
            raise EgressRefused(host, first, reason, port)
        return admitted

    async def close(self) -> None:
        await self.inner.close()
