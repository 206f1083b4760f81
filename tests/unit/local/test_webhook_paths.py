"""A webhook path belongs to one app: another app that claims it is refused with the
holder named, and at start-up the app that held it first keeps it. ``LocalPlatform`` over
the in-memory platform store, without a runtime (webhooks here start nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowapp.apps import FlowApp
from flowapp.apps.loader import check_files
from flowapp.local.platform import LocalPlatform
from flowapp.local.webhooks import WebhookRoutes, webhook_paths
from flowapp.server import platform as p
from tests.platforms import unstarted_platform

APP = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: NAME}
spec:
  triggers:
    - {name: nightly, cron: {schedule: "0 2 * * *"}}
    - {name: api, http: {path: PATH, public: true}}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: NAME, version: '1.0.0'}
    do:
      - first: {set: {a: 1}}
"""


def resource(name: str, path: str) -> str:
    return APP.replace("NAME", name).replace("PATH", json.dumps(path))


def flowapp(name: str, path: str) -> FlowApp:
    return check_files({"flowapp.yaml": resource(name, path).encode()})


@pytest.fixture
def platform(tmp_path: Path) -> LocalPlatform:
    return unstarted_platform(tmp_path)


def test_the_paths_of_a_resource_are_found_with_their_pointers() -> None:
    assert webhook_paths(flowapp("shop", "/hooks/pay").resource) == {
        "/hooks/pay": "/spec/triggers/1/http/path"
    }
    assert webhook_paths({"spec": {"triggers": [{"http": 3}, "x"]}}) == {}


async def test_an_app_that_claims_a_held_path_is_refused_with_the_holder_named(
    platform: LocalPlatform,
) -> None:
    await platform.create_app(resource("shop", "/hooks/pay"))
    with pytest.raises(p.Conflict) as refused:
        await platform.create_app(resource("thief", "/hooks/pay"))
    assert "held by app shop" in refused.value.detail
    [problem] = refused.value.problems
    assert problem.pointer == "/spec/triggers/1/http/path"
    assert platform.platform_store.get_app("thief") is None
    await platform.update_app("shop", resource("shop", "/hooks/pay"))  # its own: fine
    await platform.create_app(resource("other", "/hooks/other"))
    with pytest.raises(p.Conflict, match="held by app shop"):
        await platform.update_app("other", resource("other", "/hooks/pay"))


async def test_a_path_served_by_a_revision_is_held_even_if_the_resource_moved_on(
    platform: LocalPlatform,
) -> None:
    store = platform.platform_store
    await platform.create_app(resource("shop", "/hooks/new"))
    revision = store.create_revision(
        "shop", digest="d", resource=flowapp("shop", "/hooks/old").resource, now=1.0
    )
    store.set_traffic("shop", [(revision.id, 100)])
    with pytest.raises(p.Conflict, match="/hooks/old is held by app shop"):
        await platform.create_app(resource("thief", "/hooks/old"))
    with pytest.raises(p.Conflict, match="/hooks/new is held by app shop"):
        await platform.create_app(resource("thief", "/hooks/new"))


class _Host:
    def __init__(self, app: FlowApp) -> None:
        self.app = app

    async def stop(self) -> None:
        pass


async def test_at_start_up_the_app_that_held_a_path_first_keeps_it(
    platform: LocalPlatform,
) -> None:
    """Data from before the rule may hold two apps with one path: the older app (here
    ``zeta``, though it sorts last by name) keeps it, the other's trigger is not served."""
    store = platform.platform_store
    for created, name in ((1.0, "zeta"), (2.0, "alpha")):
        app = flowapp(name, "/hooks/pay")
        store.create_app(name, namespace="default", resource=app.resource, now=created)
        revision = store.create_revision(name, digest=name, resource=app.resource, now=created)
        store.set_traffic(name, [(revision.id, 100)])
        platform.hosts.running[(name, revision.id)] = _Host(app)  # type: ignore[assignment]
    await platform.start()
    try:
        assert platform.triggers.webhook_routes.owner("/hooks/pay") == "zeta"
        refused = platform.triggers["alpha"].status()["api"]
        assert not refused.ready and refused.error == "webhook path /hooks/pay is held by app zeta"
        assert "nightly" in platform.triggers["alpha"].triggers  # its other triggers run
        assert platform.triggers["zeta"].status()["api"].ready
    finally:
        await platform.stop()


async def test_a_deleted_app_frees_its_paths(platform: LocalPlatform) -> None:
    await platform.create_app(resource("shop", "/hooks/pay"))
    await platform.delete_app("shop")
    await platform.create_app(resource("next", "/hooks/pay"))


def test_routes_release_what_an_app_held_when_it_claims_again() -> None:
    routes = WebhookRoutes()
    assert routes.claim("a", {"/x": "api", "/y": "two"}) == {}
    assert routes.claim("b", {"/x": "api"}) == {"api": "webhook path /x is held by app a"}
    assert routes.claim("a", {"/y": "two"}) == {}  # a redeployed without /x
    assert routes.claim("b", {"/x": "api"}) == {}
    assert routes.owner("/x") == "b" and routes.owner("/y") == "a"
