"""The operator end to end, on the in-memory Kubernetes API with Knative's CRDs enforced.

Each test starts the API server and the operator (kopf) in its own event loop, applies
FlowApps as ``kubectl apply`` would, and plays Knative's controllers by writing the
objects' ``Ready`` conditions into their status.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from flowapp.operator.client import ApiError
from tests.k8s.cluster import ROOT, Cluster, app_object, condition, eventually, running_cluster

Obj = dict[str, Any]
APP = "append-display"
FLOWAPP = "flowapp.dev/v1alpha1"
EXPECTED = {
    ("ConfigMap", "append-display-flowapp"),
    ("Service", "append-display-engine"),
    ("Deployment", "append-display-engine"),
    ("Service", "append-display-append"),
    ("Service", "append-display-display"),
    ("Broker", "append-display"),
    ("PingSource", "append-display-nightly"),
    ("Trigger", "append-display-on-nightly"),
}


def kinds(children: list[Obj]) -> set[tuple[str, str]]:
    return {(c["kind"], c["metadata"]["name"]) for c in children}


def knative_service(children: list[Obj], name: str) -> Obj:
    return next(
        c
        for c in children
        if c["kind"] == "Service"
        and c["apiVersion"].startswith("serving")
        and c["metadata"]["name"] == name
    )


async def converged(cluster: Cluster, app: str = APP) -> list[Obj]:
    async def all_there() -> list[Obj] | None:
        children = await cluster.children(app)
        return children if kinds(children) == EXPECTED else None

    return await eventually(all_there, what="every object of the app")


async def ready(cluster: Cluster, app: str = APP, status: str = "True") -> Obj:
    async def check() -> Obj | None:
        found = await cluster.flowapp(app)
        return found if condition(found).get("status") == status else None

    return await eventually(check, what=f"{app} Ready={status}")


async def test_append_display_becomes_its_objects_and_turns_ready_as_knative_reports() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        applied = await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        children = await converged(cluster)
        uid = applied["metadata"]["uid"]
        for child in children:
            owners = child["metadata"]["ownerReferences"]
            assert owners == [
                {
                    "apiVersion": "flowapp.dev/v1alpha1",
                    "kind": "FlowApp",
                    "name": APP,
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
        waiting = await cluster.flowapp(APP)
        assert condition(waiting)["status"] == "Unknown"
        assert condition(waiting, "FunctionsReady")["reason"] == "Reconciling"
        await cluster.mark_all_ready(APP)
        found = await ready(cluster)
        status = found["status"]
        assert status["observedGeneration"] == found["metadata"]["generation"]
        assert (
            status["url"]
            == "http://append-display-engine.default.svc.cluster.local/api/v1/apps/append-display"
        )
        assert status["mode"] == "engine"
        for type_ in ("FunctionsReady", "EventingReady", "EngineReady"):
            assert condition(found, type_)["status"] == "True", type_
        assert found["metadata"]["finalizers"] == ["flowapp.dev/finalizer"]
        events = cluster.server.store.list(
            cluster.server.store.find_type("", "v1", "events"), "default"
        )
        assert any(e.get("reason") == "Applied" for e in events)
        async with (
            aiohttp.ClientSession() as session,
            session.get(cluster.running.metrics_url) as response,
        ):
            text = await response.text()
        assert 'flowapp_operator_reconciles_total{result="ok"}' in text
        assert 'flowapp_operator_objects_total{action="created"} 8.0' in text


async def test_a_failing_knative_object_lends_its_reason_and_transitions_keep_their_time() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        children = await converged(cluster)
        await cluster.mark_all_ready(APP)
        first = await ready(cluster)
        since = condition(first)["lastTransitionTime"]
        display = knative_service(children, "append-display-display")
        display = await cluster.kubectl.get(
            "serving.knative.dev/v1", "Service", "default", "append-display-display"
        )
        await cluster.mark_ready(
            display | {"apiVersion": "serving.knative.dev/v1"}, ready=False, reason="RevisionFailed"
        )
        failing = await ready(cluster, status="False")
        assert condition(failing)["reason"] == "RevisionFailed"
        assert "Service append-display-display: RevisionFailed" in condition(failing)["message"]
        assert (
            condition(failing, "EventingReady")["lastTransitionTime"]
            == condition(first, "EventingReady")["lastTransitionTime"]
        )
        await cluster.mark_ready(display | {"apiVersion": "serving.knative.dev/v1"})
        again = await ready(cluster)
        assert condition(again)["lastTransitionTime"] >= since


async def test_changing_one_image_changes_one_service() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        before = {(c["kind"], c["metadata"]["name"]): c for c in await converged(cluster)}

        def new_image(app: Obj) -> None:
            app["spec"]["functions"]["display"]["image"] = "reg.example/append-display-display:2"

        await cluster.edit(FLOWAPP, "FlowApp", APP, new_image)

        async def rolled() -> Obj | None:
            found = await cluster.kubectl.get(
                "serving.knative.dev/v1", "Service", "default", "append-display-display"
            )
            image = found["spec"]["template"]["spec"]["containers"][0]["image"] if found else ""
            return found if image.endswith(":2") else None

        await eventually(rolled, what="the display Service's new image")
        await asyncio.sleep(0.3)  # let any further write happen, if the operator made one
        after = {(c["kind"], c["metadata"]["name"]): c for c in await cluster.children(APP)}
        moved = {
            key
            for key in before
            if before[key]["metadata"]["resourceVersion"]
            != after[key]["metadata"]["resourceVersion"]
        }
        assert moved == {("Service", "append-display-display")}
        service = after[("Service", "append-display-display")]
        assert service["metadata"]["generation"] == 2
        status = (await cluster.flowapp(APP))["status"]  # type: ignore[index]
        assert status["observedGeneration"] == 2


async def test_a_canary_split_becomes_the_services_traffic_and_the_engines_split() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        first = app_object(ROOT / "examples" / "append-display")
        first["spec"]["revision"] = "v1"
        await cluster.apply(first)
        before = {(c["kind"], c["metadata"]["name"]): c for c in await converged(cluster)}
        display = before[("Service", "append-display-display")]
        assert display["spec"]["template"]["metadata"]["name"] == "append-display-display-v1"

        def canary(app: Obj) -> None:
            app["spec"]["revision"] = "v2"
            app["spec"]["functions"]["display"]["image"] = "reg.example/append-display-display:2"
            app["spec"]["traffic"] = [
                {"revision": "v1", "percent": 80, "tag": "stable"},
                {"revision": "v2", "percent": 20, "tag": "canary"},
            ]

        await cluster.edit(FLOWAPP, "FlowApp", APP, canary)

        async def split() -> Obj | None:
            found = await cluster.kubectl.get(
                "serving.knative.dev/v1", "Service", "default", "append-display-display"
            )
            return found if found and found["spec"].get("traffic") else None

        display = await eventually(split, what="the display Service's traffic")
        assert display["spec"]["template"]["metadata"]["name"] == "append-display-display-v2"
        assert display["spec"]["traffic"] == [
            {"revisionName": "append-display-display-v1", "percent": 80, "tag": "stable"},
            {"revisionName": "append-display-display-v2", "percent": 20, "tag": "canary"},
        ]
        await asyncio.sleep(0.3)  # let any further write happen, if the operator made one
        after = {(c["kind"], c["metadata"]["name"]): c for c in await cluster.children(APP)}
        moved = {
            key
            for key in before
            if before[key]["metadata"]["resourceVersion"]
            != after[key]["metadata"]["resourceVersion"]
        }
        # The engine is given the split too (it splits whole executions); its app is unchanged.
        assert moved == {
            ("Service", "append-display-append"),
            ("Service", "append-display-display"),
            ("Deployment", "append-display-engine"),
        }


async def test_deleting_a_trigger_by_hand_brings_it_back_and_edits_are_undone() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        children = await converged(cluster)
        trigger = next(c for c in children if c["kind"] == "Trigger")
        await cluster.kubectl.delete(trigger)

        async def back() -> Obj | None:
            found = await cluster.kubectl.get(
                "eventing.knative.dev/v1", "Trigger", "default", "append-display-on-nightly"
            )
            return (
                found if found and found["metadata"]["uid"] != trigger["metadata"]["uid"] else None
            )

        restored = await eventually(back, what="the Trigger recreated")
        assert restored["spec"] == trigger["spec"]

        def by_hand(service: Obj) -> None:
            service["spec"]["template"]["spec"]["containerConcurrency"] = 99

        await cluster.edit("serving.knative.dev/v1", "Service", "append-display-append", by_hand)

        async def undone() -> bool:
            found = await cluster.kubectl.get(
                "serving.knative.dev/v1", "Service", "default", "append-display-append"
            )
            return bool(found and found["spec"]["template"]["spec"]["containerConcurrency"] == 8)

        await eventually(undone, what="the hand edit undone")


async def test_deleting_the_flowapp_deletes_everything_then_lets_it_go() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        await converged(cluster)
        await cluster.kubectl.delete(
            {
                "apiVersion": "flowapp.dev/v1alpha1",
                "kind": "FlowApp",
                "metadata": {"name": APP, "namespace": "default"},
            }
        )

        async def gone() -> bool:
            return await cluster.flowapp(APP) is None and not await cluster.children(APP)

        await eventually(gone, what="the app and every object gone")


async def test_reconciling_a_converged_app_again_writes_nothing() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        await converged(cluster)
        await cluster.mark_all_ready(APP)
        body = await ready(cluster)
        await asyncio.sleep(0.3)
        store = cluster.server.store
        before = len(store.history)
        assert cluster.running.reconciler is not None
        outcome = await cluster.running.reconciler.reconcile(body)
        assert (outcome.result, outcome.created, outcome.updated, outcome.deleted) == (
            "ok",
            0,
            0,
            0,
        )
        # kopf may still touch its own annotations and post Events; nothing else changed.
        later = store.history[before:]
        assert [c.obj["kind"] for c in later if c.obj["kind"] not in ("FlowApp", "Event")] == []
        assert all(c.obj.get("status") == body["status"] for c in later)


async def test_an_invalid_spec_gets_invalid_spec_with_every_problem_and_changes_nothing() -> None:
    async with running_cluster() as cluster:
        await cluster.database_secret()
        await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        before = {
            (c["kind"], c["metadata"]["name"]): c["metadata"]["resourceVersion"]
            for c in await converged(cluster)
        }

        def break_it(app: Obj) -> None:
            do = app["spec"]["workflow"]["do"]
            do[0]["append"]["with"]["message"] = "${ .message | }"
            do.append({"later": {"call": "nowhere"}})

        await cluster.edit(FLOWAPP, "FlowApp", APP, break_it)
        found = await ready(cluster, status="False")
        assert condition(found)["reason"] == "InvalidSpec"
        message = condition(found)["message"]
        assert "/spec/workflow/do/0/append/with/message" in message
        assert "/spec/workflow/do/2/later/call" in message
        after = {
            (c["kind"], c["metadata"]["name"]): c["metadata"]["resourceVersion"]
            for c in await cluster.children(APP)
        }
        assert after == before


async def test_a_bad_app_does_not_stop_a_good_one_and_a_missing_secret_is_retried() -> None:
    async with running_cluster() as cluster:
        bad = app_object(ROOT / "examples" / "append-display")
        bad["metadata"]["name"] = "broken"
        bad["spec"]["functions"]["display"].pop("image")
        await cluster.apply(bad)
        await cluster.apply(app_object(ROOT / "examples" / "append-display"))
        broken = await ready(cluster, "broken", status="False")
        assert condition(broken)["reason"] == "MissingImage"
        assert await cluster.children("broken") == []
        waiting = await ready(cluster, status="False")
        assert condition(waiting)["reason"] == "MissingSecret"
        await converged(cluster)
        await cluster.database_secret()
        await cluster.mark_all_ready(APP)
        await ready(cluster)


async def test_the_crd_refuses_unknown_fields_and_the_status_keeps_what_it_declares() -> None:
    async with running_cluster() as cluster:
        wrong = app_object(ROOT / "examples" / "append-display")
        wrong["spec"]["functions"]["display"]["imagee"] = "x"
        try:
            await cluster.apply(wrong)
        except ApiError as error:
            assert error.status == 422 and "imagee" in error.message
        else:
            raise AssertionError("an unknown field was accepted")


async def test_a_pure_sequence_becomes_a_knative_sequence_with_no_engine() -> None:
    async with running_cluster() as cluster:
        obj = app_object(ROOT / "tests" / "fixtures" / "k8s" / "pure-sequence")
        obj["metadata"]["namespace"] = "default"
        await cluster.apply(obj)

        async def sequence() -> list[Obj] | None:
            found = await cluster.children("thumbnails")
            return (
                found if ("Sequence", "thumbnails") in kinds(found) and len(found) == 10 else None
            )

        children = await eventually(sequence, what="the Sequence and its objects")
        assert not any(c["kind"] == "Deployment" for c in children)
        await cluster.mark_all_ready("thumbnails")
        found = await ready(cluster, "thumbnails")
        assert found["status"]["mode"] == "flows"
        assert condition(found, "EngineReady")["reason"] == "NoEngine"
