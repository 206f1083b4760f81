"""Serve an ASGI app with uvicorn in a background thread, on a free port of 127.0.0.1.

For tests and demos that need a real HTTP server in-process (the CLI's end-to-end
tests, schemathesis runs); ``flowapp up`` runs uvicorn on its own.

    with ThreadedServer(app) as server:
        httpx.get(server.url + "/healthz")
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT = 10.0


class ThreadedServer:
    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ThreadedServer:
        sock = socket.socket()
        sock.bind((self.host, 0))  # bound here, so the port is known before uvicorn runs
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, lifespan="off", ws="none", log_level="warning", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        server, thread = self._server, self._thread
        deadline = time.monotonic() + START_TIMEOUT
        while server is not None and thread is not None and not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
