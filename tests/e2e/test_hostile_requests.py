"""Requests written by an attacker, sent to a real `flowapp up` with each kind of token:
none reads a file outside its project, writes outside it, or gets a 500; each refusal is
an RFC 7807 problem saying what and where, and the server's log holds no traceback.

One platform for the module (its start is the slow part); the app ``victim`` is deployed
once, with a Python function whose live folder the attacks aim at.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.platform_process import RunningPlatform, create_and_deploy, flowapp_up

VICTIM = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: victim}
spec:
  functions:
    greet: {runtime: python, path: functions/greet}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: victim, version: '1.0.0'}
    do:
      - greet: {call: greet}
"""
ATTACK = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: attacker}
spec:
  functions:
    FUNCTION: {runtime: python, path: PATH}
  WORKFLOW
"""
INLINE = """workflow:
    document: {dsl: '1.0.3', namespace: default, name: attacker, version: '1.0.0'}
    do:
      - first: {set: {a: 1}}"""
READER = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: reader}
spec:
  workflowRef: REF
"""
CODE = 'x"""\nimport os; os.system("touch /tmp/flowapp-pwned")\n"""'
YAML = {"content-type": "application/yaml"}


def attack(
    *, function: str = "greet", path: str = "functions/greet", workflow: str = INLINE
) -> str:
    text = ATTACK.replace("FUNCTION", json.dumps(function)).replace("PATH", json.dumps(path))
    return text.replace("WORKFLOW", workflow)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    with flowapp_up(tmp_path_factory.mktemp("hostile") / "data") as running:
        with running.client() as admin:
            create_and_deploy(admin, VICTIM, "victim")
        yield running


def token(platform: RunningPlatform, role: str, apps: list[str] | None = None) -> str:
    with platform.client() as admin:
        body = {"name": f"{role}-{len(apps or [])}", "role": role, "apps": apps or []}
        created = admin.post("/api/v1/tokens", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["token"])


def snapshot(root: Path) -> dict[str, str]:
    """Every file of the data directory but the databases, the logs and the function
    processes' own caches, with the digest of its content."""
    found = {}
    for folder, folders, names in os.walk(root):
        folders[:] = [f for f in folders if f not in ("logs", "__pycache__")]
        for name in names:
            if ".db" not in name:
                path = Path(folder, name)
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def victim_code(platform: RunningPlatform) -> str:
    [folder] = (platform.data_dir / "revisions").glob("victim-*/functions/greet")
    return (folder / "main.py").read_text()


def assert_no_traceback(platform: RunningPlatform) -> None:
    log = platform.data_dir.parent / f"{platform.data_dir.name}-up.log"
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("ref", ["../../admin-token", "/proc/self/environ", "../../flowapp.db"])
def test_a_viewer_cannot_read_a_file_outside_the_project(
    platform: RunningPlatform, ref: str
) -> None:
    secret = (platform.data_dir / "admin-token").read_text().strip()
    text = READER.replace("REF", ref)
    with platform.client(token(platform, "viewer")) as viewer:
        answer = viewer.post("/api/v1/validate", content=text, headers=YAML)
    assert answer.status_code == 200, answer.text
    [problem] = answer.json()["problems"]
    assert problem["pointer"] == "/spec/workflowRef"
    assert "outside the project folder" in problem["message"]
    assert secret not in answer.text and str(platform.data_dir) not in answer.text


@pytest.mark.parametrize(
    ("function", "path"),
    [
        ("greet", "../victim-00001/functions/greet"),
        ("greet", "../../revisions/victim-00001/functions/greet"),
        (CODE, "../victim-00001/functions/greet"),
        (CODE, "functions/x"),
    ],
)
def test_a_function_path_or_name_cannot_write_into_another_app(
    platform: RunningPlatform, function: str, path: str
) -> None:
    before_code, before = victim_code(platform), snapshot(platform.data_dir)
    text = attack(function=function, path=path)
    with platform.client(token(platform, "viewer")) as viewer:
        checked = viewer.post("/api/v1/validate", content=text, headers=YAML)
    with platform.client(token(platform, "developer")) as developer:
        created = developer.post("/api/v1/apps", content=text, headers=YAML)
    assert checked.status_code == 200 and checked.json()["valid"] is False, checked.text
    assert created.status_code == 422, created.text
    assert created.headers["content-type"] == "application/problem+json"
    assert victim_code(platform) == before_code and snapshot(platform.data_dir) == before
    assert not Path("/tmp/flowapp-pwned").exists()


def test_validation_leaves_the_filesystem_unchanged(platform: RunningPlatform) -> None:
    before = snapshot(platform.data_dir)
    with platform.client(token(platform, "viewer")) as viewer:
        answer = viewer.post("/api/v1/validate", content=attack(), headers=YAML)
    assert answer.json() == {"valid": True, "problems": []}  # starter code made in memory
    assert snapshot(platform.data_dir) == before


def tar_of(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("member", "says"),
    [
        (".GIT/config", "cannot contain `.git`"),
        (".git/hooks/post-update", "cannot contain `.git`"),
        ("../../../tmp/flowapp-escaped", "outside the project folder"),
        ("/tmp/flowapp-escaped", "outside the project folder"),
    ],
)
def test_an_upload_holding_what_no_project_may_hold_is_refused(
    platform: RunningPlatform, member: str, says: str
) -> None:
    archive = tar_of(("flowapp.yaml", VICTIM.encode()), (member, b"[core]\n"))
    with platform.client() as admin:
        answer = admin.put(
            "/api/v1/apps/victim/source",
            content=archive,
            headers={"content-type": "application/gzip"},
        )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["file"] == member and says in problem["message"]
    assert not Path("/tmp/flowapp-escaped").exists()
    assert_no_traceback(platform)


BAD_RESOURCES = [
    "document: 5\ndo: []\n",
    "document: [1]\ndo: []\n",
    "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: 5\nspec: {}\n",
    "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: [1]\nspec: {}\n",
]


@pytest.mark.parametrize("text", BAD_RESOURCES)
def test_a_document_of_the_wrong_shape_is_a_problem_not_a_500(
    platform: RunningPlatform, text: str
) -> None:
    with platform.client() as admin:
        checked = admin.post("/api/v1/validate", content=text, headers=YAML)
        created = admin.post("/api/v1/apps", content=text, headers=YAML)
    assert checked.status_code == 200 and checked.json()["problems"], checked.text
    assert created.status_code == 422, created.text
    assert created.json()["problems"][0]["file"] == "flowapp.yaml"
    assert_no_traceback(platform)


def test_an_execution_input_with_a_lone_surrogate_is_a_problem(
    platform: RunningPlatform,
) -> None:
    with platform.client() as admin:
        answer = admin.post(
            "/api/v1/apps/victim/executions",
            content=b'{"name": "\\ud800"}',
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 400, answer.text
    [problem] = answer.json()["problems"]
    assert (problem["file"], problem["pointer"]) == ("<body>", "/name")
    assert_no_traceback(platform)


@pytest.mark.parametrize("depth", [300, 1000])
def test_an_execution_input_nested_too_deeply_is_a_problem(
    platform: RunningPlatform, depth: int
) -> None:
    with platform.client() as admin:
        answer = admin.post(
            "/api/v1/apps/victim/executions",
            content="[" * depth + "]" * depth,
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 400, answer.text
    assert "nested" in answer.json()["detail"]
    assert_no_traceback(platform)


def test_the_platform_still_serves_after_every_attack(platform: RunningPlatform) -> None:
    with platform.client() as admin:
        answer = admin.post("/api/v1/apps/victim/executions?wait=30", json={"name": "Ada"})
    assert answer.status_code == 200, answer.text
    assert httpx.get(f"{platform.url}/healthz").status_code == 200
    assert_no_traceback(platform)
