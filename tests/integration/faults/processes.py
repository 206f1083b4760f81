"""Real processes for the fault tests: engines, function hosts, raw servers.

Every process starts in its own session (process group) so that a SIGKILL reaches it and
anything it spawned, and writes its output to a log file in the test's directory (shown
when an assertion fails). ``Processes`` remembers everything it started; the fixture in
``conftest.py`` kills what is left, whatever the test's outcome.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "faults"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def flowapp_command() -> list[str]:
    """The installed ``flowapp`` script next to this interpreter (as an operator runs it)."""
    script = Path(sys.executable).with_name("flowapp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flowapp.cli.main"]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: no handler, no cleanup, as a crash or an OOM kill."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, grace: float = 5.0) -> None:
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(
            self.log_text().splitlines()[-lines:]
        )

    def wait_for_log(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if not self.alive:
                raise AssertionError(f"{self.name} exited early\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never logged {text!r}\n{self.tail()}")
            time.sleep(0.05)

    def _signal_group(self, signum: int) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it died meanwhile
                os.killpg(self.popen.pid, signum)


class Processes:
    """Starts processes with logs under ``directory`` and kills the survivors in cleanup."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Process] = []

    def spawn(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> Process:
        log = self.directory / f"{name}-{len(self.started)}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                list(argv),
                cwd=REPO,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def tails(self) -> str:
        return "\n".join(p.tail() for p in self.started)

    def cleanup(self) -> None:
        for process in self.started:
            process.kill()

    # --- the processes the fault tests need ----------------------------------------

    def engine(
        self,
        *,
        db: str,
        owner: str,
        functions: Mapping[str, str],
        lease: float,
        poll: float = 0.05,
    ) -> Process:
        argv = [*flowapp_command(), "engine", "--db", db, "--owner", owner]
        argv += ["--lease", str(lease), "--poll", str(poll)]
        for name, url in functions.items():
            argv += ["--function", f"{name}={url}"]
        return self.spawn(f"engine-{owner}", argv)

    def function_host(
        self, folder: Path, env: Mapping[str, str] | None = None
    ) -> tuple[Process, str]:
        """A Python function host serving ``folder``; returns it and its URL once healthy."""
        port = free_port()
        argv = [sys.executable, "-m", "flowapp.functions.host", "--path", str(folder)]
        host_env = {"PORT": str(port), "FLOWAPP_GRACE_PERIOD": "1", **(env or {})}
        process = self.spawn(f"host-{folder.name}", argv, host_env)
        url = f"http://127.0.0.1:{port}/"
        wait_healthy(process, url + "healthz")
        return process, url

    def script(self, path: Path, env: Mapping[str, str] | None = None) -> tuple[Process, str]:
        """A stand-alone server script that listens on ``PORT``; returns it and its URL."""
        port = free_port()
        process = self.spawn(
            path.stem, [sys.executable, str(path)], {"PORT": str(port), **(env or {})}
        )
        wait_port(process, port)
        return process, f"http://127.0.0.1:{port}/"


def wait_healthy(process: Process, url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if not process.alive or time.monotonic() > deadline:
            raise AssertionError(f"{process.name} did not become healthy\n{process.tail()}")
        time.sleep(0.05)


def wait_port(process: Process, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if not process.alive or time.monotonic() > deadline:
            raise AssertionError(f"{process.name} never listened\n{process.tail()}")
        time.sleep(0.05)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
