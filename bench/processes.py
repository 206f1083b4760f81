"""Processes a benchmark starts: function hosts and engine processes, cleaned up after."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} was up")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@contextlib.contextmanager
def function_host(folder: Path = HERE / "functions" / "echo") -> Iterator[tuple[str, int]]:
    """A real function process serving ``folder``; yields its URL and pid."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "FLOWAPP_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flowapp.functions.host", "--path", str(folder)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{url}/healthz", process)
        yield url, process.pid
    finally:
        _stop(process)


@contextlib.contextmanager
def engine_processes(db: str, count: int, function_url: str) -> Iterator[list[int]]:
    """``count`` `flowapp engine` processes sharing ``db``; yields their pids."""
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flowapp.cli.main",
                "engine",
                "--db",
                db,
                "--owner",
                f"bench-{index}",
                "--function",
                f"echo={function_url}",
                "--lease",
                "10",
                "--poll",
                "0.01",
            ],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index in range(count)
    ]
    try:
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            _stop(process)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), children excluded."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
