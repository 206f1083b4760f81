"""Liveness, metrics, and who the caller is.

``GET /healthz`` needs no token (load balancers and Kubernetes probes have none);
``GET /metrics`` serves the Prometheus registry ``create_app`` was given (empty without
one); ``GET /api/v1/whoami`` lets a client check a token (``flowapp login`` does).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response

from flowapp.server import models
from flowapp.server.auth import current_token
from flowapp.server.deps import ServicesDep, blocking
from flowapp.server.openapi import PUBLIC, errors
from flowapp.server.views import token_json
from flowapp.store.platform import TokenRecord

router = APIRouter()

METRICS_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition format.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    **errors(),
}


@router.head("/healthz", include_in_schema=False)  # load balancers probe with HEAD
@router.get(
    "/healthz",
    tags=["health"],
    response_model=models.Health,
    openapi_extra=PUBLIC,
    responses=errors(public=True),
)
async def healthz() -> dict[str, str]:
    """The server answers: it is alive."""
    return {"status": "ok"}


@router.get("/metrics", tags=["health"], response_class=Response, responses=METRICS_DOC)
async def metrics(services: ServicesDep) -> Response:
    """The metrics registry in Prometheus text format."""
    registry = services.metrics or CollectorRegistry()
    # Collectors may read the stores (gauges of executions ...): not on the event loop.
    text = await blocking(generate_latest, registry)
    return Response(text, media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/whoami", tags=["tokens"], response_model=models.Token, responses=errors())
async def whoami(token: Annotated[TokenRecord, Depends(current_token)]) -> dict[str, Any]:
    """The token this request was made with (never its secret)."""
    return token_json(token)
