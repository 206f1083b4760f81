"""``conditions_for``: what the syncer reports for every situation, as a table."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from flowapp.local.syncer import Observed, conditions_for, observation_of
from flowapp.store.platform import Condition
from flowapp.triggers.base import TriggerState, TriggerStatus


@dataclass(frozen=True)
class Fn:
    state: str
    instances: int = 1
    restarts: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class Tr:
    state: str
    error: str | None = None


READY = Fn("ready")
ZERO = Fn("scaled-to-zero", instances=0)
REV = "shop-00001"

# (id, observed, FunctionsReady, TriggersReady, Ready) as (status, reason) pairs.
CASES = [
    (
        "all ready",
        Observed(REV, "ready", {"a": READY, "b": ZERO}, {"orders": Tr("ready")}),
        ("True", "FunctionsReady"),
        ("True", "TriggersConnected"),
        ("True", "Deployed"),
    ),
    (
        "no triggers, no functions",
        Observed(REV, "ready"),
        ("True", "NoFunctions"),
        ("True", "NoTriggers"),
        ("True", "Deployed"),
    ),
    (
        "a function failing",
        Observed(REV, "ready", {"a": Fn("failing", last_error="exit 1"), "b": READY}),
        ("False", "FunctionFailing"),
        ("True", "NoTriggers"),
        ("False", "FunctionFailing"),
    ),
    (
        "a function starting",
        Observed(REV, "ready", {"a": Fn("starting", instances=1), "b": READY}),
        ("False", "FunctionsStarting"),
        ("True", "NoTriggers"),
        ("False", "FunctionsStarting"),
    ),
    (
        "failing wins over starting",
        Observed(REV, "ready", {"a": Fn("starting"), "b": Fn("failing")}),
        ("False", "FunctionFailing"),
        ("True", "NoTriggers"),
        ("False", "FunctionFailing"),
    ),
    (
        "a function stopped",
        Observed(REV, "ready", {"a": Fn("stopped", instances=0)}),
        ("False", "FunctionStopped"),
        ("True", "NoTriggers"),
        ("False", "FunctionStopped"),
    ),
    (
        "a trigger connecting",
        Observed(REV, "ready", {"a": READY}, {"q": Tr("connecting", "refused"), "c": Tr("ready")}),
        ("True", "FunctionsReady"),
        ("False", "TriggerConnecting"),
        ("False", "TriggerConnecting"),
    ),
    (
        "a trigger stopped",
        Observed(REV, "ready", {"a": READY}, {"q": Tr("stopped")}),
        ("True", "FunctionsReady"),
        ("False", "TriggerStopped"),
        ("False", "TriggerStopped"),
    ),
    (
        "functions are reported before triggers",
        Observed(REV, "ready", {"a": Fn("starting")}, {"q": Tr("connecting")}),
        ("False", "FunctionsStarting"),
        ("False", "TriggerConnecting"),
        ("False", "FunctionsStarting"),
    ),
    (
        "nothing deployed",
        Observed(None, None),
        ("True", "NoFunctions"),
        ("True", "NoTriggers"),
        ("False", "NotDeployed"),
    ),
    (
        "first revision building",
        Observed(None, "building"),
        ("True", "NoFunctions"),
        ("True", "NoTriggers"),
        ("False", "NotDeployed"),
    ),
    (
        "first revision failed to build",
        Observed(None, "failed", deploy_error="pip install failed"),
        ("True", "NoFunctions"),
        ("True", "NoTriggers"),
        ("False", "DeployFailed"),
    ),
    (
        "a failed deploy while the old revision serves",
        Observed(REV, "failed", {"a": READY}, deploy_error="function b did not start"),
        ("True", "FunctionsReady"),
        ("True", "NoTriggers"),
        ("False", "DeployFailed"),
    ),
    (
        "a revision failed without a deploy error",
        Observed(REV, "failed", {"a": READY}),
        ("True", "FunctionsReady"),
        ("True", "NoTriggers"),
        ("False", "DeployFailed"),
    ),
]


@pytest.mark.parametrize(
    ("observed", "functions", "triggers", "ready"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_conditions(
    observed: Observed,
    functions: tuple[str, str],
    triggers: tuple[str, str],
    ready: tuple[str, str],
) -> None:
    by_type = {c.type: c for c in conditions_for(observed)}

    assert list(by_type) == ["FunctionsReady", "TriggersReady", "Ready"]
    assert (by_type["FunctionsReady"].status, by_type["FunctionsReady"].reason) == functions
    assert (by_type["TriggersReady"].status, by_type["TriggersReady"].reason) == triggers
    assert (by_type["Ready"].status, by_type["Ready"].reason) == ready
    assert all(c.observed_revision == observed.deployed_revision for c in by_type.values())
    assert all(c.message for c in by_type.values())


def test_a_failing_function_is_named_with_its_last_error() -> None:
    observed = Observed(
        REV,
        "ready",
        {"b": Fn("failing", last_error="exit code 3"), "a": Fn("failing"), "c": READY},
    )
    functions, _, ready = conditions_for(observed)

    assert functions.message == "a is failing: no error reported; b is failing: exit code 3"
    assert ready.message == functions.message  # Ready carries the first cause's message


def test_a_starting_function_shows_its_last_error_and_long_errors_are_clipped() -> None:
    observed = Observed(REV, "ready", {"a": Fn("starting", last_error="x" * 1000)})
    (functions, _, _) = conditions_for(observed)

    assert functions.message.startswith("waiting for a to start (last error: xxx")
    assert len(functions.message) < 400


def test_trigger_errors_are_in_the_message() -> None:
    observed = Observed(
        REV, "ready", {}, {"q": Tr("connecting", "connection refused"), "n": Tr("stopped")}
    )
    _, triggers, _ = conditions_for(observed)

    assert triggers.message == "n is stopped; q is connecting: connection refused"


def test_the_deploy_error_is_the_ready_message() -> None:
    _, _, ready = conditions_for(Observed(REV, "failed", deploy_error="build failed: pip"))

    assert ready == Condition("Ready", "False", "DeployFailed", "build failed: pip", REV)


def test_the_platforms_own_status_types_fit() -> None:
    """``TriggerStatus`` (a StrEnum state) and ``error`` are read as the syncer expects."""
    trigger = TriggerStatus(TriggerState.CONNECTING, error="refused")
    observed = Observed(REV, "ready", {"a": READY}, {"q": trigger})

    observation = observation_of("shop", observed, now=5.0)

    assert observation.triggers == {"q": {"state": "connecting", "last_error": "refused"}}
    assert observation.functions == {
        "a": {"state": "ready", "instances": 1, "restarts": 0, "last_error": None}
    }
    assert (observation.deployed_revision, observation.observed_at) == (REV, 5.0)
    assert conditions_for(observed)[1].reason == "TriggerConnecting"
