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
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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


# Each document with the file its problem must name: a plain workflow's problems are in
# the workflow.yaml the project keeps it as, a FlowApp's in its flowapp.yaml.
BAD_RESOURCES = [
    ("document: 5\ndo: []\n", "workflow.yaml"),
    ("document: [1]\ndo: []\n", "workflow.yaml"),
    ("apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: 5\nspec: {}\n", "flowapp.yaml"),
    ("apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: [1]\nspec: {}\n", "flowapp.yaml"),
]


@pytest.mark.parametrize(("text", "file"), BAD_RESOURCES)
def test_a_document_of_the_wrong_shape_is_a_problem_not_a_500(
    platform: RunningPlatform, text: str, file: str
) -> None:
    with platform.client() as admin:
        checked = admin.post("/api/v1/validate", content=text, headers=YAML)
        created = admin.post("/api/v1/apps", content=text, headers=YAML)
    assert checked.status_code == 200 and checked.json()["problems"], checked.text
    assert created.status_code == 422, created.text
    assert created.json()["problems"][0]["file"] == file
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


# Nine levels of nine aliases: 387 million strings once expanded (113 s and 2.9 GB before).
BOMB = """\
kind: Bomb
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def peak_memory(platform: RunningPlatform) -> int:
    """The server process's peak resident memory, in KiB."""
    status = Path(f"/proc/{platform.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])


def test_the_alias_bomb_from_a_viewer_is_refused_at_once(platform: RunningPlatform) -> None:
    before = peak_memory(platform)
    with platform.client(token(platform, "viewer")) as viewer:
        started = time.monotonic()
        answer = viewer.post("/api/v1/validate", content=BOMB, headers=YAML)
        elapsed = time.monotonic() - started
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    [problem] = answer.json()["problems"]
    assert (problem["file"], problem["line"]) == ("flowapp.yaml", 7)
    assert "more than 100,000 values" in problem["message"]
    assert elapsed < 2.0  # was 113 s; the bound leaves room for a loaded machine
    assert peak_memory(platform) - before < 50 * 1024  # was 2.9 GB
    log = (platform.data_dir.parent / f"{platform.data_dir.name}-up.log").read_text()
    refusals = [line for line in log.splitlines() if "POST /api/v1/validate refused (413)" in line]
    assert refusals and "more than 100,000 values" in refusals[0]  # one line, no traceback
    assert_no_traceback(platform)


@pytest.mark.parametrize(
    "text",
    [BOMB, "a: " + "[" * 1000 + "]" * 1000 + "\n", "a: " + "{a: " * 1000 + "}" * 1000 + "\n"],
    ids=["aliases", "brackets", "braces"],
)
def test_every_entry_point_for_yaml_refuses_a_bomb(platform: RunningPlatform, text: str) -> None:
    archive = tar_of(("flowapp.yaml", text.encode()))
    with platform.client() as admin:
        created = admin.post("/api/v1/apps", content=text, headers=YAML)
        replaced = admin.put("/api/v1/apps/victim", content=text, headers=YAML)
        uploaded = admin.put(
            "/api/v1/apps/bombed/source",
            content=archive,
            headers={"content-type": "application/gzip"},
        )
    for answer in (created, replaced, uploaded):
        assert answer.status_code == 413, answer.text
        assert answer.json()["problems"][0]["file"] == "flowapp.yaml"
    assert_no_traceback(platform)


def test_healthz_answers_while_a_large_document_is_read(platform: RunningPlatform) -> None:
    """A document near the value limit takes seconds to parse (ruamel is pure Python); it
    is parsed in a worker thread with a time budget, so the server answers meanwhile."""
    task = "  - t{0}:\n      set: {{a: [1, 2, 3], b: {{c: 'text'}}}}\n"
    large = "document: {dsl: '1.0.3', namespace: d, name: large, version: '1.0.0'}\ndo:\n"
    large += "".join(task.format(i) for i in range(6500))  # about 90,000 values
    assert 300_000 < len(large) < 1 << 20
    with ThreadPoolExecutor(1) as pool, platform.client() as admin:
        parsing = pool.submit(admin.post, "/api/v1/validate", content=large, headers=YAML)
        answered = []
        while not parsing.done():
            started = time.monotonic()
            health = httpx.get(f"{platform.url}/healthz", timeout=5)
            answered.append((health.status_code, time.monotonic() - started))
            time.sleep(0.05)
        result = parsing.result()
    assert result.status_code in (200, 413), result.text  # 413: past the time budget
    assert len(answered) >= 3 and all(status == 200 for status, _ in answered)
    print(f"healthz during the parse: {len(answered)} answers, slowest {max(answered)[1]:.3f} s")


def test_flowapp_validate_refuses_a_bomb_on_the_command_line(tmp_path: Path) -> None:
    bomb = tmp_path / "flowapp.yaml"
    bomb.write_text(BOMB)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "flowapp.cli.main", "validate", str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{bomb}:7:" in done.stderr and "more than 100,000 values" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30  # start-up included; the bomb took 113 s


PAYMENTS = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: NAME}
spec:
  triggers:
    - name: api
      http: HOOK
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: NAME, version: '1.0.0'}
    do:
      - answer: {set: {app: NAME, got: '${ . }'}}
"""
GUARDED = "{path: /hooks/pay, secret: {type: token, header: X-Token, value: s3cret}}"


def hooked(name: str, hook: str) -> str:
    return PAYMENTS.replace("NAME", name).replace("HOOK", hook)


def test_a_webhook_path_cannot_be_taken_from_the_app_that_holds_it(
    platform: RunningPlatform,
) -> None:
    with platform.client() as admin:
        create_and_deploy(admin, hooked("payments", GUARDED), "payments")
    stolen = hooked("thief", "{path: /hooks/pay, public: true}")
    with platform.client(token(platform, "developer")) as developer:
        created = developer.post("/api/v1/apps", content=stolen, headers=YAML)
        uploaded = developer.put(
            "/api/v1/apps/thief/source",
            content=tar_of(("flowapp.yaml", stolen.encode())),
            headers={"content-type": "application/gzip"},
        )
    for answer in (created, uploaded):
        assert answer.status_code == 409, answer.text
        assert answer.json()["detail"].startswith("webhook path /hooks/pay is held by app payments")
        assert answer.json()["problems"][0]["pointer"] == "/spec/triggers/0/http/path"
    assert httpx.post(f"{platform.url}/hooks/pay", json={"n": 1}).status_code == 401
    paid = httpx.post(
        f"{platform.url}/hooks/pay?wait=30", json={"n": 1}, headers={"X-Token": "s3cret"}
    )
    assert paid.status_code == 200 and paid.json()["app"] == "payments", paid.text
    assert_no_traceback(platform)


def test_an_idempotency_key_never_answers_with_another_apps_execution(
    platform: RunningPlatform,
) -> None:
    with platform.client() as admin:
        create_and_deploy(admin, hooked("ledger", "{path: /hooks/ledger, public: true}"), "ledger")
        create_and_deploy(admin, hooked("notes", "{path: /hooks/notes, public: true}"), "notes")
        key = {"Idempotency-Key": "invoice-7"}
        first = admin.post("/api/v1/apps/ledger/executions?wait=30", json="secret", headers=key)
    assert first.status_code == 200 and first.json()["output"]["got"] == "secret"
    with platform.client(token(platform, "developer", ["notes"])) as team:
        mine = team.post("/api/v1/apps/notes/executions?wait=30", json="mine", headers=key)
        empty = team.post("/api/v1/apps/notes/executions", json=1, headers={"Idempotency-Key": ""})
    assert mine.status_code == 200, mine.text
    assert mine.json()["id"] != first.json()["id"]
    assert mine.json()["output"] == {"app": "notes", "got": "mine"}
    assert empty.status_code == 422, empty.text
    assert_no_traceback(platform)


def test_an_environment_that_moves_a_webhook_path_holds_the_moved_path(
    tmp_path: Path,
) -> None:
    """On a platform running an environment, the paths held are those of the resources
    with that environment's config merged: config/prod.yaml may move a path."""
    shop = hooked("shop", "{path: /hooks/shop, public: true}")
    prod = b"triggers:\n  api: {http: {path: /hooks/orders}}\n"
    archive = tar_of(("flowapp.yaml", shop.encode()), ("config/prod.yaml", prod))
    with flowapp_up(tmp_path / "data", "--env", "prod") as up, up.client() as admin:
        uploaded = admin.put(
            "/api/v1/apps/shop/source",
            content=archive,
            headers={"content-type": "application/gzip"},
        )
        assert uploaded.status_code == 200, uploaded.text
        taken = admin.post(
            "/api/v1/apps",
            content=hooked("copy", "{path: /hooks/orders, public: true}"),
            headers=YAML,
        )
        free = admin.post(
            "/api/v1/apps",
            content=hooked("other", "{path: /hooks/shop, public: true}"),
            headers=YAML,
        )
        assert httpx.post(f"{up.url}/hooks/orders", json={}).status_code == 202
    assert taken.status_code == 409 and "held by app shop" in taken.json()["detail"]
    assert free.status_code == 201, free.text  # /hooks/shop is not served under prod


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"GIT_TERMINAL_PROMPT": "0", "HOME": str(cwd.parent), "PATH": "/usr/bin:/bin"}
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_a_pushed_bomb_is_refused_and_the_app_keeps_serving(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    """Pushed content is read under the same limits as a request's: the push is refused
    with the problem, quickly, and the serving revision goes on."""
    before = peak_memory(platform)
    host = platform.url.removeprefix("http://")
    clone = tmp_path / "clone"
    url = f"http://admin:{platform.token}@{host}/git/victim.git"
    assert git("clone", url, str(clone), cwd=tmp_path).returncode == 0
    (clone / "flowapp.yaml").write_text(BOMB)
    assert git("commit", "-am", "Bomb", cwd=clone).returncode == 0
    started = time.monotonic()
    pushed = git("push", "origin", "main", cwd=clone)
    assert pushed.returncode != 0
    assert "remote: flowapp.yaml:" in pushed.stderr and "100,000 values" in pushed.stderr
    with platform.client() as admin:
        assert admin.get("/api/v1/apps/victim").json()["deployed_revision"] == "victim-00001"
        done = admin.post("/api/v1/apps/victim/executions?wait=30", json={"name": "Ada"})
    assert done.status_code == 200, done.text
    assert time.monotonic() - started < 30
    assert peak_memory(platform) - before < 50 * 1024
    assert_no_traceback(platform)
