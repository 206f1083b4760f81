"""The CLI over the API, through real processes: a server (uvicorn in a thread, SQLite
stores, the real platform of ``tests/platforms.py``) and ``flowapp`` commands in
subprocesses with their own ``FLOWAPP_HOME``."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowapp.store import open_store
from flowapp.store.platform import open_platform_store
from tests.cli import Flowapp, isolated_environment, run_flowapp
from tests.platforms import ServedPlatform

MANIFEST = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: hello}
spec:
  functions:
    greet: {runtime: python, path: functions/greet}
  workflowRef: workflow.yaml
"""
WORKFLOW = """\
document: {dsl: '1.0.3', namespace: default, name: hello, version: '1.0.0'}
do:
  - greet: {call: greet}
  - answer:
      set:
        greeting: ${ "Hello, " + .name + "!" }
"""
FAULTY = """\
document: {dsl: '1.0.3', namespace: default, name: faulty, version: '1.0.0'}
do:
  - check:
      raise:
        error: {type: https://example.com/errors/nope, status: 422, title: Nope}
"""
SLOW = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: slow, namespace: default}
spec:
  functions: {nap: {runtime: python, path: functions/nap}}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: slow, version: '1.0.0'}
    do:
      - nap: {call: nap}
"""


async def nap(data: object, context: object) -> object:
    """The ``nap`` function of ``slow``: a call that runs for three seconds."""
    await asyncio.sleep(3)
    return data


@dataclass
class Server:
    url: str
    admin: str
    platform: ServedPlatform
    db: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (its start and migrations are the slow part); each test
    gets its own FLOWAPP_HOME, and the apps it needs are (re)deployed idempotently."""
    db = f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.db'}"
    store, platform_store = open_store(db), open_platform_store(db)
    store.migrate()
    platform_store.migrate()
    _, admin = platform_store.create_token("admin", role="admin", now=time.time())
    data = tmp_path_factory.mktemp("platform")
    with ServedPlatform(data, store=store, platform_store=platform_store) as platform:
        platform.running.functions.handlers["nap"] = nap
        served = Server(platform.url, admin, platform, db)
        for text in (FAULTY, SLOW):
            create_app_from(served, text)
        yield served
    store.close()
    platform_store.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def flowapp(home: Path) -> Flowapp:
    env = isolated_environment(home)

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run_flowapp(*args, env=env, cwd=cwd)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "hello"
    files = {
        "flowapp.yaml": MANIFEST,
        "workflow.yaml": WORKFLOW,
        "functions/greet/main.py": "def handle(data, context):\n    return data\n",
        ".venv/lib/junk.py": "junk",
        "node_modules/x/index.js": "junk",
        "functions/greet/__pycache__/main.cpython-311.pyc": "junk",
        ".git/HEAD": "ref: refs/heads/main\n",
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def logged_in(server: Server, home: Path) -> Iterator[Server]:
    """As after ``flowapp login`` (tested on its own), without paying for a process."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.json").write_text(json.dumps({"url": server.url, "token": server.admin}))
    yield server
    server.platform.running.functions.fail_starts = None


@pytest.fixture
def hello(logged_in: Server, project: Path) -> Server:
    """The project deployed (in-process: ``flowapp deploy`` itself is tested below)."""
    import httpx

    from flowapp.apps.sources import pack_folder

    headers = {"Authorization": f"Bearer {logged_in.admin}", "Content-Type": "application/gzip"}
    url = f"{logged_in.url}/api/v1/apps/hello/source"
    httpx.put(url, content=pack_folder(project), headers=headers).raise_for_status()
    return logged_in


def in_parallel(
    flowapp: Flowapp, *commands: tuple[str, ...]
) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands at once: most of a command's time is Python starting up."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: flowapp(*args), commands))


def create_app_from(server: Server, text: str) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {server.admin}", "Content-Type": "application/yaml"}
    name = text.split("name: ")[1].split(",")[0]
    httpx.post(f"{server.url}/api/v1/apps", content=text, headers=headers)
    httpx.post(f"{server.url}/api/v1/apps/{name}/deploys", headers=headers).raise_for_status()


# --- login -----------------------------------------------------------------------------------


def test_login_checks_the_token_and_saves_it_privately(
    server: Server, flowapp: Flowapp, home: Path
) -> None:
    done = flowapp("login", server.url + "/", "--token", server.admin)
    assert done.returncode == 0, done.stderr
    assert "as admin (admin)" in done.stderr
    config = home / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text()) == {"url": server.url, "token": server.admin}


def test_login_and_connection_failures(server: Server, flowapp: Flowapp, home: Path) -> None:
    bad_token, bad_url, unreachable, no_login = in_parallel(
        flowapp,
        ("login", server.url, "--token", "fa_" + "x" * 43),
        ("login", "localhost:8080", "--token", "x"),
        ("login", "http://127.0.0.1:9", "--token", "x"),
        ("apps",),
    )
    assert bad_token.returncode == 3  # the environment: a token refused
    assert "Error: Unauthorized: the token is unknown or revoked" in bad_token.stderr
    assert "flowapp login URL --token TOKEN" in bad_token.stderr
    assert "Traceback" not in bad_token.stderr
    assert not (home / "config.json").exists()
    assert bad_url.returncode == 2
    assert unreachable.returncode == 3
    assert "cannot reach http://127.0.0.1:9" in unreachable.stderr
    assert "is `flowapp up` running there?" in unreachable.stderr
    assert no_login.returncode == 3 and "flowapp login" in no_login.stderr


# --- deploy ------------------------------------------------------------------------------------


def test_deploy_packs_the_folder_and_shows_progress(
    logged_in: Server, flowapp: Flowapp, project: Path
) -> None:
    done = flowapp("deploy", str(project))
    assert done.returncode == 0, done.stderr
    assert "Deployed hello: revision hello-0000" in done.stdout
    assert "(succeeded)" in done.stdout
    assert "received 3 files" in done.stderr and "traffic switched" in done.stderr
    source = logged_in.platform.call(lambda running: running.platform.get_source("hello"))
    names = sorted(source.files)  # what was uploaded, committed as it came
    assert names == ["flowapp.yaml", "functions/greet/main.py", "workflow.yaml"]


def test_failed_and_invalid_deploys(
    logged_in: Server, flowapp: Flowapp, project: Path, tmp_path: Path
) -> None:
    invalid = tmp_path / "invalid"
    invalid.mkdir()
    (invalid / "flowapp.yaml").write_text(MANIFEST)
    (invalid / "workflow.yaml").write_text(WORKFLOW.replace("call: greet", "call: gret"))
    (tmp_path / "empty").mkdir()
    # A new revision (one already running is not started again), whose start fails.
    (project / "functions/greet/main.py").write_text("def handle(data, context):\n    return 1\n")
    logged_in.platform.running.functions.fail_starts = "function greet: exit status 3"
    failed, wrong, missing, empty = in_parallel(
        flowapp,
        ("deploy", str(project)),
        ("deploy", str(invalid)),
        ("deploy", str(tmp_path / "missing")),
        ("deploy", str(tmp_path / "empty")),
    )
    assert failed.returncode == 1
    assert "Error: Deploy Failed:" in failed.stderr and "exit status 3" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert wrong.returncode == 2  # an invalid definition
    assert "Error: Invalid FlowApp" in wrong.stderr
    assert "workflow.yaml:3:" in wrong.stderr and "gret" in wrong.stderr
    assert missing.returncode == 2
    assert empty.returncode == 2 and "no flowapp.yaml" in empty.stderr


# --- apps, invoke, executions, logs --------------------------------------------------------------


def test_apps_and_invoke(hello: Server, flowapp: Flowapp, tmp_path: Path) -> None:
    (tmp_path / "input.json").write_text('{"name": "Bo"}')
    table, listed, done, from_file, faulted, still, not_json, no_file, ghost = in_parallel(
        flowapp,
        ("apps",),
        ("apps", "--json"),
        ("invoke", "hello", "--input", '{"name": "Ada"}'),
        ("invoke", "hello", "--input", f"@{tmp_path / 'input.json'}"),
        ("invoke", "faulty", "--input", "{}"),
        ("invoke", "slow", "--wait", "0.2"),
        ("invoke", "hello", "--input", "{name: Ada}"),
        ("invoke", "hello", "--input", "@/nonexistent/input.json"),
        ("invoke", "ghost", "--input", "{}"),
    )
    assert table.returncode == 0 and "hello-0000" in table.stdout
    assert "hello" in [item["name"] for item in json.loads(listed.stdout)]
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"greeting": "Hello, Ada!"}
    assert json.loads(from_file.stdout) == {"greeting": "Hello, Bo!"}
    assert faulted.returncode == 1 and json.loads(faulted.stdout)["title"] == "Nope"
    assert still.returncode == 0 and len(still.stdout.strip()) == 28
    assert "still running" in still.stderr
    assert not_json.returncode == 2
    assert "--input:1:2: the input is not JSON" in not_json.stderr
    assert no_file.returncode == 2
    assert ghost.returncode == 2
    assert "Error: Not Found: no app named ghost" in ghost.stderr


def test_executions_execution_and_logs(hello: Server, flowapp: Flowapp, tmp_path: Path) -> None:
    started = flowapp("invoke", "hello", "--input", '{"name": "A"}', "--wait", "0")
    execution_id = started.stdout.strip()
    local = f"sqlite:///{tmp_path / 'local.db'}"
    listed, table, shown, tasks, unknown, from_db, logs, mine, ghost = in_parallel(
        flowapp,
        ("executions", "--app", "hello", "--json"),
        ("executions", "--app", "hello", "--status", "completed"),
        ("execution", execution_id, "--json"),
        ("execution", execution_id),
        ("execution", "nope"),
        ("executions", "--db", local, "--json"),
        ("logs", "hello", "greet"),
        ("logs", "hello", "--execution", execution_id[:20], "--json"),
        ("logs", "ghost"),
    )
    assert execution_id in {item["id"] for item in json.loads(listed.stdout)}
    assert table.returncode == 0 and "completed" in table.stdout
    assert [task["name"] for task in json.loads(shown.stdout)["tasks"]] == ["greet", "answer"]
    assert tasks.returncode == 0 and "/do/0/greet" in tasks.stdout
    assert unknown.returncode == 2 and "Error: no execution nope" in unknown.stderr
    assert from_db.returncode == 0 and json.loads(from_db.stdout) == []  # --db: local
    assert logs.returncode == 0 and "function greet started" in logs.stdout
    assert [line["execution_id"] for line in json.loads(mine.stdout)] == [execution_id]
    assert ghost.returncode == 2


# --- tokens ------------------------------------------------------------------------------------


def test_token_create_prints_the_token_once(logged_in: Server, flowapp: Flowapp) -> None:
    done = flowapp("token", "create", "--name", "ci", "--role", "viewer")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("fa_") and "not shown again" in done.stderr
    refused, bad_role = in_parallel(
        flowapp,
        ("token", "create", "--name", "x", "--token", token),
        ("token", "create", "--name", "x", "--role", "root"),
    )
    assert refused.returncode == 3
    assert "Error: Forbidden: this request needs the admin role" in refused.stderr
    assert bad_role.returncode == 2


def test_a_token_limited_to_an_app_sees_only_it(hello: Server, flowapp: Flowapp) -> None:
    done = flowapp("token", "create", "--name", "ci", "--app", "hello", "--json")
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["apps"] == ["hello"]
    listed = flowapp("apps", "--json", "--token", created["token"])
    assert [app["name"] for app in json.loads(listed.stdout)] == ["hello"]
    admin = flowapp("token", "create", "--name", "root", "--role", "admin", "--app", "hello")
    assert admin.returncode == 2 and "admin token cannot be limited" in admin.stderr
