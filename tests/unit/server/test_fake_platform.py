"""The fake's own rules: traffic, rollback, resources, played-back executions."""

from __future__ import annotations

import asyncio

import pytest

from flowapp.server.fake_resources import project_resource, read_resource
from flowapp.server.fake_traffic import pick_revision, previous_revision
from flowapp.server.platform import Conflict, InvalidResource, NotFound, RevisionView
from flowapp.server.testing import FakePlatform
from flowapp.store.memory import MemoryStore
from tests.unit.server.harness import HELLO, SLOW


def revision(number: int, status: str = "ready") -> RevisionView:
    return RevisionView(f"a-{number:05d}", "a", number, f"d{number}", status, "", 0.0)


def test_pick_revision_honours_percents_in_every_hundred() -> None:
    traffic = [("a-1", 10), ("a-2", 90)]
    picked = [pick_revision(traffic, n) for n in range(100)]
    assert picked.count("a-1") == 10 and picked.count("a-2") == 90


def test_previous_revision_skips_failed_ones() -> None:
    revisions = [revision(1), revision(2, "failed"), revision(3)]
    assert previous_revision(revisions, [("a-00003", 100)]) == "a-00001"
    with pytest.raises(Conflict):
        previous_revision(revisions, [("a-00001", 100)])
    with pytest.raises(Conflict):
        previous_revision(revisions, [])


def test_read_resource_wraps_a_plain_workflow() -> None:
    resource, problems = read_resource(HELLO)
    assert problems == [] and resource is not None
    assert (resource.name, resource.namespace) == ("hello", "default")
    assert resource.resource["spec"]["workflow"]["document"]["name"] == "hello"


def test_a_workflow_ref_is_read_from_the_project_files() -> None:
    manifest = (
        "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata: {name: hello}\n"
        "spec: {workflowRef: workflow.yaml}\n"
    )
    resource, problems = project_resource(
        {"flowapp.yaml": manifest.encode(), "workflow.yaml": HELLO.encode()}
    )
    assert problems == [] and resource is not None and resource.workflow["do"]
    missing, problems = project_resource({"flowapp.yaml": manifest.encode()})
    assert missing is None and "workflow.yaml does not exist" in problems[0].message
    _, problems = project_resource({})
    assert "no flowapp.yaml" in problems[0].message


async def test_create_twice_and_unknown_apps() -> None:
    fake = FakePlatform()
    await fake.create_app(HELLO)
    with pytest.raises(Conflict):
        await fake.create_app(HELLO)
    with pytest.raises(InvalidResource) as invalid:
        await fake.create_app("document: {}\n")
    assert invalid.value.problems
    with pytest.raises(NotFound):
        await fake.get_app("ghost")


async def test_a_slow_execution_completes_in_real_time() -> None:
    store = MemoryStore()
    fake = FakePlatform(store)
    await fake.create_app(SLOW)
    await fake.deploy("slow")
    started = await fake.invoke("slow", {}, wait=0.0)
    assert started.status == "running"
    await asyncio.sleep(0.7)
    record = store.get_execution(started.id)
    assert record is not None and record.status == "completed"
    assert [run.name for run in store.task_runs(started.id)] == ["nap", "done"]


async def test_waiting_long_enough_answers_the_outcome() -> None:
    fake = FakePlatform()
    await fake.create_app(SLOW)
    await fake.deploy("slow")
    result = await fake.invoke("slow", {}, wait=2.0)
    assert result.status == "completed" and result.output == {"done": True}


async def test_a_deploy_without_changes_reuses_the_revision() -> None:
    fake = FakePlatform()
    await fake.create_app(HELLO)
    first = await fake.deploy("hello")
    second = await fake.deploy("hello")
    assert first.revision_id == second.revision_id == "hello-00001"
    assert [d.id for d in await fake.list_deploys("hello")] == [second.id, first.id]
