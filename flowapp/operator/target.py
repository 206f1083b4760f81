"""Where and how a FlowApp is realised on a cluster: the settings every builder reads.

The same :class:`Target` serves ``flowapp k8s render`` (from command-line options) and the
operator (from its own options), so both produce the same objects for the same app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flowapp import __version__

Mode = Literal["auto", "engine", "flows"]
MODE_ANNOTATION = "flowapp.dev/mode"
BROKER_ANNOTATION = "flowapp.dev/broker"
ENGINE_PORT = 8080
DELIVERY_PORT = 8081  # the engine's port for Knative's deliveries (no tokens)
FUNCTION_PORT = 8080


@dataclass(frozen=True, kw_only=True)
class Target:
    """Cluster-wide settings of the objects a FlowApp becomes.

    ``namespace`` overrides the app's own; ``image_prefix`` (``registry.example/team/``) is
    put before the engine's image name; ``database_secret`` names the Secret (in the app's
    namespace) whose ``database_key`` holds the engine's ``postgresql://`` URL; ``broker``
    names a shared Broker instead of one per app; ``mode`` forces the engine or Knative
    Flows (``auto`` picks Flows where the workflow fits, see ``flows.py``)."""

    namespace: str | None = None
    image_prefix: str = ""
    engine_image: str | None = None
    engine_replicas: int = 2
    database_secret: str = "flowapp-database"
    database_key: str = "url"
    broker: str | None = None
    mode: Mode = "auto"

    @property
    def engine_image_name(self) -> str:
        return self.engine_image or f"{self.image_prefix}flowapp:{__version__}"


def cluster_domain_url(name: str, namespace: str, path: str = "") -> str:
    """The in-cluster address of a Service (``http://name.namespace.svc.cluster.local``)."""
    return f"http://{name}.{namespace}.svc.cluster.local{path}"
