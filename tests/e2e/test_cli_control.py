"""Controlling executions and apps from the CLI, on a real ``flowapp up`` the CLI is
logged in to: retry, rerun, cancel, suspend, resume by id or unique prefix; status,
traffic, rollback, delete, alerts and tokens. Each ``flowapp`` is its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import Flowapp, isolated_environment, run_flowapp
from tests.e2e.platform_process import RunningPlatform, flowapp_up, wait_for_execution
from tests.interrupts import ctrl_c_reaches_it

FLAKY_MANIFEST = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: flaky}
spec:
  functions:
    flaky: {runtime: python, path: functions/flaky}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: flaky, version: '1.0.0'}
    do:
      - first: {call: flaky}
      - after: {set: {done: '${ .calls }'}}
"""
# The first call in this process fails (a 4xx: retrying the call itself won't help),
# every later one succeeds: a retry of the execution gets past it.
FLAKY_CODE = """\
from flowapp.functions.sdk import FunctionError

CALLS = []


def handle(data, context):
    CALLS.append(1)
    context.logger.info("call %d %s", len(CALLS), "x" * 300)
    if len(CALLS) == 1:
        raise FunctionError(422, "Not Yet", "the first call fails")
    return {"calls": len(CALLS)}
"""
NAPPER = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: napper}
spec:
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: napper, version: '1.0.0'}
    do:
      - nap: {wait: PT60S}
"""


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("control")
    flaky, napper = root / "flaky", root / "napper"
    (flaky / "functions" / "flaky").mkdir(parents=True)
    (flaky / "flowapp.yaml").write_text(FLAKY_MANIFEST)
    (flaky / "functions" / "flaky" / "main.py").write_text(FLAKY_CODE)
    napper.mkdir()
    (napper / "flowapp.yaml").write_text(NAPPER)
    return root


@pytest.fixture(scope="module")
def platform(projects: Path) -> Iterator[RunningPlatform]:
    apps = ("--app", str(projects / "flaky"), "--app", str(projects / "napper"))
    with flowapp_up(projects / "data", *apps) as running:
        yield running


@pytest.fixture
def flowapp(platform: RunningPlatform, tmp_path: Path) -> Flowapp:
    """``flowapp`` logged in to the platform (as ``flowapp login`` leaves it)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text(json.dumps({"url": platform.url, "token": platform.token}))
    env = isolated_environment(home)

    def run(*args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
        return run_flowapp(*args, env={**env, "COLUMNS": str(columns)}, cwd=tmp_path, timeout=90)

    return run


def status_of(platform: RunningPlatform, execution_id: str) -> str:
    with platform.client() as api:
        return str(api.get(f"/api/v1/executions/{execution_id}").json()["status"])


def wait_for_status(platform: RunningPlatform, execution_id: str, status: str) -> None:
    deadline = time.monotonic() + 20
    while status_of(platform, execution_id) != status and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_of(platform, execution_id) == status


def test_retry_from_the_failed_task_through_the_server(
    platform: RunningPlatform, flowapp: Flowapp
) -> None:
    faulted = flowapp("invoke", "flaky", "--input", "{}", "--wait", "20")
    assert faulted.returncode == 1, faulted.stderr
    assert "the first call fails" in faulted.stdout
    execution_id = json.loads(flowapp("executions", "--app", "flaky", "--json").stdout)[0]["id"]

    retried = flowapp("retry", execution_id[:20])
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {"done": 2}
    assert f"retrying {execution_id}" in retried.stderr
    shown = json.loads(flowapp("execution", execution_id, "--json").stdout)
    assert shown["status"] == "completed"
    runs = [(task["name"], task["status"]) for task in shown["tasks"]]
    assert runs == [("first", "faulted"), ("first", "completed"), ("after", "completed")]

    again = flowapp("retry", execution_id)
    assert again.returncode == 2  # the server's 409: only a faulted execution retries
    assert "Conflict" in again.stderr and "not faulted" in again.stderr


def test_rerun_starts_a_new_execution_with_the_same_input(
    platform: RunningPlatform, flowapp: Flowapp
) -> None:
    started = flowapp("invoke", "flaky", "--input", '{"n": 1}', "--wait", "20")
    first = json.loads(flowapp("executions", "--app", "flaky", "--json").stdout)[0]["id"]
    rerun = flowapp("rerun", first)
    assert rerun.returncode in (0, 1), rerun.stderr  # the first call of the process failed
    assert started.returncode in (0, 1)
    new_id = rerun.stderr.split(f"re-run of {first}: ")[1].split()[0]
    assert new_id != first
    with platform.client() as api:
        assert api.get(f"/api/v1/executions/{new_id}").json()["input"] == {"n": 1}


def test_suspend_resume_and_cancel_by_prefix(platform: RunningPlatform, flowapp: Flowapp) -> None:
    execution_id = flowapp("invoke", "napper", "--wait", "0").stdout.strip()
    wait_for_status(platform, execution_id, "waiting")
    prefix = execution_id[:16]

    suspended = flowapp("suspend", prefix)
    assert suspended.returncode == 0, suspended.stderr
    assert f"suspend requested for {execution_id} on {platform.url}" in suspended.stderr
    wait_for_status(platform, execution_id, "suspended")
    assert flowapp("resume", prefix).returncode == 0
    wait_for_status(platform, execution_id, "waiting")
    assert flowapp("cancel", prefix).returncode == 0
    # A client that is not closed keeps its keep-alive socket until the GC finds it, and
    # its ResourceWarning then fails whichever test runs at that moment.
    with platform.client() as api:
        assert wait_for_execution(api, execution_id)["status"] == "cancelled"

    again = flowapp("cancel", execution_id)
    assert again.returncode == 2, again.stderr  # 409: it has ended
    assert "Conflict" in again.stderr


def test_an_ambiguous_prefix_lists_the_candidates(
    platform: RunningPlatform, flowapp: Flowapp
) -> None:
    ids = [flowapp("invoke", "napper", "--wait", "0").stdout.strip() for _ in range(2)]
    common = next(ids[0][:n] for n in range(len(ids[0]), 0, -1) if ids[1].startswith(ids[0][:n]))
    assert len(common) >= 6  # ids start with their creation time in milliseconds
    ambiguous = flowapp("execution", common)
    assert ambiguous.returncode == 2
    assert f"{common} is the start of several executions" in ambiguous.stderr
    assert ids[0] in ambiguous.stderr and ids[1] in ambiguous.stderr
    assert "give more of the id" in ambiguous.stderr
    unknown = flowapp("cancel", "ffffffffffff")
    assert unknown.returncode == 2 and "no execution ffffffffffff" in unknown.stderr
    for execution_id in ids:
        assert flowapp("cancel", execution_id).returncode == 0


def test_listings_say_what_they_list_and_show_whole_ids(
    platform: RunningPlatform, flowapp: Flowapp, tmp_path: Path
) -> None:
    execution_id = flowapp("invoke", "napper", "--wait", "0").stdout.strip()
    remote = flowapp("executions", "--app", "napper", columns=50)  # a narrow terminal
    assert f"Executions in the server {platform.url}" in remote.stdout
    assert execution_id in remote.stdout  # whole, on one line
    local = flowapp("executions", "--db", f"sqlite:///{tmp_path / 'local.db'}")
    assert f"Executions in the local store sqlite:///{tmp_path / 'local.db'}" in local.stdout
    flowapp("cancel", execution_id)


def test_status_traffic_and_rollback(
    platform: RunningPlatform, flowapp: Flowapp, projects: Path
) -> None:
    shown = flowapp("status", "napper")
    assert shown.returncode == 0, shown.stderr
    assert "napper: ready" in shown.stdout and "revision napper-00001" in shown.stdout
    assert json.loads(flowapp("status", "napper", "--json").stdout)["ready"] is True
    (projects / "napper" / "flowapp.yaml").write_text(NAPPER.replace("PT60S", "PT61S"))
    deployed = flowapp("deploy", str(projects / "napper"))
    assert deployed.returncode == 0, deployed.stderr
    assert "revision napper-00002" in deployed.stdout
    assert flowapp("traffic", "napper").stdout.strip() == "napper: napper-00002 100%"

    split = flowapp("traffic", "napper", "napper-00001=25", "napper-00002=75")
    assert split.returncode == 0, split.stderr
    assert split.stdout.strip() == "napper: napper-00001 25%, napper-00002 75%"
    with platform.client() as api:
        assert api.get("/api/v1/apps/napper/traffic").json() == [
            {"revision": "napper-00001", "percent": 25},
            {"revision": "napper-00002", "percent": 75},
        ]
    not_a_split, not_whole = (
        flowapp("traffic", "napper", "napper-00001"),
        flowapp("traffic", "napper", "napper-00001=50"),
    )
    assert not_a_split.returncode == 2 and "is not REVISION=PERCENT" in not_a_split.stderr
    assert not_whole.returncode == 2 and "100" in not_whole.stderr

    assert flowapp("traffic", "napper", "napper-00002=100").returncode == 0
    rolled = flowapp("rollback", "napper")
    assert rolled.returncode == 0, rolled.stderr
    assert rolled.stdout.strip() == "napper: napper-00001 100%"


def test_alert_rules(platform: RunningPlatform, flowapp: Flowapp) -> None:
    created = flowapp(
        "alerts", "create", "flaky", "--name", "failures", "--kind", "failed_executions",
        "--threshold", "3", "--window", "600", "--webhook", "http://127.0.0.1:9/alerts",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    rule_id = created.stdout.strip()
    listed = json.loads(flowapp("alerts", "list", "flaky", "--json").stdout)
    assert [(r["id"], r["name"], r["window_seconds"]) for r in listed] == [
        (int(rule_id), "failures", 600)
    ]
    assert "failures" in flowapp("alerts", "list", "flaky").stdout
    again = flowapp(
        "alerts", "create", "flaky", "--name", "failures", "--kind", "latency_p95",
        "--threshold", "1", "--webhook", "http://127.0.0.1:9/alerts",
    )  # fmt: skip
    assert again.returncode == 2 and "Conflict" in again.stderr
    assert flowapp("alerts", "delete", "flaky", rule_id).returncode == 0
    assert json.loads(flowapp("alerts", "list", "flaky", "--json").stdout) == []


def test_tokens_are_listed_and_revoked(platform: RunningPlatform, flowapp: Flowapp) -> None:
    made = flowapp("token", "create", "--name", "short-lived", "--role", "viewer", "--json")
    created = json.loads(made.stdout)
    listed = flowapp("token", "list")
    assert listed.returncode == 0 and "short-lived" in listed.stdout
    assert created["token"] not in listed.stdout  # never the secret
    assert flowapp("apps", "--token", created["token"]).returncode == 0
    revoked = flowapp("token", "revoke", str(created["id"]))
    assert revoked.returncode == 0, revoked.stderr
    refused = flowapp("apps", "--token", created["token"])
    assert refused.returncode == 3 and "Unauthorized" in refused.stderr
    entry = next(t for t in json.loads(flowapp("token", "list", "--json").stdout)
                 if t["id"] == created["id"])  # fmt: skip
    assert entry["revoked_at"] is not None


def test_delete_an_app(platform: RunningPlatform, flowapp: Flowapp, tmp_path: Path) -> None:
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    (doomed / "flowapp.yaml").write_text(NAPPER.replace("napper", "doomed"))
    assert flowapp("deploy", str(doomed)).returncode == 0
    unconfirmed = flowapp("delete", "doomed")
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    deleted = flowapp("delete", "doomed", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "doomed" not in [app["name"] for app in json.loads(flowapp("apps", "--json").stdout)]
    gone = flowapp("status", "doomed")
    assert gone.returncode == 2 and "Not Found" in gone.stderr


def test_logs_are_not_wrapped_and_can_be_followed(
    platform: RunningPlatform, flowapp: Flowapp, tmp_path: Path
) -> None:
    flowapp("invoke", "flaky", "--input", "{}", "--wait", "20")
    piped = flowapp("logs", "flaky", "flaky", columns=80)
    calls = [line for line in piped.stdout.splitlines() if '"call ' in line]
    assert calls and all("x" * 300 in line for line in calls)  # one line each, however long

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWAPP_")}
    env.update(FLOWAPP_HOME=str(home), NO_COLOR="1")
    follower = subprocess.Popen(
        [sys.executable, "-m", "flowapp.cli.main", "logs", "flaky", "--follow", "--limit", "1"],
        preexec_fn=ctrl_c_reaches_it,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(3)  # it has printed the last line and is asking again
        flowapp("invoke", "flaky", "--input", "{}", "--wait", "20")
        seen = ""
        deadline = time.monotonic() + 30
        while f'"call {len(calls) + 1} ' not in seen and time.monotonic() < deadline:
            assert follower.stdout is not None
            seen += follower.stdout.readline()
        assert f'"call {len(calls) + 1} ' in seen
    finally:
        follower.send_signal(signal.SIGINT)
        follower.communicate(timeout=20)
    assert follower.returncode == 130
