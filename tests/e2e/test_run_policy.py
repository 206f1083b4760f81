"""`run: shell` / `script` / `container` on `flowapp up`: off unless allowed, per platform
(`--allow-run`) or per app by an admin; refused at validation, at deploy and at run time
with an error that says where and how to allow it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.cli import run_flowapp
from tests.e2e.platform_process import (
    ROOT,
    RunningPlatform,
    create_and_deploy,
    flowapp_up,
    wait_for_execution,
)

SHELL_APP = json.dumps(
    {
        "document": {"dsl": "1.0.0", "namespace": "default", "name": "greeter", "version": "1.0.0"},
        "do": [
            {"hello": {"set": {"who": "${ .name }"}}},
            {"greet": {"run": {"shell": {"command": "echo hello"}, "return": "stdout"}}},
        ],
    }
)
POLICY = "/api/v1/apps/greeter/run-policy"


def create(api: httpx.Client, text: str) -> None:
    created = api.post("/api/v1/apps", content=text, headers={"content-type": "application/yaml"})
    assert created.status_code == 201, created.text


def run(api: httpx.Client) -> dict:
    started = api.post("/api/v1/apps/greeter/executions", json={"name": "x"})
    assert started.status_code == 202, started.text
    return wait_for_execution(api, started.json()["id"], timeout=30)


def flowapp(platform: RunningPlatform, *args: str) -> subprocess.CompletedProcess[str]:
    return run_flowapp(*args, "--url", platform.url, "--token", platform.token, cwd=ROOT)


def test_run_shell_is_off_until_an_admin_allows_it_for_the_app(tmp_path: Path) -> None:
    with flowapp_up(tmp_path / "data") as platform, platform.client() as admin:
        validated = admin.post(
            "/api/v1/validate", content=SHELL_APP, headers={"content-type": "application/yaml"}
        )
        (problem,) = validated.json()["problems"]
        assert problem["pointer"] == "/do/1/greet/run/shell"
        assert "run: shell is disabled on this platform" in problem["message"]
        assert "--allow-run shell" in problem["message"]

        create(admin, SHELL_APP)
        refused = admin.post("/api/v1/apps/greeter/deploys")
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["title"] == "Process Kind Not Allowed"
        assert [p["pointer"] for p in body["problems"]] == ["/do/1/greet/run/shell"]

        allowed = flowapp(platform, "allow-run", "greeter", "shell")
        assert allowed.returncode == 0, allowed.stderr
        assert "greeter may run: shell" in allowed.stdout
        assert admin.post("/api/v1/apps/greeter/deploys").status_code == 201
        done = run(admin)
        assert (done["status"], done["output"]) == ("completed", "hello")

        # Taken back: the serving revision's next process is refused as it starts.
        assert flowapp(platform, "allow-run", "greeter", "none").returncode == 0
        faulted = run(admin)
        assert faulted["status"] == "faulted"
        error = faulted["error"]
        assert error["status"] == 403 and error["instance"] == "/do/1/greet"
        assert error["type"].endswith("/errors/authorization")
        assert "run: shell is disabled on this platform for app greeter" in error["detail"]


def test_allow_run_opens_a_kind_to_every_app_and_only_that_kind(tmp_path: Path) -> None:
    script = '"script": {"language": "python", "code": "print(1)"}'
    script_app = SHELL_APP.replace('"shell": {"command": "echo hello"}', script)
    up = flowapp_up(tmp_path / "data", "--allow-run", "shell")
    with up as platform, platform.client() as admin:
        create_and_deploy(admin, SHELL_APP, "greeter")
        assert run(admin)["output"] == "hello"
        assert admin.get(POLICY).json() == {
            "app": "greeter",
            "allowed": [],
            "platform": ["shell"],
            "effective": ["shell"],
        }
        problems = admin.post(
            "/api/v1/validate", content=script_app, headers={"content-type": "application/yaml"}
        ).json()["problems"]
        assert [p["pointer"] for p in problems] == ["/do/1/greet/run/script"]
