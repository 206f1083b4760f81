"""A developer limited to one app tries to become admin through the code it deploys.

`flowapp up` runs as root with a marker in its environment; an admin deploys a victim app
(whose function folder holds a secret) and allows `run: shell` to the attacker's app only.
The attacker, with a developer token limited to that app, uploads a Python function and a
`run: shell` task that try to read the admin token file, the database, the victim's
function folder and the server's environment. Every attempt fails, the code runs as the
app's own unprivileged user, and nothing of what it sought reaches the database.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import httpx
import pytest

from flowapp.apps.sources import pack_folder
from flowapp.sandbox.identity import app_user
from tests.e2e.platform_process import RunningPlatform, flowapp_up, wait_for_execution
from tests.sandboxing import require_root_and_bwrap


@pytest.fixture(autouse=True)
def _needs_the_sandbox() -> None:
    require_root_and_bwrap()


MARKER = "server-env-marker-5f0c2b9e"
VICTIM_SECRET = "victim-secret-2d7a41c8"

SNOOP = """
import os


def attempt(action):
    try:
        return {"read": action()}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def read(path):
    with open(path, "rb") as file:
        return file.read().decode("utf-8", "replace")


def handle(data, context):
    found = {name: attempt(lambda p=path: read(p)) for name, path in data["files"].items()}
    found["data_dir"] = attempt(lambda: os.listdir(data["data_dir"]))
    found["server_environ"] = attempt(lambda: read(f"/proc/{data['server_pid']}/environ"))
    found["environ"] = dict(os.environ)
    found["uid"] = os.getuid()
    found["processes"] = sorted(name for name in os.listdir("/proc") if name.isdigit())
    return found
"""

SHELL = (
    'for f in "$TOKEN_FILE" "$DB_FILE" "$VICTIM_FILE"; do cat "$f"; done; ls "$DATA_DIR"; '
    'cat "/proc/$SERVER_PID/environ"; echo "ENV:"; env; echo "UID: $(id -u)"'
)


def write_project(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def victim_project(root: Path) -> Path:
    return write_project(
        root / "victim",
        {
            "flowapp.yaml": textwrap.dedent(
                """\
                apiVersion: flowapp.dev/v1alpha1
                kind: FlowApp
                metadata: {name: victim}
                spec:
                  functions:
                    vault: {runtime: python, path: functions/vault}
                  workflow:
                    document: {dsl: '1.0.0', namespace: default, name: victim, version: '1.0.0'}
                    do:
                      - vault: {call: vault}
                """
            ),
            "functions/vault/main.py": f"SECRET = {VICTIM_SECRET!r}\n\n\n"
            "def handle(data, context):\n    return {'ok': True}\n",
        },
    )


def attacker_project(root: Path) -> Path:
    environment = {
        "TOKEN_FILE": "${ $workflow.input.files.admin_token }",
        "DB_FILE": "${ $workflow.input.files.database }",
        "VICTIM_FILE": "${ $workflow.input.files.victim_code }",
        "DATA_DIR": "${ $workflow.input.data_dir }",
        "SERVER_PID": "${ $workflow.input.server_pid | tostring }",
    }
    shell = {
        "run": {"shell": {"command": SHELL, "environment": environment}, "return": "all"},
        "output": {"as": "${ {shell: ., snoop: $input} }"},
    }
    resource = {
        "apiVersion": "flowapp.dev/v1alpha1",
        "kind": "FlowApp",
        "metadata": {"name": "mallory"},
        "spec": {
            "functions": {"snoop": {"runtime": "python", "path": "functions/snoop"}},
            "workflow": {
                "document": {"dsl": "1.0.0", "namespace": "default", "name": "mallory",
                             "version": "1.0.0"},
                "do": [{"snoop": {"call": "snoop"}}, {"shell": shell}],
            },
        },
    }  # fmt: skip
    return write_project(
        root / "mallory",
        {"flowapp.yaml": json.dumps(resource, indent=2), "functions/snoop/main.py": SNOOP},
    )


def limited_token(admin: httpx.Client, app: str) -> str:
    created = admin.post(
        "/api/v1/tokens", json={"name": "contractor", "role": "developer", "apps": [app]}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


def secrets_in_files(data_dir: Path, secrets: dict[str, str]) -> list[str]:
    """Which secrets occur in the database files (WAL and SHM included)."""
    found = []
    for path in data_dir.glob("*.db*"):
        content = path.read_bytes()
        found += [
            f"{name} in {path.name}" for name, value in secrets.items() if value.encode() in content
        ]
    return found


def test_a_limited_developer_cannot_read_what_the_server_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("FLOWAPP_TEST_MARKER", MARKER)  # the server inherits it
    victim = victim_project(tmp_path)
    with flowapp_up(data, "--app", str(victim)) as platform, platform.client() as admin:
        attack(platform, admin, data, tmp_path)


def attack(platform: RunningPlatform, admin: httpx.Client, data: Path, tmp_path: Path) -> None:
    revision = admin.get("/api/v1/apps/victim").json()["deployed_revision"]
    victim_code = data / "revisions" / revision / "functions" / "vault" / "main.py"
    assert VICTIM_SECRET in victim_code.read_text()  # the target exists, for the server
    admin_token = (data / "admin-token").read_text().strip()
    created = admin.post(
        "/api/v1/apps",
        content=(attacker_project(tmp_path) / "flowapp.yaml").read_text(),
        headers={"content-type": "application/yaml"},
    )
    assert created.status_code == 201, created.text
    allowed = admin.put("/api/v1/apps/mallory/run-policy", json={"allowed": ["shell"]})
    assert allowed.status_code == 200, allowed.text

    with platform.client(token=limited_token(admin, "mallory")) as contractor:
        uploaded = contractor.put(
            "/api/v1/apps/mallory/source",
            content=pack_folder(tmp_path / "mallory"),
            headers={"content-type": "application/gzip"},
        )
        assert uploaded.status_code == 200, uploaded.text
        files = {
            "admin_token": str(data / "admin-token"),
            "database": str(data / "flowapp.db"),
            "victim_code": str(victim_code),
        }
        payload = {"files": files, "data_dir": str(data), "server_pid": platform.process.pid}
        started = contractor.post("/api/v1/apps/mallory/executions", json=payload)
        assert started.status_code == 202, started.text
        execution = wait_for_execution(contractor, started.json()["id"], timeout=60)
    assert execution["status"] == "completed", execution
    output = execution["output"]

    snoop = output["snoop"]
    for name in ("admin_token", "database", "victim_code", "server_environ"):
        assert "FileNotFoundError" in snoop[name].get("error", ""), (name, snoop[name])
    # Of the data directory it sees only the way to its own folder, none of the files.
    assert snoop["data_dir"] == {"read": ["revisions"]}
    assert MARKER not in repr(snoop["environ"])
    assert set(snoop["environ"]) <= {
        "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PWD", "PORT", "HOST",
        "FLOWAPP_FUNCTION", "FLOWAPP_APP", "FLOWAPP_FUNCTION_PATH", "FLOWAPP_CONCURRENCY",
        "FLOWAPP_GRACE_PERIOD", "PYTHONUNBUFFERED",
    }  # fmt: skip
    user = app_user("mallory").uid
    assert snoop["uid"] == user != 0
    assert len(snoop["processes"]) <= 3  # its own PID namespace: bwrap's init and itself

    shell = output["shell"]
    assert f"UID: {user}" in shell["stdout"]
    assert shell["stderr"].count("No such file or directory") >= 5, shell["stderr"]
    assert MARKER not in shell["stdout"] and admin_token not in shell["stdout"]

    seen = repr(execution)
    assert admin_token not in seen and VICTIM_SECRET not in seen and MARKER not in seen
    secrets = {"admin token": admin_token, "marker": MARKER, "victim secret": VICTIM_SECRET}
    assert secrets_in_files(data, secrets) == []
