"""Traffic splits and deploys, on every adapter of the platform store."""

from __future__ import annotations

from typing import Any

import pytest

from flowapp.store.platform import (
    InvalidTraffic,
    InvalidValue,
    NotFound,
    PlatformStore,
    TrafficSplit,
    rules,
)
from flowapp.store.platform.records import DeployStep

from .platform_factories import (
    T0,
    make_app,
    make_revision,
    platform_store_fixture,  # noqa: F401 (the fixture)
)


@pytest.fixture
def revisions(platform_store: PlatformStore) -> list[str]:
    """App ``shop`` with three revisions, and app ``billing`` with one."""
    make_app(platform_store, "shop")
    make_app(platform_store, "billing")
    make_revision(platform_store, "billing", "sha256:x")
    return [make_revision(platform_store, "shop", f"sha256:{n}").id for n in range(3)]


def test_traffic_is_set_replaced_and_read_in_order(
    platform_store: PlatformStore, revisions: list[str]
) -> None:
    assert platform_store.get_traffic("shop") == []
    canary = platform_store.set_traffic("shop", [(revisions[1], 90), (revisions[2], 10)])
    assert canary == [TrafficSplit(revisions[1], 90), TrafficSplit(revisions[2], 10)]
    assert platform_store.get_traffic("shop") == canary
    splits = [TrafficSplit(revisions[2], 0), TrafficSplit(revisions[0], 100)]  # a rollback
    platform_store.set_traffic("shop", splits)
    assert platform_store.get_traffic("shop") == splits
    assert platform_store.get_traffic("billing") == []


@pytest.mark.parametrize(
    "splits",
    [
        [],
        [(0, 50)],
        [(0, 50), (1, 49)],
        [(0, 60), (1, 60), (2, -20)],
        [(0, 101)],
        [(0, 50.0), (1, 50)],
        [(0, True), (1, 99)],
        [(0, 50), (0, 50)],
    ],
)
def test_splits_must_be_whole_percents_adding_up_to_100(
    platform_store: PlatformStore, revisions: list[str], splits: list[tuple[int, Any]]
) -> None:
    platform_store.set_traffic("shop", [(revisions[0], 100)])
    with pytest.raises(InvalidTraffic):
        platform_store.set_traffic("shop", [(revisions[i], p) for i, p in splits])
    assert platform_store.get_traffic("shop") == [(revisions[0], 100)]  # unchanged


@pytest.mark.parametrize("foreign", ["billing-00001", "shop-00042"])
def test_splits_name_revisions_of_the_app(
    platform_store: PlatformStore, revisions: list[str], foreign: str
) -> None:
    with pytest.raises(InvalidTraffic, match=foreign):
        platform_store.set_traffic("shop", [(revisions[0], 50), (foreign, 50)])
    assert platform_store.get_traffic("shop") == []


def test_traffic_needs_a_live_app(platform_store: PlatformStore) -> None:
    with pytest.raises(NotFound):
        platform_store.set_traffic("nope", [("nope-00001", 100)])


def test_a_deploy_runs_logs_and_ends(platform_store: PlatformStore, revisions: list[str]) -> None:
    deploy = platform_store.create_deploy("shop", revision_id=revisions[0], now=T0)
    assert (deploy.status, deploy.started_at, deploy.ended_at) == ("running", T0, None)
    assert (deploy.app, deploy.revision_id, deploy.log, deploy.message) == (
        "shop",
        revisions[0],
        "",
        "",
    )
    platform_store.update_deploy(deploy.id, DeployStep(log="building\n"), now=T0 + 1)
    step = platform_store.update_deploy(deploy.id, DeployStep(log="pushing\n"), now=T0 + 2)
    assert (step.log, step.status, step.ended_at) == ("building\npushing\n", "running", None)
    done = platform_store.update_deploy(deploy.id, DeployStep("succeeded", "ok"), now=T0 + 3)
    assert (done.status, done.message, done.ended_at) == ("succeeded", "ok", T0 + 3)
    late = platform_store.update_deploy(deploy.id, DeployStep("failed"), now=T0 + 9)
    assert (late.ended_at, late.message) == (T0 + 3, "ok")  # ended once; message kept
    assert platform_store.get_deploy(deploy.id) == late


def test_the_deploy_log_keeps_its_tail(
    platform_store: PlatformStore, revisions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "MAX_DEPLOY_LOG", 10)
    deploy = platform_store.create_deploy("shop", revision_id=revisions[0], now=T0)
    platform_store.update_deploy(deploy.id, DeployStep(log="0123456"), now=T0)
    updated = platform_store.update_deploy(deploy.id, DeployStep(log="789abc"), now=T0)
    assert updated.log == "3456789abc"


def test_deploys_are_listed_newest_first(
    platform_store: PlatformStore, revisions: list[str]
) -> None:
    made = [
        platform_store.create_deploy("shop", revision_id=revision, now=T0 + n)
        for n, revision in enumerate(revisions)
    ]
    assert made[0].id < made[1].id < made[2].id
    assert platform_store.list_deploys("shop") == made[::-1]
    assert platform_store.list_deploys("shop", limit=2) == made[:0:-1]
    assert platform_store.list_deploys("billing") == []
    assert platform_store.get_deploy(made[-1].id + 100) is None


def test_deploy_errors(platform_store: PlatformStore, revisions: list[str]) -> None:
    with pytest.raises(NotFound):
        platform_store.create_deploy("nope", revision_id=revisions[0], now=T0)
    with pytest.raises(NotFound):
        platform_store.create_deploy("shop", revision_id="billing-00001", now=T0)
    with pytest.raises(NotFound):
        platform_store.update_deploy(12345, DeployStep("failed"), now=T0)
    deploy = platform_store.create_deploy("shop", revision_id=revisions[0], now=T0)
    with pytest.raises(InvalidValue):
        platform_store.update_deploy(deploy.id, DeployStep("done"), now=T0)
    with pytest.raises(InvalidValue):
        platform_store.list_deploys("shop", limit=-1)


def test_a_restart_fails_the_deploys_its_owner_left_running(
    platform_store: PlatformStore, revisions: list[str]
) -> None:
    """A crash during a deploy: at the next start the deploy fails with the reason and its
    revision is no longer ``building``; other owners' deploys and finished ones stay."""
    cut = platform_store.create_deploy("shop", revision_id=revisions[0], now=T0, owner="local")
    unowned = platform_store.create_deploy("shop", revision_id=revisions[1], now=T0)
    other = platform_store.create_deploy("shop", revision_id=revisions[2], now=T0, owner="b")
    done = platform_store.create_deploy("shop", revision_id=revisions[2], now=T0, owner="local")
    platform_store.update_deploy(done.id, DeployStep("succeeded"), now=T0 + 1)
    platform_store.set_revision_status(revisions[2], status="ready")
    reason = "interrupted: flowapp stopped during this deploy"
    failed = platform_store.fail_interrupted_deploys("local", now=T0 + 5, message=reason)
    assert [d.id for d in failed] == [cut.id, unowned.id]
    for deploy_id in (cut.id, unowned.id):
        deploy = platform_store.get_deploy(deploy_id)
        assert deploy is not None
        assert (deploy.status, deploy.message, deploy.ended_at) == ("failed", reason, T0 + 5)
        assert reason in deploy.log
    for revision_id in revisions[:2]:
        revision = platform_store.get_revision(revision_id)
        assert revision is not None and (revision.status, revision.message) == ("failed", reason)
    assert platform_store.get_deploy(other.id).status == "running"  # type: ignore[union-attr]
    assert platform_store.get_deploy(done.id).status == "succeeded"  # type: ignore[union-attr]
    assert platform_store.get_revision(revisions[2]).status == "ready"  # type: ignore[union-attr]
    assert platform_store.fail_interrupted_deploys("local", now=T0 + 6, message=reason) == []
