"""API tokens (admin only): list, create (the secret is shown once), revoke.

Tokens live in the platform store, which keeps only their hash; the server reads and
writes them directly (nothing else is involved), in a worker thread.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from flowapp.server import models
from flowapp.server.deps import TokensDep, blocking
from flowapp.server.openapi import errors
from flowapp.server.views import token_json

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])

TokenId = Annotated[int, Path(ge=1, le=2**53, description="The token's id.")]


@router.get("", response_model=models.TokenList, responses=errors())
async def list_tokens(tokens: TokensDep) -> Any:
    """Every token, revoked ones too (never their secrets)."""
    records = await blocking(tokens.list_tokens)
    return {"items": [token_json(record) for record in records]}


@router.post(
    "", status_code=201, response_model=models.CreatedToken, responses=errors(400, 413, 422)
)
async def create_token(tokens: TokensDep, new: models.NewToken) -> Any:
    """A new token; the response holds its secret, which is never shown again."""
    record, secret = await blocking(
        tokens.create_token, new.name, role=new.role, now=time.time(), apps=new.apps
    )
    return {**token_json(record), "token": secret}


@router.delete("/{token_id}", status_code=204, response_class=Response, responses=errors(404, 422))
async def revoke_token(tokens: TokensDep, token_id: TokenId) -> Response:
    """Revoke a token: requests made with it are refused from now on (idempotent)."""
    await blocking(tokens.revoke_token, token_id, now=time.time())
    return Response(status_code=204)
