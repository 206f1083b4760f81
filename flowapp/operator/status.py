"""A FlowApp's status from what its objects report: the syncer's job on Kubernetes. Pure.

Conditions, as ``flowapp up`` reports them but from the cluster's objects:

- ``FunctionsReady``: every function's Knative Service is Ready;
- ``EventingReady``: the Broker, the sources, the Triggers (and in Flows mode the
  Sequence and Parallel) are Ready;
- ``EngineReady``: the engine Deployment is Available (and its database Secret exists);
  True with reason ``NoEngine`` in Flows mode;
- ``Ready``: all three, or else the first that is not, with its status, reason and message.

An object counts as ready only when its own ``Ready`` condition (Knative) or ``Available``
(Deployment) is True *for its current generation*; until its controller has caught up it
is ``Unknown``. A failing object's condition lends its reason and message, prefixed by the
object, so ``kubectl get flowapps`` shows why. Kubernetes' transition semantics:
``lastTransitionTime`` changes only when a condition's status does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
MAX_MESSAGE = 1000


@dataclass(frozen=True)
class Condition:
    type: str
    status: str  # True, False, Unknown
    reason: str
    message: str = ""


def object_condition(obj: Obj) -> Condition:
    """Whether one child is ready, as its controller reports it."""
    kind, name = obj["kind"], obj["metadata"]["name"]
    status = obj.get("status") or {}
    wanted = "Available" if kind == "Deployment" else "Ready"
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 1):
        return Condition(wanted, "Unknown", "Reconciling", f"{kind} {name} is being reconciled")
    for condition in status.get("conditions") or []:
        if condition.get("type") == wanted:
            message = (
                f"{kind} {name}: {condition.get('message') or condition.get('reason') or wanted}"
            )
            return Condition(
                wanted,
                condition.get("status", "Unknown"),
                condition.get("reason") or wanted,
                message,
            )
    return Condition(
        wanted, "Unknown", "NotReported", f"{kind} {name} reports no {wanted} condition"
    )


def summarize(type_: str, objects: Iterable[Obj], *, what: str, none: str) -> Condition:
    found = [object_condition(obj) for obj in objects]
    if not found:
        return Condition(type_, "True", none, f"no {what}")
    for status in ("False", "Unknown"):
        bad = [c for c in found if c.status == status]
        if bad:
            message = "; ".join(c.message for c in bad)
            return Condition(type_, status, bad[0].reason, message[:MAX_MESSAGE])
    return Condition(type_, "True", type_, f"{len(found)} of {len(found)} {what} ready")


FUNCTION_KINDS = {("serving.knative.dev", "Service")}
ENGINE_KINDS = {("apps", "Deployment")}


def _group(obj: Obj) -> str:
    return str(obj["apiVersion"]).rpartition("/")[0]


def conditions_for(
    children: list[Obj], *, mode: str, engine_problem: Condition | None = None
) -> list[Condition]:
    """The four conditions from the children as the cluster shows them now."""
    functions = [o for o in children if (_group(o), o["kind"]) in FUNCTION_KINDS]
    engines = [o for o in children if (_group(o), o["kind"]) in ENGINE_KINDS]
    eventing = [o for o in children if _group(o).endswith("knative.dev") and o not in functions]
    parts = [
        summarize("FunctionsReady", functions, what="functions", none="NoFunctions"),
        summarize("EventingReady", eventing, what="eventing objects", none="NoEventing"),
    ]
    if mode == "flows":
        parts.append(Condition("EngineReady", "True", "NoEngine", "Knative Flows: no engine"))
    elif engine_problem is not None:
        parts.append(engine_problem)
    else:
        parts.append(summarize("EngineReady", engines, what="engines", none="NoEngine"))
    return [ready(parts), *parts]


def ready(parts: list[Condition]) -> Condition:
    for status in ("False", "Unknown"):
        for part in parts:
            if part.status == status:
                return Condition("Ready", status, part.reason, part.message)
    return Condition(
        "Ready", "True", "Ready", "every function, eventing object and engine is ready"
    )


def failed(reason: str, message: str) -> list[Condition]:
    """The conditions of an app that could not be realised at all (``InvalidSpec`` ...)."""
    return [Condition("Ready", "False", reason, message[:MAX_MESSAGE])]


def with_transitions(
    new: list[Condition], old: Iterable[Mapping[str, Any]], *, now: str, generation: int
) -> list[Obj]:
    """The conditions as status entries, keeping ``lastTransitionTime`` unless the status
    changed. Conditions not reported any more (``FunctionsReady`` after an ``InvalidSpec``,
    say) are dropped, as the controllers of Kubernetes do."""
    previous = {c.get("type"): c for c in old}
    entries = []
    for condition in new:
        before = previous.get(condition.type)
        changed = before is None or before.get("status") != condition.status
        entries.append(
            {
                "type": condition.type,
                "status": condition.status,
                "reason": condition.reason,
                "message": condition.message,
                "lastTransitionTime": (
                    now if changed or before is None else before.get("lastTransitionTime", now)
                ),
                "observedGeneration": generation,
            }
        )
    return entries
