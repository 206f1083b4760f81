"""Names and labels of the objects a FlowApp becomes.

Every object is named after its app, so two apps in one namespace never collide, and is
labelled so that ``kubectl get ... -l flowapp.dev/app=<app>`` finds everything of an app
and the operator can watch only what it manages. A name that would be too long, or would
not start with a letter where Kubernetes requires one, is shortened with a digest of the
full name: stable across reconciles, so the same app always maps to the same objects.
"""

from __future__ import annotations

import hashlib

MANAGED_BY = "app.kubernetes.io/managed-by"
OPERATOR = "flowapp-operator"
APP_LABEL = "flowapp.dev/app"
COMPONENT_LABEL = "flowapp.dev/component"
FUNCTION_LABEL = "flowapp.dev/function"
TRIGGER_LABEL = "flowapp.dev/trigger"

SERVICE_NAME_LIMIT = 50
"""Knative names a Service's revisions ``<service>-00001`` and they must stay DNS labels."""

LABEL_LIMIT = 63


def object_name(*parts: str, limit: int = LABEL_LIMIT, letter_first: bool = False) -> str:
    """``parts`` joined by ``-``; shortened with a digest when longer than ``limit``."""
    name = "-".join(part for part in parts if part)
    if letter_first and not name[:1].isalpha():
        name = "fa-" + name
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def function_service(app: str, function: str) -> str:
    """The Knative Service of a function: an RFC 1035 label (Knative requires one)."""
    return object_name(app, function, limit=SERVICE_NAME_LIMIT, letter_first=True)


def engine(app: str) -> str:
    return object_name(app, "engine")


def app_config(app: str) -> str:
    return object_name(app, "flowapp")


def app_secrets(app: str) -> str:
    """The Secret holding an app's secrets (created by its owners, read by the engine)."""
    return object_name(app, "secrets")


def broker(app: str) -> str:
    return app


def source(app: str, trigger: str) -> str:
    return object_name(app, trigger)


def knative_trigger(app: str, purpose: str) -> str:
    return object_name(app, purpose)


def labels(app: str, component: str, **extra: str) -> dict[str, str]:
    found = {MANAGED_BY: OPERATOR, APP_LABEL: app, COMPONENT_LABEL: component}
    found.update({f"flowapp.dev/{key}": value for key, value in extra.items()})
    return found
