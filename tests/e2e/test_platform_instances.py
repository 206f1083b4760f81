"""One ``flowapp up`` per data directory, and a restart right after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.platform_process import ROOT, flowapp_up, free_port


def up_command(data_dir: Path, port: int) -> list[str]:
    command = [sys.executable, "-m", "flowapp.cli.main", "up", "--data-dir", str(data_dir)]
    return [*command, "--port", str(port)]


def test_a_second_flowapp_up_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with flowapp_up(data) as first:
        second = subprocess.run(
            up_command(data, free_port()), cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 3, second.stderr
        assert f"pid {first.process.pid}" in second.stderr
        assert first.url in second.stderr and str(data) in second.stderr
        assert "--data-dir" in second.stderr and "Traceback" not in second.stderr
        assert httpx.get(f"{first.url}/healthz").status_code == 200  # the first goes on


def test_a_restart_right_after_a_crash_binds_its_port_at_once(tmp_path: Path) -> None:
    """A connection open when the server is killed leaves the port's old socket in
    FIN_WAIT2 for a minute; without SO_REUSEADDR the new server could not bind."""
    data = tmp_path / "data"
    port = free_port()
    with flowapp_up(data, port=port) as first:
        client = httpx.Client(base_url=first.url)  # keep-alive: its connection stays open
        assert client.get("/healthz").status_code == 200
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(10)
        log = tmp_path / "restart.log"
        with log.open("wb") as output:
            restarted = subprocess.Popen(
                up_command(data, port),
                cwd=ROOT,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and restarted.poll() is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert restarted.poll() is None, log.read_text()
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        finally:
            client.close()
            if restarted.poll() is None:
                os.killpg(restarted.pid, signal.SIGTERM)
                restarted.wait(30)
