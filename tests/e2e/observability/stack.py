"""Debian's Prometheus and Alertmanager for the tests, each in a temporary folder, on free
ports of 127.0.0.1, with short intervals; and a webhook receiver for Alertmanager.

Prometheus scrapes a ``flowapp up`` with its token (a bearer credentials file, as an
operator would configure it), evaluates ``deploy/prometheus/flowapp-rules.yaml`` with
every ``for:`` shortened (expressions unchanged: a test cannot wait minutes), and sends
alerts to the Alertmanager, which delivers them to the receiver. Alertmanager runs
alone (``--cluster.listen-address=``: no gossip port, no peers).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.platform_process import free_port
from tests.integration.observability.prometheus_tools import RULES, tool

_FOR = re.compile(r"^([ \t]+for:[ \t]*)\S+[ \t]*$", re.MULTILINE)


@dataclass
class Received:
    """What Alertmanager posted to the webhook receiver, in order."""

    notifications: list[dict[str, Any]] = field(default_factory=list)

    def alerts(self) -> list[dict[str, Any]]:
        return [alert for body in self.notifications for alert in body.get("alerts", [])]


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, Received]]:
    """An HTTP server recording JSON POSTs; yields its URL and what it received."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            received.notifications.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def shortened_rules(folder: Path, hold: str) -> Path:
    """The rules file with every alert's ``for:`` set to ``hold``."""
    path = folder / RULES.name
    path.write_text(_FOR.sub(lambda m: m.group(1) + hold, RULES.read_text()))
    return path


@contextlib.contextmanager
def alertmanager(folder: Path, receiver_url: str) -> Iterator[str]:
    """An Alertmanager delivering every alert to ``receiver_url`` at once; yields its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "alertmanager.yml"
    config.write_text(
        json.dumps(
            {
                "route": {
                    "receiver": "test",
                    "group_by": ["alertname", "app"],
                    "group_wait": "1s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {
                        "name": "test",
                        "webhook_configs": [{"url": receiver_url, "send_resolved": True}],
                    }
                ],
            }
        )
    )
    port = free_port()
    command = [
        tool("prometheus-alertmanager"),
        f"--config.file={config}",
        f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(command, folder / "alertmanager.log", f"{url}/-/ready") as _:
        yield url


@contextlib.contextmanager
def prometheus(
    folder: Path,
    *,
    target: str,
    token: str,
    rules: Path | None = None,
    alertmanager_url: str | None = None,
    interval: str = "1s",
) -> Iterator[str]:
    """A Prometheus scraping flowapp at ``target`` (host:port) as job ``flowapp``."""
    folder.mkdir(parents=True, exist_ok=True)
    credentials = folder / "flowapp-token"
    credentials.write_text(token)
    credentials.chmod(0o600)
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [
            {
                "job_name": "flowapp",
                "metrics_path": "/metrics",
                "authorization": {"type": "Bearer", "credentials_file": str(credentials)},
                "static_configs": [{"targets": [target]}],
            }
        ],
    }
    if rules is not None:
        config["rule_files"] = [str(rules)]
    if alertmanager_url is not None:
        host = alertmanager_url.removeprefix("http://")
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [host]}]}]}
    path = folder / "prometheus.yml"
    path.write_text(json.dumps(config))  # YAML is a superset of JSON
    port = free_port()
    command = [
        tool("prometheus"),
        f"--config.file={path}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(command, folder / "prometheus.log", f"{url}/-/ready") as _:
        yield url


@contextlib.contextmanager
def _process(command: list[str], log: Path, ready: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _answers(ready, process, log), timeout=30, what=ready)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _answers(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"{process.args[0]} exited ({process.returncode}):\n{log.read_text()}")
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=1).status_code == 200
    return False


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """The first truthy value of ``check()``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def query(url: str, expr: str) -> list[dict[str, Any]]:
    """An instant query's result vector."""
    answer = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


def alerts(url: str) -> list[dict[str, Any]]:
    """Prometheus's active alerts (pending and firing)."""
    answer = httpx.get(f"{url}/api/v1/alerts", timeout=10).json()
    return list(answer["data"]["alerts"])
