"""Apps and revisions, on every adapter of the platform store."""

from __future__ import annotations

import pytest

from flowapp.store.platform import (
    AppExists,
    AppObservation,
    Condition,
    InvalidValue,
    NotFound,
    PlatformStore,
)

from .platform_factories import (
    T0,
    make_app,
    make_revision,
    platform_store_fixture,  # noqa: F401 (the fixture)
    resource,
    rule_spec,
)


def test_an_app_is_created_read_and_listed_by_name(platform_store: PlatformStore) -> None:
    created = make_app(platform_store, "shop")
    make_app(platform_store, "billing", now=T0 + 1)
    assert created.name == "shop" and created.namespace == "default"
    assert created.created_at == created.updated_at == T0
    assert platform_store.get_app("shop") == created
    assert [app.name for app in platform_store.list_apps()] == ["billing", "shop"]
    assert platform_store.get_app("nope") is None


def test_a_taken_name_is_refused(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    with pytest.raises(AppExists) as caught:
        make_app(platform_store, "shop")
    assert caught.value.key == "shop"


@pytest.mark.parametrize("name", ["Shop", "-shop", "shop-", "s_p", "", "a" * 64])
def test_names_must_be_dns_labels(platform_store: PlatformStore, name: str) -> None:
    with pytest.raises(InvalidValue):
        platform_store.create_app(name, namespace="default", resource={}, now=T0)
    with pytest.raises(InvalidValue):
        platform_store.create_app("shop", namespace=name, resource={}, now=T0)
    assert platform_store.list_apps() == []


def test_an_admin_allows_kinds_of_run_process_per_app(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    make_app(platform_store, "billing")
    assert platform_store.get_app("shop").allowed_runs == ()  # type: ignore[union-attr]

    allowed = platform_store.set_allowed_runs("shop", ["script", "shell", "shell"], now=T0 + 5)

    assert allowed.allowed_runs == ("shell", "script") and allowed.updated_at == T0 + 5
    assert platform_store.get_app("shop") == allowed
    assert platform_store.get_app("billing").allowed_runs == ()  # type: ignore[union-attr]
    updated = platform_store.update_app("shop", resource=resource("shop"), now=T0 + 6)
    assert updated.allowed_runs == ("shell", "script")  # a new resource keeps the switch
    assert platform_store.set_allowed_runs("shop", [], now=T0 + 7).allowed_runs == ()


def test_only_known_kinds_of_run_process_are_allowed(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    with pytest.raises(InvalidValue):
        platform_store.set_allowed_runs("shop", ["shell", "rm -rf /"], now=T0)
    with pytest.raises(NotFound):
        platform_store.set_allowed_runs("nope", ["shell"], now=T0)
    assert platform_store.get_app("shop").allowed_runs == ()  # type: ignore[union-attr]


def test_a_deleted_and_recreated_app_starts_without_the_switch(
    platform_store: PlatformStore,
) -> None:
    make_app(platform_store, "shop")
    platform_store.set_allowed_runs("shop", ["shell"], now=T0)
    platform_store.delete_app("shop", now=T0 + 1)
    assert make_app(platform_store, "shop", now=T0 + 2).allowed_runs == ()


def test_the_resource_is_copied_in_and_out(platform_store: PlatformStore) -> None:
    given = resource("shop")
    platform_store.create_app("shop", namespace="default", resource=given, now=T0)
    given["spec"] = "changed"
    read = platform_store.get_app("shop")
    assert read is not None and read.resource == resource("shop")
    read.resource["spec"] = "changed too"
    assert platform_store.get_app("shop").resource == resource("shop")  # type: ignore[union-attr]


def test_update_replaces_the_resource(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    updated = platform_store.update_app("shop", resource={"spec": {"v": 2}}, now=T0 + 5)
    assert updated.resource == {"spec": {"v": 2}} and updated.updated_at == T0 + 5
    assert updated.created_at == T0
    assert platform_store.get_app("shop") == updated
    with pytest.raises(NotFound):
        platform_store.update_app("nope", resource={}, now=T0)


def test_a_deleted_app_is_gone(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    platform_store.delete_app("shop", now=T0 + 9)
    assert platform_store.get_app("shop") is None
    assert platform_store.list_apps() == []
    for change in (
        lambda: platform_store.delete_app("shop", now=T0),
        lambda: platform_store.update_app("shop", resource={}, now=T0),
        lambda: make_revision(platform_store, "shop"),
    ):
        with pytest.raises(NotFound):
            change()


def test_a_deleted_name_is_reused_and_starts_again_from_revision_1(
    platform_store: PlatformStore,
) -> None:
    make_app(platform_store, "shop")
    make_revision(platform_store, "shop", "sha256:old")
    make_revision(platform_store, "shop", "sha256:older")
    platform_store.delete_app("shop", now=T0 + 1)
    again = make_app(platform_store, "shop", now=T0 + 2)
    assert again.created_at == T0 + 2
    assert platform_store.list_revisions("shop") == []  # nothing to roll back to
    new = make_revision(platform_store, "shop", "sha256:new")
    assert (new.number, new.id, new.digest) == (1, "shop-00001", "sha256:new")
    assert platform_store.get_revision("shop-00002") is None


def test_deleting_drops_everything_of_the_app(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    revision = make_revision(platform_store, "shop")
    platform_store.set_traffic("shop", [(revision.id, 100)])
    platform_store.set_conditions("shop", [Condition("Ready", "True", "Deployed")], now=T0)
    platform_store.set_observation(AppObservation("shop", revision.id, {}, {}, T0))
    rule = platform_store.create_alert_rule(rule_spec("shop"), now=T0)
    deploy = platform_store.create_deploy("shop", revision_id=revision.id, now=T0)
    platform_store.delete_app("shop", now=T0 + 1)
    make_app(platform_store, "shop", now=T0 + 2)
    assert platform_store.get_traffic("shop") == []
    assert platform_store.get_conditions("shop") == []
    assert platform_store.get_observation("shop") is None
    assert platform_store.get_alert_rule(rule.id) is None
    assert platform_store.list_revisions("shop") == []
    assert platform_store.get_revision(revision.id) is None
    assert platform_store.list_deploys("shop") == []
    assert platform_store.get_deploy(deploy.id) is None


def test_revisions_are_numbered_per_app(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    make_app(platform_store, "billing")
    first = make_revision(platform_store, "shop", "sha256:a", now=T0 + 1)
    second = make_revision(platform_store, "shop", "sha256:b", now=T0 + 2)
    other = make_revision(platform_store, "billing", "sha256:a")
    assert (first.number, first.id, first.status) == (1, "shop-00001", "building")
    assert (second.number, second.id) == (2, "shop-00002")
    assert (other.number, other.id) == (1, "billing-00001")
    assert first.digest == "sha256:a" and first.resource == resource("shop")
    assert platform_store.list_revisions("shop") == [second, first]  # newest first
    assert platform_store.list_revisions("shop", limit=1) == [second]
    assert platform_store.get_revision("shop-00002") == second
    assert platform_store.get_revision("shop-00009") is None


def test_an_unchanged_digest_returns_the_latest_revision(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    first = make_revision(platform_store, "shop", "sha256:a")
    assert make_revision(platform_store, "shop", "sha256:a", now=T0 + 5) == first
    make_revision(platform_store, "shop", "sha256:b")
    # Going back to older code is a new revision: only the latest one is reused.
    back = make_revision(platform_store, "shop", "sha256:a")
    assert back.number == 3
    assert len(platform_store.list_revisions("shop")) == 3


def test_revisions_need_a_live_app_and_a_digest(platform_store: PlatformStore) -> None:
    with pytest.raises(NotFound):
        make_revision(platform_store, "nope")
    make_app(platform_store, "shop")
    with pytest.raises(InvalidValue):
        make_revision(platform_store, "shop", digest="")


def test_a_revision_status_changes(platform_store: PlatformStore) -> None:
    make_app(platform_store, "shop")
    revision = make_revision(platform_store, "shop")
    failed = platform_store.set_revision_status(revision.id, status="failed", message="no pip")
    assert (failed.status, failed.message) == ("failed", "no pip")
    assert platform_store.get_revision(revision.id) == failed
    ready = platform_store.set_revision_status(revision.id, status="ready")
    assert (ready.status, ready.message, ready.digest) == ("ready", "", revision.digest)
    with pytest.raises(InvalidValue):
        platform_store.set_revision_status(revision.id, status="done")
    with pytest.raises(NotFound):
        platform_store.set_revision_status("shop-00042", status="ready")


@pytest.mark.parametrize("value", [None, [], "spec"])
def test_resources_must_be_json_objects(platform_store: PlatformStore, value: object) -> None:
    with pytest.raises(InvalidValue):
        platform_store.create_app("shop", namespace="default", resource=value, now=T0)  # type: ignore[arg-type]
    make_app(platform_store, "shop")
    with pytest.raises(InvalidValue):
        platform_store.update_app("shop", resource=value, now=T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        platform_store.create_revision("shop", digest="sha256:a", resource=value, now=T0)  # type: ignore[arg-type]
    assert platform_store.list_revisions("shop") == []
