"""Secrets end to end: what a workflow gets through ``$secrets`` on ``flowapp run`` and on
``flowapp up``, the spec's authorization error when a declared one was not supplied, and
credentials built from secrets that never reach the data directory or the log."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from tests.cli import run_flowapp
from tests.e2e.platform_process import (
    create_and_deploy,
    flowapp_up,
    free_port,
    wait_for_execution,
)

ROOT = Path(__file__).resolve().parents[2]
AUTHORIZATION = "https://serverlessworkflow.io/spec/1.0.0/errors/authorization"

READS_A_SECRET = """\
document: {dsl: '1.0.3', namespace: test, name: NAME, version: '1.0.0'}
use:
  secrets: [apiKey]
do:
  - useIt:
      set:
        header: ${ "Bearer " + $secrets.apiKey }
"""


def flowapp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_flowapp(*args, cwd=cwd or ROOT)


def test_flowapp_run_faults_with_403_when_a_declared_secret_is_not_supplied(
    tmp_path: Path,
) -> None:
    workflow = tmp_path / "reads.yaml"
    workflow.write_text(READS_A_SECRET.replace("NAME", "reads"))
    db = f"sqlite:///{tmp_path / 'run.db'}"
    missing = flowapp("run", str(workflow), "--db", db)
    assert missing.returncode == 1, missing.stderr
    error = json.loads(missing.stdout)
    assert error["type"] == AUTHORIZATION and error["status"] == 403
    assert error["instance"] == "/do/0/useIt"
    assert "`apiKey`" in error["detail"] and "no value was supplied" in error["detail"]

    given = flowapp("run", str(workflow), "--db", db, "--secret", "apiKey=k-123")
    assert given.returncode == 0, given.stdout + given.stderr
    assert json.loads(given.stdout) == {"header": "Bearer k-123"}


def test_flowapp_up_faults_with_403_when_a_declared_secret_is_not_supplied(
    tmp_path: Path,
) -> None:
    with flowapp_up(tmp_path / "data") as platform, platform.client() as api:
        create_and_deploy(api, READS_A_SECRET.replace("NAME", "reads"), "reads")
        answer = api.post("/api/v1/apps/reads/executions?wait=30", json={})
        assert answer.status_code == 403, answer.text  # a faulted execution's own status
        body = answer.json()
        assert body["status"] == "faulted", body
        assert body["error"]["type"] == AUTHORIZATION and body["error"]["status"] == 403
        assert "`apiKey`" in body["error"]["detail"]


READS_THREE = """\
document: {dsl: '1.0.3', namespace: test, name: NAME, version: '1.0.0'}
use:
  secrets: [fromFile, fromEnv, fromStore]
do:
  - read:
      set:
        file: ${ $secrets.fromFile }
        env: ${ $secrets.fromEnv }
        store: ${ $secrets.fromStore[0:6] }
        storeLength: ${ $secrets.fromStore | length }
"""
STORED_VALUE = "stored-c2VjcmV0LXZhbHVl-0001"


def files_holding(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_flowapp_up_gives_each_app_its_secrets_from_file_environment_and_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text("shop:\n  fromFile: file-value\nother:\n  fromFile: other-file\n")
    monkeypatch.setenv("FLOWAPP_SECRETS_SHOP", '{"fromEnv": "env-value"}')
    data = tmp_path / "data"
    with (
        flowapp_up(data, "--secrets-file", str(secrets_file)) as platform,
        platform.client() as api,
    ):
        create_and_deploy(api, READS_THREE.replace("NAME", "shop"), "shop")
        create_and_deploy(api, READS_THREE.replace("NAME", "other"), "other")
        server = ("--url", platform.url, "--token", platform.token)
        set_value = subprocess.run(
            [sys.executable, "-m", "flowapp.cli.main", "secret", "set", "shop", "fromStore",
             *server],
            input=STORED_VALUE + "\n", capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip
        assert set_value.returncode == 0, set_value.stderr
        assert STORED_VALUE not in set_value.stdout + set_value.stderr

        done = api.post("/api/v1/apps/shop/executions?wait=30", json={})
        assert done.status_code == 200, done.text
        assert done.json()["output"] == {
            "file": "file-value",
            "env": "env-value",
            "store": STORED_VALUE[:6],
            "storeLength": len(STORED_VALUE),
        }
        # Another app sees neither shop's environment nor its store: reading them is 403.
        other = api.post("/api/v1/apps/other/executions?wait=30", json={})
        assert other.status_code == 403, other.text
        assert "`fromEnv`" in other.json()["error"]["detail"]

        listed = flowapp("secret", "list", "shop", *server)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.split("\n")[:3] == [
            "fromEnv\tenvironment",
            "fromFile\tfile",
            "fromStore\tstore",
        ]
        assert STORED_VALUE not in listed.stdout
        assert files_holding(data, STORED_VALUE.encode()) == []
    assert files_holding(data, STORED_VALUE.encode()) == []  # WAL checkpointed at stop


def test_flowapp_up_refuses_a_bad_secrets_file_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "secrets.yaml"
    bad.write_text("shop: [not, an, object]\n")
    result = flowapp("up", "--data-dir", str(tmp_path / "data"), "--secrets-file", str(bad))
    assert result.returncode == 2
    assert "secrets.yaml: /shop: an app's secrets are an object" in result.stderr


# --- resolved credentials stay out of the data directory and the log --------------------

TOKEN = "tok-ZTJlLXRva2Vu-e2e"
PASSWORD = "pw-ZTJlLXBhc3N3b3Jk-e2e"
CLIENT_SECRET = "cs-ZTJlLWNsaWVudA-e2e"
ACCESS_TOKEN = "at-ZTJlLWFjY2Vzcw-e2e"
BASIC = base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
NEEDLES = (TOKEN, PASSWORD, CLIENT_SECRET, ACCESS_TOKEN, BASIC)

CALLS = """\
document: {dsl: '1.0.3', namespace: test, name: calls, version: '1.0.0'}
use:
  secrets: [token, petStore, clientSecret]
do:
  - together:
      fork:
        branches:
          - bearer:
              call: http
              with:
                method: get
                endpoint:
                  uri: BASE/bearer
                  authentication: {bearer: {token: '${ $secrets.token }'}}
          - basic:
              call: http
              with:
                method: get
                endpoint:
                  uri: BASE/basic
                  authentication: {basic: {use: petStore}}
          - oauth2:
              call: http
              with:
                method: get
                endpoint:
                  uri: BASE/oauth
                  authentication:
                    oauth2:
                      authority: BASE/realm
                      grant: client_credentials
                      client: {id: flowapp, secret: '${ $secrets.clientSecret }'}
"""


class Guarded:
    """Resources on 127.0.0.1 that check credentials and answer once released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.seen: list[str] = []
        self.refused: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(self.app())
        self.base = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/realm/oauth2/token", self.token)
        for name in ("bearer", "basic", "oauth"):
            app.router.add_get(f"/{name}", self.resource)
        return app

    async def token(self, request: web.Request) -> web.Response:
        if parse_qs(await request.text()).get("client_secret") != [CLIENT_SECRET]:
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": ACCESS_TOKEN, "expires_in": 600})

    async def resource(self, request: web.Request) -> web.Response:
        name = request.path.strip("/")
        expected = {"bearer": f"Bearer {TOKEN}", "basic": f"Basic {BASIC}"}
        if request.headers.get("Authorization") != expected.get(name, f"Bearer {ACCESS_TOKEN}"):
            self.refused.append(name)
            return web.json_response({"error": "bad credentials"}, status=401)
        self.seen.append(name)
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return web.json_response({"ok": name})

    def __enter__(self) -> Guarded:
        port = free_port()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", port).start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)
        self.base = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def holding(folder: Path, log: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in [*folder.rglob("*"), log]:
        if path.is_file():
            content = path.read_bytes()
            hits = [needle for needle in NEEDLES if needle.encode() in content]
            if hits:
                found[str(path.relative_to(folder.parent))] = hits
    return found


def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_credentials_from_stored_secrets_never_reach_the_data_dir_or_the_log(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    log = tmp_path / "data-up.log"
    with (
        Guarded() as guarded,
        flowapp_up(data, "--allow-egress", "127.0.0.1") as platform,
        platform.client() as api,
    ):
        create_and_deploy(api, CALLS.replace("BASE", guarded.base), "calls")
        for name, value in (("token", TOKEN), ("clientSecret", CLIENT_SECRET)):
            assert api.put(f"/api/v1/apps/calls/secrets/{name}", json={"value": value}).is_success
        petstore = {"username": "ada", "password": PASSWORD}
        assert api.put("/api/v1/apps/calls/secrets/petStore", json={"value": petstore}).is_success

        started = api.post("/api/v1/apps/calls/executions", json={})
        assert started.status_code == 202, started.text
        wait_for(lambda: len(guarded.seen) == 3)
        assert guarded.refused == []
        assert holding(data, log) == {}  # three calls in flight
        guarded.release.set()
        done = wait_for_execution(api, started.json()["id"])
        assert done["status"] == "completed", done
        assert holding(data, log) == {}
    assert holding(data, log) == {}  # the WAL checkpointed at stop


def test_functions_see_their_apps_secrets_and_what_they_log_of_them_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function finds its app's secrets in its environment (``FLOWAPP_SECRET_<name>``);
    the workflow also passes one to its functions (its author's choice), which log it:
    the lines kept and served carry ``********`` instead."""
    project = tmp_path / "append-display"
    shutil.copytree(ROOT / "examples" / "append-display", project)
    manifest = project / "flowapp.yaml"
    text = manifest.read_text()
    text = text.replace("    do:\n", "    use: {secrets: [token]}\n    do:\n", 1).replace(
        "message: '${ .message }'", "message: '${ $secrets.token }'"
    )
    manifest.write_text(text)
    main = project / "functions" / "append" / "main.py"
    main.write_text(
        main.read_text().replace(
            '    return {"message": message + suffix}',
            "    import os\n"
            '    seen = os.environ.get("FLOWAPP_SECRET_token", "")\n'
            '    return {"message": message + suffix, "start": seen[:4], "length": len(seen)}',
        )
    )
    monkeypatch.setenv("FLOWAPP_SECRETS_APPEND_DISPLAY", json.dumps({"token": TOKEN}))
    data = tmp_path / "data"
    with flowapp_up(data, "--app", str(project)) as platform, platform.client() as api:
        done = api.post("/api/v1/apps/append-display/executions?wait=60", json={})
        assert done.status_code == 200, done.text
        # The function's process has its app's secrets in its environment.
        tasks = api.get(f"/api/v1/executions/{done.json()['id']}").json()["tasks"]
        append = next(task for task in tasks if task["name"] == "append")
        assert append["output"]["start"] == TOKEN[:4]
        assert append["output"]["length"] == len(TOKEN)
        lines = []
        for function in ("append", "display"):
            answer = api.get("/api/v1/apps/append-display/logs", params={"function": function})
            lines += [line["message"] for line in answer.json()["items"]]
        assert any("********" in line for line in lines), lines
        assert not any(TOKEN in line for line in lines)
        assert [
            p
            for p in (data / "logs").rglob("*")
            if p.is_file() and TOKEN.encode() in p.read_bytes()
        ] == []
