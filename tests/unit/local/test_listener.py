"""The listening socket handed to the API server."""

from __future__ import annotations

import asyncio
import socket

from flowapp.local.instance import bind_listener


async def test_connections_to_the_listener_send_without_delay() -> None:
    """Answers leave at once (TCP_NODELAY), not after the client's delayed ACK."""
    listener = bind_listener("127.0.0.1", 0)
    accepted: asyncio.Future[asyncio.BaseTransport] = asyncio.get_running_loop().create_future()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(transport)

    server = await asyncio.get_running_loop().create_server(Accept, sock=listener)
    port = listener.getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        transport = await asyncio.wait_for(accepted, 5)
        served = transport.get_extra_info("socket")
        assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        writer.close()
        server.close()
        await server.wait_closed()
