"""Fixtures for git over HTTP: the ASGI app under uvicorn on 127.0.0.1, and the real git CLI.

- ``start_server(authenticate=…, on_push=…, max_body_bytes=…)`` serves ``git_http_app``
  mounted at ``/git`` in a Starlette app (as the flowapp server mounts it) with uvicorn
  in a thread, on a socket bound to a free port; it records every push notification
  and every request's ``Content-Encoding``. ``server`` is one with token authentication
  (``TOKEN``). A test in which the server logs an error fails, unless the test expected
  it and cleared ``caplog``.
- ``git(*args, cwd=…)`` runs git with a private ``HOME``, no prompts, no system config
  and a fixed identity; ``check=False`` returns a failed run instead of raising.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from flowapp.gitrepos import Repositories, git_http_app
from flowapp.gitrepos.asgi import ASGIApp, Receive, Scope, Send, header
from flowapp.gitrepos.http import OnPush

TOKEN = "fa_test_token"
USER = "ada"


@dataclass
class GitServer:
    repos: Repositories
    port: int
    pushes: list[tuple[str, str, str]] = field(default_factory=list)
    encodings: list[str | None] = field(default_factory=list)

    def url(self, app: str, *, password: str | None = TOKEN) -> str:
        credentials = f"{USER}:{password}@" if password is not None else ""
        return f"http://{credentials}127.0.0.1:{self.port}/git/{app}.git"


StartServer = Callable[..., GitServer]
Git = Callable[..., subprocess.CompletedProcess[str]]


async def check_token(app: str, username: str | None, password: str | None) -> bool:
    return password == TOKEN


def _recording(app: ASGIApp, encodings: list[str | None]) -> ASGIApp:
    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            encodings.append(header(scope, b"content-encoding"))
        await app(scope, receive, send)

    return recorded


@pytest.fixture
def start_server(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[StartServer]:
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(
        authenticate: Callable[[str, str | None, str | None], Awaitable[bool]] | None = check_token,
        on_push: OnPush | None = None,
        **options: Any,
    ) -> GitServer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = GitServer(Repositories(tmp_path / "repos"), sock.getsockname()[1])

        async def record(app: str, old: str, new: str) -> None:
            server.pushes.append((app, old, new))
            if on_push is not None:
                await on_push(app, old, new)

        git_app = git_http_app(server.repos, authenticate=authenticate, on_push=record, **options)
        asgi = Starlette(routes=[Mount("/git", app=_recording(git_app, server.encodings))])
        # log_config=None: uvicorn's records reach pytest's log capture, checked below.
        config = uvicorn.Config(asgi, lifespan="off", ws="none", log_config=None)
        running.append(_serve(uvicorn.Server(config), sock))
        return server

    yield start
    for uv, thread in running:
        uv.should_exit = True
        thread.join(timeout=10)
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert errors == [], "the server logged errors (a test expecting them clears caplog)"


def _serve(server: uvicorn.Server, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return server, thread


@pytest.fixture
def server(start_server: StartServer) -> GitServer:
    return start_server()


@pytest.fixture
def git(tmp_path: Path) -> Git:
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(HOME=str(home), GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    identity = ["-c", "user.name=Ada", "-c", "user.email=ada@example.com"]

    def run(
        *args: str, cwd: Path = tmp_path, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["git", *identity, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed:\n{done.stderr}")
        return done

    return run
