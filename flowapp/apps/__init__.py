"""FlowApps: the deployable resource (``flowapp.yaml``) and the projects that hold them.

- ``load_app(path)`` reads a project folder, a ``flowapp.yaml`` or a plain Serverless
  Workflow document (wrapped) into a validated, frozen :class:`FlowApp` with a digest;
- ``function_names_called(document)`` names the functions a workflow needs code for;
- ``flowapp.apps.scaffold`` creates projects and functions from ``templates/``.

Modules, by role: ``model`` (the dataclass and constants), ``loader`` (the data flow),
``resource`` (header, triggers, delivery), ``functions`` (``spec.functions``), ``keys``
(reading keys with problems), ``workflow`` (inline or ``workflowRef``), ``subdocument``
(locations of an inline workflow), ``digest``, ``names``; ``scaffold``, ``templates`` and
``yamledit`` for projects, ``errors``. The resource reference is ``docs/flowapp.md``.

``load_app`` is imported on first use: the loader parses triggers, and the trigger package
imports every broker's client library, which scaffolding and the CLI's start-up need not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowapp.apps.model import API_VERSION, FILE_NAME, KIND, FlowApp
from flowapp.apps.workflow import function_names_called, is_plain_workflow

if TYPE_CHECKING:
    from flowapp.apps.loader import load_app

__all__ = [
    "API_VERSION",
    "FILE_NAME",
    "KIND",
    "FlowApp",
    "function_names_called",
    "is_plain_workflow",
    "load_app",
]


def __getattr__(name: str) -> Any:
    if name == "load_app":
        from flowapp.apps.loader import load_app

        return load_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
