"""A `flowapp up` process for end-to-end tests, cleaned up afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningPlatform:
    url: str
    token: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"flowapp up exited ({process.returncode}):\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"flowapp up did not answer within {timeout} s:\n{log.read_text()}")


@contextlib.contextmanager
def flowapp_up(
    data_dir: Path,
    *args: str,
    timeout: float = 90,
    token: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[RunningPlatform]:
    """A `flowapp up` process (on a free port unless ``port`` is given). Only the first
    on a database creates (and saves) an admin token: a replica sharing its database is
    given that token as ``token``. ``env``: variables added to this process's for it."""
    port = port or free_port()
    log = data_dir.parent / f"{data_dir.name}-up.log"
    command = [
        sys.executable,
        "-m",
        "flowapp.cli.main",
        "up",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        *args,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **env} if env else None,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log, timeout)
        token = token or (data_dir / "admin-token").read_text().strip()
        yield RunningPlatform(url, token, data_dir, process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def create_and_deploy(api: httpx.Client, text: str, name: str) -> None:
    created = api.post("/api/v1/apps", content=text, headers={"content-type": "application/yaml"})
    assert created.status_code == 201, created.text
    deployed = api.post(f"/api/v1/apps/{name}/deploys")
    assert deployed.status_code == 201, deployed.text


def wait_for_execution(api: httpx.Client, execution_id: str, timeout: float = 20) -> dict:
    """The execution once it has ended (or as it is after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = api.get(f"/api/v1/executions/{execution_id}").json()
        if shown["status"] in ("completed", "faulted", "cancelled") or time.monotonic() > deadline:
            return shown
        time.sleep(0.1)
