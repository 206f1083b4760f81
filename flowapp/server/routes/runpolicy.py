"""Which kinds of ``run`` process an app may start: ``/api/v1/apps/{name}/run-policy``.

``run: shell``, ``run: script`` and ``run: container`` run code on the server's machine;
``flowapp up`` allows none of them unless its operator says ``--allow-run``. Reading an
app's policy needs a viewer token; changing it needs an **admin** token (``auth.py``), as
it widens what the app's developers can do on the machine.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from flowapp.server import models
from flowapp.server.deps import RunPolicyDep
from flowapp.server.openapi import errors
from flowapp.server.params import AppName
from flowapp.server.platform import RunPolicyView

router = APIRouter(prefix="/api/v1/apps/{name}", tags=["apps"])


@router.get("/run-policy", response_model=models.RunPolicy, responses=errors(404, 422))
async def get_run_policy(policies: RunPolicyDep, name: AppName) -> Any:
    """The kinds of run process the app may start, and who allowed them."""
    return _policy_json(await policies.get_run_policy(name))


@router.put("/run-policy", response_model=models.RunPolicy, responses=errors(400, 403, 404, 422))
async def set_run_policy(
    policies: RunPolicyDep, name: AppName, update: models.RunPolicyUpdate
) -> Any:
    """Allow the app these kinds of run process (admin only); [] takes them back."""
    return _policy_json(await policies.set_run_policy(name, list(update.allowed)))


def _policy_json(view: RunPolicyView) -> dict[str, Any]:
    return {
        "app": view.app,
        "allowed": list(view.allowed),
        "platform": list(view.platform),
        "effective": list(view.effective),
    }
