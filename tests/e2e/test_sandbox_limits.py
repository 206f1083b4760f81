"""Runaway processes on `flowapp up` stop at the sandbox's limits, and the task's error
says which limit stopped them: CPU time, memory, processes, output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.platform_process import create_and_deploy, flowapp_up, wait_for_execution
from tests.sandboxing import require_root_and_bwrap


@pytest.fixture(autouse=True)
def _needs_the_sandbox() -> None:
    require_root_and_bwrap()


LIMITS = "cpu=2,memory=256M,processes=64,output=64K"
RUNAWAYS: dict[str, dict[str, Any]] = {
    "spin": {"shell": {"command": "while :; do :; done"}},
    "hog": {"script": {"language": "python", "code": "block = bytearray(512 * 1024 * 1024)"}},
    "bomb": {
        "shell": {"command": "i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; wait"}
    },
    "chatter": {"shell": {"command": "yes flowapp"}},
}


def workflow(name: str, run: dict[str, Any]) -> str:
    document = {"dsl": "1.0.0", "namespace": "default", "name": name, "version": "1.0.0"}
    return json.dumps({"document": document, "do": [{"runaway": {"run": run}}]})


def run(api: httpx.Client, app: str) -> dict[str, Any]:
    started = api.post(f"/api/v1/apps/{app}/executions", json={})
    assert started.status_code == 202, started.text
    return wait_for_execution(api, started.json()["id"], timeout=120)


def test_runaway_processes_stop_at_their_limits_with_a_clear_error(tmp_path: Path) -> None:
    up = flowapp_up(tmp_path / "data", "--allow-run", "shell,script", "--sandbox-limits", LIMITS)
    with up as platform, platform.client() as api:
        for name, runaway in RUNAWAYS.items():
            create_and_deploy(api, workflow(name, runaway), name)
        ended = {name: run(api, name) for name in RUNAWAYS}

    assert {name: e["status"] for name, e in ended.items()} == dict.fromkeys(RUNAWAYS, "faulted")
    errors = {name: execution["error"] for name, execution in ended.items()}
    for error in errors.values():
        assert error["instance"] == "/do/0/runaway"
    assert "stopped by its CPU time limit (2 s)" in errors["spin"]["detail"]
    assert "stopped by its memory limit (256 MiB)" in errors["hog"]["detail"]
    assert "MemoryError" in errors["hog"]["detail"]
    assert "stopped by its process limit (64 processes" in errors["bomb"]["detail"]
    assert errors["chatter"]["status"] == 413
    assert "more than 65,536 bytes to stdout" in errors["chatter"]["detail"]
