"""Resources sent to the platform as text are checked in memory: validating writes nothing,
a name or a path is checked before it reaches a template or the disk, and a document of
the wrong shape is an invalid resource, not a crash. ``LocalPlatform`` over the in-memory
platform store and plain folders for sources, without a runtime (none of this runs)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from flowapp.gitrepos import Repositories
from flowapp.gitrepos.trees import SYMLINK, File
from flowapp.local.platform import LocalPlatform
from flowapp.server import platform as p
from flowapp.store.platform import MemoryPlatformStore
from tests.platforms import unstarted_platform

FLOWAPP = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: NAME}
spec:
  functions:
    FUNCTION: {runtime: python, path: PATH}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: NAME, version: '1.0.0'}
    do:
      - first: {set: {a: 1}}
"""
CODE = 'x"""\nimport os; os.system("touch /tmp/pwned")\n"""'


def resource(name: str = "attacker", function: str = "greet", path: str = "functions/greet") -> str:
    text = FLOWAPP.replace("NAME", json.dumps(name)).replace("PATH", json.dumps(path))
    return text.replace("FUNCTION", json.dumps(function))


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the digest of its content."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def platform(tmp_path: Path) -> LocalPlatform:
    data = tmp_path / "data"
    data.mkdir()
    return unstarted_platform(data)


async def test_validating_writes_nothing_anywhere(platform: LocalPlatform, tmp_path: Path) -> None:
    victim = platform.data_dir / "revisions" / "victim-00001" / "functions" / "greet"
    victim.mkdir(parents=True)
    (victim / "main.py").write_text("def handle(data, context):\n    return 'victim'\n")
    before = snapshot(tmp_path)
    texts = [
        resource(),  # valid: starter code for greet is rendered, in memory only
        resource(path="../victim-00001/functions/greet"),
        resource(path="../../../escaped"),
        resource(path=str(tmp_path / "absolute")),
        resource(function=CODE, path="../victim-00001/functions/greet"),
    ]
    for text in texts:
        await platform.validate_app(text)
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "absolute").exists()


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        ("../victim-00001/functions/greet", "/spec/functions/greet/path"),
        ("/etc", "/spec/functions/greet/path"),
    ],
)
async def test_a_function_path_outside_the_project_is_a_problem(
    platform: LocalPlatform, path: str, pointer: str
) -> None:
    [problem] = await platform.validate_app(resource(path=path))
    assert (problem.pointer, problem.file) == (pointer, "flowapp.yaml")
    assert "outside the project folder" in problem.message


async def test_a_function_name_carrying_code_reaches_no_template(platform: LocalPlatform) -> None:
    with pytest.raises(p.InvalidResource) as refused:
        await platform.create_app(resource(function=CODE))
    [problem] = [q for q in refused.value.problems if "function name" in q.message]
    assert problem.pointer.startswith("/spec/functions/")
    assert platform.platform_store.list_apps() == []
    assert not (platform.data_dir / "sources").exists()


async def test_an_app_name_that_is_not_a_label_reaches_no_template(
    platform: LocalPlatform,
) -> None:
    problems = await platform.validate_app(resource(name='x"\nimport os #'))
    assert any(q.pointer == "/metadata/name" for q in problems)


async def test_a_valid_resource_gets_starter_code_inside_its_project(
    platform: LocalPlatform,
) -> None:
    view = await platform.create_app(resource(path="./code/greet/"))
    assert view.name == "attacker"
    source = platform.data_dir / "sources" / "attacker"
    assert (source / "code" / "greet" / "main.py").is_file()
    assert "`greet` function of attacker" in (source / "code" / "greet" / "main.py").read_text()


@pytest.mark.parametrize(
    "text",
    [
        "document: 5\ndo: []\n",
        "document: [1]\ndo: []\n",
        "document: {name: 5}\ndo: []\n",
        "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: 5\nspec: {}\n",
        "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: [1]\nspec: {}\n",
        "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: {name: a}\nspec: 7\n",
        "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: {name: a}\n"
        "spec: {functions: [1, 2]}\n",
        "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: {name: a}\n"
        "spec: {functions: {f: 5}}\n",
    ],
)
async def test_a_document_of_the_wrong_shape_is_an_invalid_resource(
    platform: LocalPlatform, text: str
) -> None:
    problems = await platform.validate_app(text)
    written = "workflow.yaml" if text.startswith("document:") else "flowapp.yaml"
    assert problems and all(q.file in (written, "") for q in problems)
    with pytest.raises(p.InvalidResource):
        await platform.create_app(text)


async def test_a_plain_workflow_named_as_no_project_can_be_is_located(
    platform: LocalPlatform,
) -> None:
    document = "{dsl: '1.0.3', namespace: d, name: 9lives, version: '1.0.0'}"
    text = f"document: {document}\ndo:\n  - a: {{set: {{a: 1}}}}\n"
    [problem] = await platform.validate_app(text)
    assert (problem.pointer, problem.line) == ("/document/name", 1)
    assert "project name" in problem.message


async def test_a_plain_workflows_problems_name_the_workflow_file(platform: LocalPlatform) -> None:
    """The user wrote a workflow (the project keeps it as workflow.yaml), not a FlowApp."""
    document = "{dsl: '1.0.3', namespace: d, name: plain, version: '1.0.0'}"
    text = f"document: {document}\ndo:\n  - a: {{set: {{a: '${{ .x | }}'}}}}\n"
    [problem] = await platform.validate_app(text, filename="flowapp.yaml")
    assert (problem.file, problem.line, problem.pointer) == ("workflow.yaml", 3, "/do/0/a/set/a")
    with pytest.raises(p.InvalidResource) as refused:
        await platform.create_app(text, filename="flowapp.yaml")
    assert {q.file for q in refused.value.problems} == {"workflow.yaml"}


async def test_a_pushed_tree_with_a_link_out_fails_its_deploy_without_reading_it(
    tmp_path: Path,
) -> None:
    """A push is checked out for a deploy: a symbolic link that leads outside the tree is
    refused there, as a failed deploy that says why (not an error nobody reads)."""
    data = tmp_path / "data"
    (data / "admin-token").parent.mkdir(parents=True)
    (data / "admin-token").write_text("fa_secret\n")
    repositories = Repositories(data / "repos")
    store = MemoryPlatformStore()
    platform = unstarted_platform(data, platform_store=store, repositories=repositories)
    files = {
        "flowapp.yaml": File(resource(name="pushed").encode()),
        "workflow.yaml": File(b"../../admin-token", SYMLINK),
    }
    repositories.create("pushed", files, message="push", author="a <a@b>")
    store.create_app("pushed", namespace="default", resource={}, now=0.0)
    with pytest.raises(p.DeployFailed) as failed:
        await platform.deploy("pushed")
    assert "points outside the project" in failed.value.detail
    assert "fa_secret" not in failed.value.detail
