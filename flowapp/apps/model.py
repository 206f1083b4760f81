"""The FlowApp: the deployable unit, as loaded from ``flowapp.yaml`` and validated.

A :class:`FlowApp` is a snapshot: what the resource said, resolved against its project
folder, with the workflow document it runs and a ``digest`` of everything that makes up a
revision (the resource, the workflow and the bytes of every function folder). Loading the
same project twice with no change gives the same digest; any change to code or
configuration gives another one, which is what immutable revisions are keyed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowapp.engine.limits import DEFAULT_LIMITS, ExecutionLimits

if TYPE_CHECKING:  # annotations only: importing flowapp.triggers loads every broker client
    from flowapp.apps.traffic import TrafficTarget
    from flowapp.dsl.source import SourceDocument
    from flowapp.events.delivery import DeliverySpec
    from flowapp.functions.spec import FunctionSpec
    from flowapp.triggers.base import TriggerConfig

API_VERSION = "flowapp.dev/v1alpha1"
KIND = "FlowApp"
FILE_NAME = "flowapp.yaml"
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class FlowApp:
    """One loaded, valid FlowApp.

    ``workflow_source`` locates the workflow's values: its pointers are relative to the
    workflow (``/do/0/append``, as the engine's task references are) and its lines are
    those of the file the workflow was written in, ``flowapp.yaml`` itself for an inline
    workflow. ``workflow_pointer`` is where the workflow sits in that file
    (``/spec/workflow`` inline, ``""`` for ``workflowRef`` or a wrapped plain workflow).

    ``resource`` is the resource as it runs: with the environment's config merged in, so
    the digest (and so the revision) differs per environment.

    ``delivery.dead_letter_sink`` is an http(s) URL or the name of one of ``functions``;
    the runtime resolves a name to its subscriber.
    """

    name: str
    namespace: str
    base_dir: Path
    workflow: dict[str, Any]
    workflow_source: SourceDocument
    workflow_pointer: str
    functions: dict[str, FunctionSpec]
    triggers: tuple[TriggerConfig, ...]
    delivery: DeliverySpec
    labels: dict[str, str]
    resource: dict[str, Any]
    digest: str
    # The environment whose config/<environment>.yaml was merged into ``resource``.
    environment: str | None = None
    limits: ExecutionLimits = DEFAULT_LIMITS  # what one execution may take (``spec.limits``)
    # Seconds its finished executions are kept (``spec.retention``); None: the server's.
    retention: float | None = None
    # On a cluster: this spec's revision name, and the split of calls between revisions.
    revision: str | None = None
    traffic: tuple[TrafficTarget, ...] = ()

    @property
    def workflow_file(self) -> Path:
        """The file the workflow was written in."""
        return Path(self.workflow_source.file)
