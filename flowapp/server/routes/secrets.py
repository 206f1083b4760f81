"""An app's secrets: list their names, set one, delete one. No route returns a value.

A developer (an app-limited one too, for its apps) sets a secret; it is sealed at once
(``flowapp.runtime.secrets``) and only the app's own workflows read it, through
``$secrets``. Viewers see names and where each value comes from: the environment and
the secrets file given to ``flowapp up`` override the store, so a name they give cannot
be deleted here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from flowapp.runtime.secrets import AppSecrets, SecretInfo
from flowapp.server import models
from flowapp.server.deps import AppLookupDep, Services, ServicesDep, blocking
from flowapp.server.openapi import errors
from flowapp.server.params import AppName
from flowapp.server.platform import Conflict, NotFound, PlatformError
from flowapp.server.views import iso

router = APIRouter(prefix="/api/v1/apps/{name}/secrets", tags=["secrets"])

SecretName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$",
        description="The secret's name, as the workflow's `use.secrets` lists it.",
        examples=["apiKey"],
    ),
]


class SecretsUnavailable(PlatformError):
    status = 501
    title = "Not Implemented"


def _secrets(services: Services) -> AppSecrets:
    if services.secrets is None:
        raise SecretsUnavailable("this server keeps no secrets")
    return services.secrets


def secret_json(info: SecretInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "source": info.source,
        "updated_at": iso(info.updated_at),
        "also_in": list(info.also_in),
    }


@router.get("", response_model=models.SecretList, responses=errors(404, 422, 501))
async def list_secrets(services: ServicesDep, apps: AppLookupDep, name: AppName) -> Any:
    """The app's secrets: names and where each value comes from, never values."""
    secrets = _secrets(services)
    await apps.get_app(name)
    infos = await blocking(secrets.list, name)
    return {"items": [secret_json(info) for info in infos]}


@router.put("/{secret}", response_model=models.Secret, responses=errors(400, 404, 413, 422, 501))
async def set_secret(
    services: ServicesDep,
    apps: AppLookupDep,
    name: AppName,
    secret: SecretName,
    body: models.NewSecretValue,
) -> Any:
    """Create or replace a secret of the app; its value is sealed and never shown again."""
    secrets = _secrets(services)
    await apps.get_app(name)
    info = await blocking(secrets.set, name, secret, body.value)
    return secret_json(info)


@router.delete(
    "/{secret}", status_code=204, response_class=Response, responses=errors(404, 409, 422, 501)
)
async def delete_secret(
    services: ServicesDep, apps: AppLookupDep, name: AppName, secret: SecretName
) -> Response:
    """Delete a secret the store keeps (one given by the environment or the secrets file
    of ``flowapp up`` is changed there: 409)."""
    secrets = _secrets(services)
    await apps.get_app(name)
    given = {info.name: info for info in await blocking(secrets.list, name)}.get(secret)
    if given is None:
        raise NotFound(f"app {name} has no secret {secret}")
    if given.source != "store" and "store" not in given.also_in:
        raise Conflict(
            f"secret {secret} of app {name} comes from the {given.source} given to "
            "flowapp up: change it there"
        )
    await blocking(secrets.delete, name, secret)
    return Response(status_code=204)
