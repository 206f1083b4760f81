"""Synchronous invocation of ``examples/append-display`` through the API of a running
``flowapp up`` (a Python and a Node.js function): latency p50/p99 over 200 calls."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.stats import latency_line
from tests.e2e.platform_process import ROOT, flowapp_up

CALLS = 200


def main() -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        example = str(ROOT / "examples" / "append-display")
        data = Path(directory) / "data"
        # --sandbox off: this measures the call path; bench/sandbox_overhead.py the sandbox.
        up = flowapp_up(data, "--app", example, "--sandbox", "off")
        with up as platform, platform.client() as api:
            url = "/api/v1/apps/append-display/executions?wait=10"
            for _ in range(20):  # warm-up
                api.post(url, json={"message": "warm"})
            samples = []
            for n in range(CALLS):
                started = time.perf_counter()
                response = api.post(url, json={"message": f"m{n}"})
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
    name = "sync invocation of append-display over HTTP (2 function calls, SQLite)"
    return [latency_line(name, samples)]


if __name__ == "__main__":
    print("\n".join(main()))
