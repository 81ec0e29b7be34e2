"""The API's OpenAPI document, adjusted to what the handlers really answer: 400 problem+json (not FastAPI's
422), 304 for conditional requests, 404 problem where a path names an indicator."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.responses import Response
from starlette.routing import Route

from . import openapi_strict
from .conditional import etag_matches
from .problems import PROBLEM_MEDIA_TYPE, Problem


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def install(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(title=api.title, version=api.version, description=api.description,
                             routes=api.routes, servers=api.servers)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = Problem.model_json_schema()
        openapi_strict.tighten(schema)  # the server's constraints on each parameter, stated (issue #15)
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                responses = op.setdefault("responses", {})
                responses.pop("422", None)
                responses["304"] = {"description": "Not modified (If-None-Match / If-Modified-Since matched)"}
                responses["400"] = _problem("Bad parameter (RFC 9457 problem details)")
                if "404" in responses:
                    responses["404"] = _problem(responses["404"].get("description", "Not found"))
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
    _with_etag(api)


def _with_etag(api: FastAPI) -> None:
    """FastAPI's ``/openapi.json`` route, with an ETag and 304s: the document only changes with a release, and
    generators and docs pages poll it (issue #15)."""
    found = [r for r in api.router.routes if isinstance(r, Route) and r.path == api.openapi_url]
    if not found:
        return
    original = found[0].endpoint
    api.router.routes.remove(found[0])

    async def openapi_json(request: Request) -> Response:
        answer = await original(request)
        body = bytes(answer.body)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("if-none-match", ""), etag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    api.add_route(api.openapi_url, openapi_json, include_in_schema=False)
