"""The observability tests' app on a real `flowapp up`, and traffic that makes every
series the dashboards and rules read: executions that complete and fault, function calls
that succeed and fail, webhook and cron events, timers."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.platform_process import ROOT, RunningPlatform

SHOP = ROOT / "tests" / "fixtures" / "observability" / "shop"


def up_args(data_dir: Path) -> tuple[Path, tuple[str, ...]]:
    """``flowapp_up`` arguments deploying the shop app at start."""
    return data_dir, ("--app", str(SHOP))


def invoke(api: httpx.Client, amount: float) -> httpx.Response:
    return api.post("/api/v1/apps/shop/executions", params={"wait": "30"}, json={"amount": amount})


def run_traffic(platform: RunningPlatform, *, ok: int = 3, failing: int = 2) -> None:
    """Executions through the API (``ok`` complete, ``failing`` fault) and the webhook."""
    with platform.client() as api:
        for n in range(ok):
            answer = invoke(api, n + 1)
            assert answer.status_code == 200, answer.text
        for _ in range(failing):
            answer = invoke(api, -1)
            assert answer.status_code == 502, answer.text
        hooked = httpx.post(f"{platform.url}/hooks/shop", json={"amount": 7}, timeout=30)
        assert hooked.status_code == 202, hooked.text


def scrape(platform: RunningPlatform) -> str:
    with platform.client() as api:
        answer = api.get("/metrics")
        assert answer.status_code == 200, answer.text
        return answer.text


def wait_for(check: object, *, timeout: float = 30.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
