"""No execution stalls `flowapp up`: a poison-pill loop, a `for` over ten million items
and a jq bomb, each on a real server process, with restarts.

While each runs, `/healthz` is asked many times from another thread and must answer
within 100 ms at p99; the execution faults within 10 s with a problem that names the
limit; other executions started meanwhile complete; after a restart the server is
healthy and the execution is still faulted. The p99 of each run is printed (``-s``).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.platform_process import RunningPlatform, create_and_deploy, flowapp_up

# /healthz p99 is measured against the 100 ms the API owes while an attack runs: alone,
# not beside three other workers of the suite on two cores.
pytestmark = pytest.mark.serial

HEALTHZ_P99_SECONDS = 0.1
FAULTS_WITHIN_SECONDS = 10.0

POISON_PILL = """
      - nap: {wait: {milliseconds: 500}}
      - spin:
          set: {n: '${ .n + 1 }'}
          then: spin
"""
HUGE_FOR = """
      - each:
          for: {in: '${ [range(10000000)] }', each: i}
          do:
            - mark: {set: {i: '${ $i }'}}
"""
JQ_BOMB = """
      - bomb: {set: {n: '${ [range(1e8)] | length }'}}
"""
SLOW_BOMB = """
      - nap: {wait: {milliseconds: 300}}
      - bomb: {set: {n: '${ [range(1e8)] | length }'}}
"""
QUICK = """
      - hello: {set: {hello: '${ .name }'}}
"""


def app(name: str, tasks: str) -> str:
    return f"""\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {{name: {name}}}
spec:
  workflow:
    document: {{dsl: '1.0.3', namespace: default, name: {name}, version: '1.0.0'}}
    do:{tasks}"""


def start(api: httpx.Client, name: str, data: object) -> str:
    started = api.post(f"/api/v1/apps/{name}/executions", json=data)
    assert started.status_code == 202, started.text
    return str(started.json()["id"])


def shown(api: httpx.Client, execution_id: str) -> dict:
    """The execution without its task runs (ten thousand of them, for a loop: reading
    them all is not what this test measures)."""
    listed = api.get("/api/v1/executions", params={"limit": 1000}).json()["items"]
    return next(item for item in listed if item["id"] == execution_id)


def wait_final(api: httpx.Client, execution_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        execution = shown(api, execution_id)
        if execution["status"] in ("completed", "faulted", "cancelled"):
            return execution
        assert time.monotonic() < deadline, f"still {execution['status']} after {timeout} s"
        time.sleep(0.1)


class HealthProbe:
    """Asks `/healthz` again and again on a thread of its own, timing each answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    answer = client.get("/healthz")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                self.samples.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    self.failures.append(f"{answer.status_code} {answer.text}")
                time.sleep(0.005)

    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    def check(self, what: str) -> None:
        assert not self.failures, self.failures[:3]
        assert len(self.samples) >= 50, f"only {len(self.samples)} answers"
        p99 = self.p99()
        print(f"\n{what}: /healthz p99 {p99 * 1000:.1f} ms over {len(self.samples)} requests")
        assert p99 < HEALTHZ_P99_SECONDS, f"{what}: /healthz p99 {p99 * 1000:.0f} ms"


@contextmanager
def probing(url: str) -> Iterator[HealthProbe]:
    probe = HealthProbe(url)
    probe._thread.start()
    try:
        yield probe
    finally:
        probe._stop.set()
        probe._thread.join(15)


def kill(platform: RunningPlatform) -> None:
    """The whole process group at once (server and deciders), as a crash would."""
    os.killpg(platform.process.pid, signal.SIGKILL)
    platform.process.wait(30)


def deploy(platform: RunningPlatform, **apps: str) -> None:
    with platform.client() as api:
        for name, tasks in apps.items():
            create_and_deploy(api, app(name, tasks), name)


def others_complete(api: httpx.Client, ids: list[str]) -> None:
    for execution_id in ids:
        execution = wait_final(api, execution_id, 30)
        assert execution["status"] == "completed", execution


def still_faulted(data: Path, execution_id: str, error: dict) -> None:
    """After a restart: healthy, the execution as it was, new work done."""
    with flowapp_up(data) as platform, platform.client() as api:
        assert httpx.get(f"{platform.url}/healthz", timeout=5).status_code == 200
        time.sleep(1.0)  # recovery has run: nothing brings the execution back
        execution = shown(api, execution_id)
        assert execution["status"] == "faulted" and execution["error"] == error
        others_complete(api, [start(api, "quick", {"name": "after"})])


def test_a_poison_pill_loop_saved_before_it_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with flowapp_up(data) as platform:
        deploy(platform, poison=POISON_PILL, quick=QUICK)
        with platform.client() as api:
            poison = start(api, "poison", {"n": 0})
        kill(platform)  # saved while it waits: its loop starts only after the restart
    with flowapp_up(data) as platform, platform.client() as api:
        restarted = time.monotonic()
        with probing(platform.url) as probe:
            others = [start(api, "quick", {"name": f"n{i}"}) for i in range(5)]
            execution = wait_final(api, poison, FAULTS_WITHIN_SECONDS)
            took = time.monotonic() - restarted
            others_complete(api, others)
        probe.check("poison-pill then: loop")
    print(f"poison-pill then: loop: faulted {took:.1f} s after the restart")
    assert took < FAULTS_WITHIN_SECONDS
    error = execution["error"]
    assert execution["status"] == "faulted" and error["status"] == 429
    assert error["limit"] == "taskRuns" and error["instance"] == "/do/1/spin"
    assert "10,000 tasks" in error["detail"]
    still_faulted(data, poison, error)


def run_attack(data: Path, tasks: str, what: str) -> tuple[str, dict]:
    """Start ``tasks`` (its start is the attack) and other work; the attack's execution."""
    with flowapp_up(data) as platform:
        deploy(platform, attack=tasks, quick=QUICK)
        with platform.client() as api, probing(platform.url) as probe:
            with ThreadPoolExecutor(1) as background, platform.client() as other:
                began = time.monotonic()
                attacking = background.submit(start, other, "attack", {})
                time.sleep(0.2)  # its first decision is under way
                others = [start(api, "quick", {"name": f"n{i}"}) for i in range(5)]
                attack = attacking.result(timeout=30)
            execution = wait_final(api, attack, FAULTS_WITHIN_SECONDS)
            took = time.monotonic() - began
            others_complete(api, others)
        probe.check(what)
    print(f"{what}: faulted {took:.1f} s after it started")
    assert took < FAULTS_WITHIN_SECONDS, f"faulted after {took:.1f} s"
    return attack, execution


def test_a_for_over_ten_million_items(tmp_path: Path) -> None:
    attack, execution = run_attack(tmp_path / "data", HUGE_FOR, "for over 10M items")
    error = execution["error"]
    assert execution["status"] == "faulted" and error["status"] == 429
    # Whichever budget the machine's speed meets first stops it: building the ten million
    # items may take jq longer than a decision may take; built in time, they are more
    # items than a ``for`` may take.
    if error["limit"] == "decisionTime":
        assert "longer than 5 s" in error["detail"]
    else:
        assert error["limit"] == "forItems" and error["instance"] == "/do/0/each", error
        assert "10,000,000 items" in error["detail"]
    still_faulted(tmp_path / "data", attack, error)


def test_a_jq_bomb(tmp_path: Path) -> None:
    attack, execution = run_attack(tmp_path / "data", JQ_BOMB, "jq bomb [range(1e8)]")
    error = execution["error"]
    assert execution["status"] == "faulted" and error["status"] == 429
    assert error["limit"] == "decisionTime"
    still_faulted(tmp_path / "data", attack, error)


def test_an_execution_the_server_keeps_dying_on_is_quarantined(tmp_path: Path) -> None:
    """The whole process dies while deciding it (as if OOM-killed), twice: the third
    start faults it instead of deciding it again."""
    data = tmp_path / "data"
    journal = data / "decisions.journal"
    slow = ("--decision-timeout", "120")  # the process dies before the decider is stopped
    with flowapp_up(data, *slow) as platform:
        deploy(platform, bomb=SLOW_BOMB, quick=QUICK)
        with platform.client() as api:
            bomb = start(api, "bomb", {})
        deciding(journal, bomb)
        kill(platform)
    with flowapp_up(data, *slow) as platform:
        deciding(journal, bomb)  # decided again after the restart: the first death counted
        kill(platform)
    with flowapp_up(data, *slow) as platform, platform.client() as api:
        execution = wait_final(api, bomb, FAULTS_WITHIN_SECONDS)
        others_complete(api, [start(api, "quick", {"name": "after"})])
    error = execution["error"]
    assert execution["status"] == "faulted" and error["title"] == "Execution quarantined"
    assert "stopped 2 times while deciding" in error["detail"]


def deciding(journal: Path, execution_id: str, timeout: float = 30) -> None:
    """Wait until the server's decision journal shows ``execution_id`` being decided."""
    deadline = time.monotonic() + timeout
    while execution_id.encode() not in journal.read_bytes().split(b"\0", 1)[0]:
        assert time.monotonic() < deadline, "the execution was never being decided"
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the decision
