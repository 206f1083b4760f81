"""`flowapp up` end to end: a real server process, real functions (Python and Node.js),
the API's execution contracts, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.platform_process import ROOT, RunningPlatform, flowapp_up

EXAMPLE = ROOT / "examples" / "append-display"


def wait_for_ready(api: httpx.Client) -> dict[str, str]:
    """The conditions the syncer keeps in the database, once Ready (or after 15 s)."""
    deadline = time.monotonic() + 15
    conditions: dict[str, str] = {}
    while time.monotonic() < deadline:
        status = api.get("/api/v1/apps/append-display/status").json()
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
        if conditions.get("Ready") == "True":
            return conditions
        time.sleep(0.2)
    raise AssertionError(f"the app did not become Ready: {conditions}")


def check_execution_contracts(platform: RunningPlatform) -> None:
    with platform.client() as api:
        done = api.post("/api/v1/apps/append-display/executions?wait=30", json={"message": "hi"})
        assert done.status_code == 200, done.text
        body = done.json()
        assert set(body) == {"id", "status", "output"}
        assert body["status"] == "completed" and body["output"] == {"displayed": "hi!"}

        shown = api.get(f"/api/v1/executions/{body['id']}").json()
        assert {"id", "app", "revision", "status", "input", "output", "error"} <= set(shown)
        assert {"started_at", "ended_at", "tasks"} <= set(shown)
        assert shown["app"] == "append-display" and shown["revision"] == "append-display-00001"
        tasks = shown["tasks"]
        assert [t["name"] for t in tasks] == ["append", "display"]
        assert tasks[0]["input"] == {"message": "hi"} and tasks[0]["output"] == {"message": "hi!"}
        assert tasks[1]["output"] == {"displayed": "hi!"}
        keys = {"name", "reference", "status", "input", "output", "error", "attempt"}
        assert all(keys | {"started_at", "ended_at"} <= set(t) for t in tasks)

        faulted = api.post("/api/v1/apps/append-display/executions?wait=30", json={})
        assert faulted.status_code == 422, faulted.text
        error = faulted.json()
        assert set(error) == {"id", "status", "error"} and error["status"] == "faulted"
        assert error["error"]["instance"] == "/do/0/append"

        started = api.post("/api/v1/apps/append-display/executions", json={"message": "later"})
        assert started.status_code == 202 and set(started.json()) == {"id", "status"}


def processes_serving(folder: Path) -> list[str]:
    """Command lines of processes that still run something from ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in command:
            found.append(command)
    return found


def test_flowapp_up_on_sqlite(tmp_path: Path) -> None:
    with flowapp_up(tmp_path / "data", "--app", str(EXAMPLE)) as platform:
        check_execution_contracts(platform)
        with platform.client() as api:
            logs = api.get("/api/v1/apps/append-display/logs", params={"function": "display"})
            assert logs.status_code == 200
            assert any("hi!" in line["message"] for line in logs.json()["items"])
            metrics = api.get("/metrics").text
            assert 'flowapp_executions_finished_total{app="append-display"' in metrics
            assert "flowapp_function_requests_total" in metrics
            assert api.get("/api/v1/apps").status_code == 200
            assert wait_for_ready(api)["FunctionsReady"] == "True"
        with platform.client(token="wrong") as stranger:
            assert stranger.get("/api/v1/apps").status_code == 401
    # SIGTERM stops the platform cleanly: its function processes are gone too.
    assert processes_serving(tmp_path / "data") == []


def test_flowapp_up_on_postgresql(tmp_path: Path, postgres_db: str) -> None:
    with flowapp_up(tmp_path / "data", "--app", str(EXAMPLE), "--db", postgres_db) as platform:
        check_execution_contracts(platform)


def test_an_execution_survives_a_restart_of_the_platform(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with flowapp_up(data, "--app", str(EXAMPLE)) as platform, platform.client() as api:
        first = api.post("/api/v1/apps/append-display/executions?wait=30", json={"message": "a"})
        assert first.status_code == 200
    with flowapp_up(data) as platform, platform.client() as api:  # deployed apps come back
        again = api.post("/api/v1/apps/append-display/executions?wait=30", json={"message": "b"})
        assert again.status_code == 200 and again.json()["output"] == {"displayed": "b!"}
        history = api.get("/api/v1/executions", params={"app": "append-display"}).json()
        assert len(history["items"]) == 2


def git(*args: str, cwd: Path) -> None:
    env = {"GIT_TERMINAL_PROMPT": "0", "HOME": str(cwd.parent), "PATH": "/usr/bin:/bin"}
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    subprocess.run(["git", *identity, *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_a_push_to_the_app_repository_deploys_a_new_revision(tmp_path: Path) -> None:
    with flowapp_up(tmp_path / "data", "--app", str(EXAMPLE)) as platform:
        host = platform.url.removeprefix("http://")
        clone = tmp_path / "clone"
        git(
            "clone",
            f"http://admin:{platform.token}@{host}/git/append-display.git",
            str(clone),
            cwd=tmp_path,
        )
        code = clone / "functions" / "append" / "main.py"
        code.write_text(
            code.read_text().replace(
                'return {"message": message + suffix}',
                'return {"message": (message + suffix).upper()}',
            )
        )
        git("commit", "-am", "Shout", cwd=clone)
        git("push", "origin", "main", cwd=clone)
        with platform.client() as api:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                app = api.get("/api/v1/apps/append-display").json()
                if app["deployed_revision"] == "append-display-00002":
                    break
                time.sleep(0.2)
            assert app["deployed_revision"] == "append-display-00002", app
            done = api.post(
                "/api/v1/apps/append-display/executions?wait=30", json={"message": "hi"}
            )
            assert done.json()["output"] == {"displayed": "HI!"}
            revisions = api.get("/api/v1/apps/append-display/revisions").json()
            assert {r["id"] for r in revisions["items"]} >= {
                "append-display-00001",
                "append-display-00002",
            }
            newest = api.get("/api/v1/apps/append-display/deploys").json()["items"][0]
            whole = api.get(f"/api/v1/apps/append-display/deploys/{newest['id']}").json()
            assert whole["revision"] == "append-display-00002" and whole["status"] == "succeeded"
            assert "Z traffic switched to append-display-00002" in whole["log"]
            assert api.get("/api/v1/apps/append-display/deploys/99999").status_code == 404
            tokens = {
                app: api.post(
                    "/api/v1/tokens", json={"name": "ci", "role": "developer", "apps": [app]}
                ).json()["token"]
                for app in ("append-display", "another-app")
            }

        def ls_remote(token: str) -> subprocess.CompletedProcess[str]:
            url = f"http://ci:{token}@{host}/git/append-display.git"
            env = {"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"}
            command = ["git", "ls-remote", url]
            return subprocess.run(command, env=env, capture_output=True, text=True)

        assert ls_remote(tokens["append-display"]).returncode == 0
        refused = ls_remote(tokens["another-app"])  # a token limited to another app
        assert refused.returncode != 0 and "Authentication failed" in refused.stderr
