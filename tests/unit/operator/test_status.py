"""The FlowApp's conditions from its objects' own conditions (pure)."""

from __future__ import annotations

from typing import Any

from flowapp.operator.objects import is_subset
from flowapp.operator.status import Condition, conditions_for, with_transitions

Obj = dict[str, Any]


def child(
    api_version: str, kind: str, name: str, *, ready: str | None, generation: int = 1, seen: int = 1
) -> Obj:
    status: Obj = {"observedGeneration": seen}
    if ready is not None:
        wanted = "Available" if kind == "Deployment" else "Ready"
        status["conditions"] = [
            {"type": wanted, "status": ready, "reason": "Because", "message": "told"}
        ]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "generation": generation},
        "status": status,
    }


def test_ready_when_every_object_is_ready_for_its_generation() -> None:
    children = [
        child("serving.knative.dev/v1", "Service", "f", ready="True"),
        child("eventing.knative.dev/v1", "Broker", "b", ready="True"),
        child("apps/v1", "Deployment", "e", ready="True"),
    ]
    found = {c.type: c for c in conditions_for(children, mode="engine")}
    assert found["Ready"].status == "True"
    assert found["FunctionsReady"].message == "1 of 1 functions ready"


def test_an_object_behind_its_generation_is_unknown_and_a_failed_one_wins() -> None:
    children = [
        child("serving.knative.dev/v1", "Service", "f", ready="True", generation=2, seen=1),
        child("eventing.knative.dev/v1", "Trigger", "t", ready="False"),
        child("apps/v1", "Deployment", "e", ready="True"),
    ]
    found = {c.type: c for c in conditions_for(children, mode="engine")}
    assert found["FunctionsReady"] == Condition(
        "FunctionsReady", "Unknown", "Reconciling", "Service f is being reconciled"
    )
    assert found["Ready"] == Condition("Ready", "False", "Because", "Trigger t: told")


def test_flows_mode_needs_no_engine() -> None:
    found = {c.type: c for c in conditions_for([], mode="flows")}
    assert found["EngineReady"].reason == "NoEngine"
    assert found["Ready"].status == "True"


def test_the_transition_time_changes_only_with_the_status() -> None:
    old = [
        {"type": "Ready", "status": "True", "lastTransitionTime": "then"},
        {"type": "EngineReady", "status": "True", "lastTransitionTime": "then"},
    ]
    new = [
        Condition("Ready", "False", "X", "m"),
        Condition("EngineReady", "True", "Y", "other message"),
    ]
    entries = {e["type"]: e for e in with_transitions(new, old, now="now", generation=3)}
    assert entries["Ready"]["lastTransitionTime"] == "now"
    assert entries["EngineReady"]["lastTransitionTime"] == "then"
    assert entries["EngineReady"]["observedGeneration"] == 3


def test_defaults_added_by_the_server_are_not_drift() -> None:
    desired = {
        "spec": {
            "template": {
                "spec": {"containers": [{"image": "a", "ports": [{"containerPort": 8080}]}]}
            }
        }
    }
    defaulted = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "image": "a",
                            "name": "user-container",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        }
                    ],
                    "enableServiceLinks": False,
                }
            },
            "traffic": [{"latestRevision": True, "percent": 100}],
        }
    }
    assert is_subset(desired, defaulted)
    edited = {
        "spec": {
            "template": {
                "spec": {"containers": [{"image": "b", "ports": [{"containerPort": 8080}]}]}
            }
        }
    }
    assert not is_subset(desired, edited)
    assert not is_subset(desired, {"spec": {"template": {"spec": {"containers": []}}}})
