"""Pushes and deploys that say what happened, through a real ``flowapp up`` and git: an
invalid project is refused by the push with every problem as a ``remote:`` line; a push
whose functions cannot start is a failed deploy that the status route, the app's
conditions and ``flowapp apps`` show; pushes past the API's 1 MiB body limit are
accepted; ``flowapp deploy`` sends what git would commit and never ``.flowapp/``."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx

from tests.cli import run_flowapp
from tests.e2e.platform_process import ROOT, RunningPlatform, flowapp_up
from tests.integration.local.lifecycle_apps import CHARGE_FIXED, orders_project

BROKEN_EXPRESSION = "      - charge: {call: charge, with: {amount: '${ .amount + }'}}\n"


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {"GIT_TERMINAL_PROMPT": "0", "HOME": str(cwd.parent), "PATH": "/usr/bin:/bin"}
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}:\n{done.stderr}")
    return done


def clone(platform: RunningPlatform, app: str, into: Path) -> Path:
    host = platform.url.removeprefix("http://")
    git("clone", f"http://admin:{platform.token}@{host}/git/{app}.git", str(into), cwd=into.parent)
    return into


def flowapp_cli(platform: RunningPlatform, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWAPP_URL": platform.url, "FLOWAPP_TOKEN": platform.token}
    return run_flowapp(*args, cwd=ROOT, env=env, timeout=120)


def newest_deploy(api: httpx.Client, app: str, after: int, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = api.get(f"/api/v1/apps/{app}/deploys").json()["items"]
        if items and items[0]["id"] > after and items[0]["status"] != "running":
            return items[0]
        time.sleep(0.2)
    raise AssertionError(f"no deploy of {app} after {after} ended")


def test_pushes_say_what_happened(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "orders", charge=CHARGE_FIXED)
    with flowapp_up(tmp_path / "data", "--app", str(project)) as platform, platform.client() as api:
        work = clone(platform, "orders", tmp_path / "work")
        first_head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
        first_deploy = api.get("/api/v1/apps/orders/deploys").json()["items"][0]["id"]

        manifest = work / "flowapp.yaml"
        text = manifest.read_text()
        manifest.write_text(text.replace("      - charge: {call: charge}\n", BROKEN_EXPRESSION))
        git("commit", "-qam", "A typo", cwd=work)
        refused = git("push", "origin", "main", cwd=work, check=False)
        assert refused.returncode != 0
        line = next(x for x in refused.stderr.splitlines() if x.startswith("remote: flowapp.yaml:"))
        assert "/spec/workflow/do/1/charge/with/amount" in line, refused.stderr
        assert "[remote rejected] main -> main (the project cannot be deployed" in refused.stderr
        remote = git("ls-remote", "origin", "refs/heads/main", cwd=work).stdout.split()[0]
        assert remote == first_head  # main did not move: nothing to deploy, nothing lost
        assert api.get("/api/v1/apps/orders/deploys").json()["items"][0]["id"] == first_deploy

        manifest.write_text(text)
        (work / "functions" / "charge" / "main.py").write_text("def handle(data, context)\n")
        big = os.urandom(3 * 1024 * 1024)  # incompressible: a push body well over 1 MiB
        (work / "functions" / "charge" / "model.bin").write_bytes(big)
        git("add", "--all", cwd=work)
        git("commit", "-qm", "A model, and a syntax error", cwd=work)
        git("push", "origin", "main", cwd=work)  # accepted: the project itself is valid
        failed = newest_deploy(api, "orders", first_deploy)
        assert failed["status"] == "failed" and "charge" in failed["message"], failed
        status = api.get("/api/v1/apps/orders/status").json()
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        deadline = time.monotonic() + 20
        while ready["reason"] != "DeployFailed" and time.monotonic() < deadline:
            time.sleep(0.3)
            status = api.get("/api/v1/apps/orders/status").json()
            ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "DeployFailed"), ready
        listed = flowapp_cli(platform, "apps")
        assert listed.returncode == 0 and "DeployFailed" in listed.stdout, listed.stdout
        assert api.get("/api/v1/apps/orders").json()["deployed_revision"] == "orders-00001"

        (work / "functions" / "charge" / "main.py").write_text(CHARGE_FIXED)
        git("commit", "-qam", "Fixed", cwd=work)
        git("push", "origin", "main", cwd=work)
        fixed = newest_deploy(api, "orders", failed["id"])
        assert fixed["status"] == "succeeded", fixed


def test_flowapp_deploy_sends_what_git_would_commit(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "orders", charge=CHARGE_FIXED)
    (project / ".gitignore").write_text("*.log\n")
    (project / "debug.log").write_text("noise")
    (project / ".flowapp").mkdir()
    (project / ".flowapp" / "admin-token").write_text("fa_dev_token")
    (project / "functions" / "count" / "__pycache__").mkdir()
    (project / "functions" / "count" / "__pycache__" / "main.pyc").write_bytes(b"\0")
    with flowapp_up(tmp_path / "data") as platform:
        deployed = flowapp_cli(platform, "deploy", str(project), "--json")
        assert deployed.returncode == 0, deployed.stderr
        assert json.loads(deployed.stdout)["status"] == "succeeded"
        work = clone(platform, "orders", tmp_path / "work")
        tracked = set(git("ls-files", cwd=work).stdout.split())
        assert tracked == {
            ".gitignore",
            "flowapp.yaml",
            "functions/charge/main.py",
            "functions/count/main.py",
        }
