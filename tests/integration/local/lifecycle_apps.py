"""Projects and a platform for the lifecycle tests: the platform as ``flowapp up`` assembles
it (``platform_running``: SQLite in a data directory, the engine, the bus, the syncer),
in this process, with real Python function processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from flowapp.apps.sources import pack_folder
from flowapp.cli.serve import Platform, UpSettings, platform_running

ORDERS = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: orders, namespace: default}
spec:
  functions:
    count: {runtime: python, path: functions/count}
    charge: {runtime: python, path: functions/charge}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: orders, version: '1.0.0'}
    do:
      - count: {call: count}
      - charge: {call: charge}
  delivery: {retry: 0}
"""

# Moves the completed task `count` to /do/1: a retry cannot replay it there.
ORDERS_MOVED = ORDERS.replace("    do:\n", "    do:\n      - check: {set: '${ . }'}\n")

COUNT = """\
def handle(data, context):
    context.logger.info("counted order %s", data["order"])  # one line per call
    return {**data, "counted": True}
"""

CHARGE_BROKEN = """\
def handle(data, context):
    raise RuntimeError("the card service is down")
"""

CHARGE_FIXED = """\
def handle(data, context):
    return {"charged": data["amount"], "counted": data["counted"]}
"""


def orders_project(folder: Path, *, charge: str, resource: str = ORDERS) -> Path:
    (folder / "functions" / "count").mkdir(parents=True, exist_ok=True)
    (folder / "functions" / "charge").mkdir(parents=True, exist_ok=True)
    (folder / "flowapp.yaml").write_text(resource)
    (folder / "functions" / "count" / "main.py").write_text(COUNT)
    (folder / "functions" / "charge" / "main.py").write_text(charge)
    return folder


@contextlib.asynccontextmanager
async def running(data_dir: Path) -> AsyncIterator[Platform]:
    async with platform_running(UpSettings(data_dir=data_dir)) as platform:
        yield platform


async def deploy(platform: Platform, name: str, folder: Path) -> Any:
    """Upload and deploy ``folder``; a deploy that did not succeed fails the test with
    its own message and log, not later with a stale revision."""
    archive = await asyncio.to_thread(pack_folder, folder)
    done = await platform.platform.upload_source(name, archive)
    assert done.status == "succeeded", f"{done.status}: {done.message}\n{done.log}"
    return done


def count_calls(data_dir: Path, order: str) -> int:
    """How many times ``count`` ran for ``order``, from the function logs every revision
    keeps under ``<data>/logs/<revision>/count.log``."""
    logs = (data_dir / "logs").glob("*/count.log")
    return sum(log.read_text().count(f"counted order {order}") for log in logs)


async def conditions(platform: Platform, app: str, timeout: float = 20) -> dict[str, Any]:
    """The app's conditions as the syncer wrote them, once Ready is known (or timeout)."""
    deadline = time.monotonic() + timeout
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = await platform.platform.get_app(app)
        found = {c["type"]: c for c in view.conditions}
        if found.get("Ready", {}).get("status") == "True":
            return found
        await asyncio.sleep(0.2)
    return found
