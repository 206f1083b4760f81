"""``flowapp up`` as a real subprocess: started, crashed with SIGKILL, restarted, stopped.

The process runs in a session of its own so that one ``killpg`` reaches it and whatever
shares its group. The function processes it supervises are *not* in that group: the
supervisor starts each in a new session (``flowapp/functions/instance.py``), so a crash of
``flowapp up`` leaves them running. They are found by the data dir in their command line
(every test has its own) and killed by pid, in ``crash`` as in ``cleanup``, so that a crash
here is the whole platform going down and no test leaves processes behind.

Also used by ``bench/triggers.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def flowapp_command() -> list[str]:
    """The installed ``flowapp`` script next to this interpreter, as an operator runs it."""
    script = Path(sys.executable).with_name("flowapp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flowapp.cli.main"]


def processes_mentioning(text: str) -> list[int]:
    """Pids of processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
            if text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class FlowappUp:
    """One data dir, one port, one app folder; ``start`` may be called again after a crash."""

    data_dir: Path
    app_dir: Path
    log: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> Path:
        return self.data_dir / "flowapp.db"

    def start(self) -> None:
        argv = [*flowapp_command(), "up", "--data-dir", str(self.data_dir)]
        argv += ["--port", str(self.port), "--app", str(self.app_dir)]
        self.starts += 1
        with self.log.open("ab") as output:
            output.write(f"\n=== start {self.starts}: {' '.join(argv)}\n".encode())
            output.flush()
            self.popen = subprocess.Popen(
                argv,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Until ``/healthz`` answers: ``flowapp up`` serves HTTP only after its deploy."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            if not self.running:
                raise AssertionError(f"flowapp up exited early\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"flowapp up not healthy after {timeout}s\n{self.tail()}")
            time.sleep(0.05)

    def functions(self) -> list[int]:
        """Pids of this platform's function processes (their --path is in the data dir)."""
        return processes_mentioning(f"{self.data_dir / 'revisions'}{os.sep}")

    def crash(self) -> list[int]:
        """SIGKILL ``flowapp up`` (no handler runs); returns the function processes that
        outlived it, which are then killed too."""
        functions = self.functions()
        self._signal_group(signal.SIGKILL)
        self._wait(10)
        survivors = [pid for pid in functions if alive(pid)]
        _kill_all(survivors)
        return survivors

    def stop(self, grace: float = 20.0) -> None:
        """SIGINT, as Ctrl-C: the platform drains its triggers and stops its functions.
        (SIGTERM has no handler in ``flowapp up``: it would end it as abruptly as a kill.)"""
        self._signal_group(signal.SIGINT)
        try:
            self._wait(grace)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self._wait(10)
        _kill_all(self.functions())

    def cleanup(self) -> None:
        functions = self.functions()
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._wait(10)
        _kill_all(functions + self.functions())

    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def client(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.log} ---\n" + "\n".join(text.splitlines()[-lines:])

    def _signal_group(self, signum: int) -> None:
        if self.running:
            assert self.popen is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def _wait(self, timeout: float) -> None:
        if self.popen is not None:
            self.popen.wait(timeout=timeout)


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # each is a session leader: its children go too
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def list_executions(client: httpx.AsyncClient, app: str) -> list[dict[str, Any]]:
    """Every execution of ``app`` through the API, following ``next_cursor``."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"app": app, "limit": 1000}
    while True:
        response = await client.get("/api/v1/executions", params=params)
        response.raise_for_status()
        page = response.json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params["cursor"] = page["next_cursor"]
