"""Local stand-ins for the public services the conformance kit calls (petstore.swagger.io,
httpbin.org), served on 127.0.0.1. Workflows are rewritten to call them instead."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

PETS = [
    {"id": 1, "name": "Milou", "status": "available", "category": {"id": 1, "name": "dog"}},
    {"id": 2, "name": "Rantanplan", "status": "available", "category": {"id": 1, "name": "dog"}},
    {"id": 3, "name": "Garfield", "status": "sold", "category": {"id": 2, "name": "cat"}},
]
BASIC_USER = "serverless-workflow"
BASIC_PASSWORD = "conformance-test"


def swagger(base: str) -> dict[str, Any]:
    host = base.split("://", 1)[1]
    pet_schema = {"$ref": "#/definitions/Pet"}
    return {
        "swagger": "2.0",
        "info": {"title": "Swagger Petstore (local stand-in)", "version": "1.0.7"},
        "host": host,
        "basePath": "/petstore/v2",
        "schemes": ["http"],
        "paths": {
            "/pet/findByStatus": {
                "get": {
                    "operationId": "findPetsByStatus",
                    "parameters": [
                        {"name": "status", "in": "query", "required": True, "type": "string"}
                    ],
                    "responses": {"200": {"schema": {"type": "array", "items": pet_schema}}},
                }
            },
            "/pet/{petId}": {
                "get": {
                    "operationId": "getPetById",
                    "parameters": [
                        {"name": "petId", "in": "path", "required": True, "type": "integer"}
                    ],
                    "responses": {"200": {"schema": pet_schema}, "404": {}},
                }
            },
        },
        "definitions": {"Pet": {"type": "object"}},
    }


def build_app() -> web.Application:
    app = web.Application()

    async def find_by_status(request: web.Request) -> web.Response:
        status = request.query.get("status", "available")
        return web.json_response([p for p in PETS if p["status"] == status])

    async def pet(request: web.Request) -> web.Response:
        key = request.match_info["pet"]
        found = next((p for p in PETS if str(p["id"]) == key), None)
        if found is None:
            return web.json_response(
                {"code": 1, "type": "error", "message": "Pet not found"}, status=404
            )
        return web.json_response(found)

    async def by_name(request: web.Request) -> web.Response:
        return web.json_response({"code": 404, "message": "not found"}, status=404)

    async def swagger_json(request: web.Request) -> web.Response:
        return web.json_response(swagger(f"http://{request.host}"))

    async def basic_auth(request: web.Request) -> web.Response:
        expected = f"{request.match_info['user']}:{request.match_info['password']}"
        header = request.headers.get("Authorization", "")
        given = (
            base64.b64decode(header.removeprefix("Basic ")).decode()
            if header.startswith("Basic ")
            else ""
        )
        if given != expected:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="fake"'})
        return web.json_response({"authenticated": True, "user": request.match_info["user"]})

    async def anything(request: web.Request) -> web.Response:
        body = await request.text()
        return web.json_response(
            {
                "method": request.method,
                "headers": dict(request.headers),
                "args": dict(request.query),
                "json": json.loads(body) if body else None,
            }
        )

    app.router.add_get("/petstore/v2/pet/findByStatus", find_by_status)
    app.router.add_get("/petstore/v2/pet/getPetByName/{name}", by_name)
    app.router.add_get("/petstore/v2/pet/{pet}", pet)
    app.router.add_get("/petstore/v2/swagger.json", swagger_json)
    app.router.add_get("/httpbin/basic-auth/{user}/{password}", basic_auth)
    app.router.add_route("*", "/httpbin/anything", anything)
    return app


def rewrite(text: str, base: str) -> str:
    """Point a workflow at the stand-ins instead of the public services."""
    return text.replace("https://petstore.swagger.io", f"{base}/petstore").replace(
        "https://httpbin.org", f"{base}/httpbin"
    )
