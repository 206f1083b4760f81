"""What the API may not do to an app on a cluster: it is the FlowApp object's.

Creating, changing, deploying, deleting an app, its source, its run policy and its
traffic belong to ``kubectl apply`` of the FlowApp; through the engine's API they answer
409 ``Managed By The Cluster`` saying where to make the change (``ClusterPlatform``'s
refusals, in ``platform.py``).
"""

from __future__ import annotations

from flowapp.server import platform as p


class ManagedByCluster(p.PlatformError):
    """The app is the FlowApp object's: change it on the cluster, not through the API."""

    status = 409
    title = "Managed By The Cluster"
