"""The API's OpenAPI document, adjusted to what the handlers really answer: 400 problem+json (not FastAPI's
422), 304 for conditional requests, 404 problem where a path names an indicator."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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
