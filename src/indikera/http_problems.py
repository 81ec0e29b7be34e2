"""RFC 9457 problem details: every HTTP error of the admin API and the open-data API is ``application/problem+json``.

One shape for both APIs: ``type`` (a stable URI made from the code), ``title``, ``status``, ``code`` (the stable
code of the ``IndikeraError`` behind it), ``detail`` (Swedish) and ``detail_en`` (English), ``instance`` (the path)
and, where it applies, ``parameter`` and extension members such as ``findings`` (catalogue validation) or
``details`` (every invalid field). Texts are Swedish first: the consumers are Swedish registries, web sites
and apps, but many integrators read English.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from .domain.errors import IndikeraError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://indikera.se/problems/"  # a stable identifier; not fetched by anyone

TITLES = {
    400: "Felaktig parameter",
    401: "Behörighet krävs",
    404: "Finns inte",
    405: "Metoden stöds inte",
    406: "Formatet kan inte levereras",
    409: "Konflikt med nuvarande tillstånd",
    411: "Längd krävs",
    413: "Anropet är för stort",
    415: "Formatet stöds inte",
    422: "Ogiltigt anrop",
    500: "Internt fel",
    503: "Tjänsten är inte redo",
}


class Problem(BaseModel):
    """An RFC 9457 problem detail (extension members such as ``findings`` may follow)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    code: str
    detail: str
    detail_en: str
    instance: str | None = None
    parameter: str | None = None


def code_of(code: str) -> str:
    """The stable code, UPPER_SNAKE (``bad-parameter`` and ``BAD_PARAMETER`` are the same code)."""
    return code.upper().replace("-", "_")


def type_of(code: str) -> str:
    """The problem ``type`` URI of a code (kebab case, as the open-data API has always answered)."""
    return TYPE_BASE + code.lower().replace("_", "-")


class ProblemError(IndikeraError):
    """An ``IndikeraError`` with an HTTP status: raise it anywhere under a route; rendered as problem+json."""

    def __init__(self, status: int, code: str, sv: str | None = None, en: str | None = None, /, *,
                 parameter: str | None = None, headers: dict[str, str] | None = None,
                 extensions: dict[str, Any] | None = None, **params: object) -> None:
        super().__init__(code_of(code), sv, en, **params)
        self.status = status
        self.parameter = parameter
        self.headers = headers
        self.extensions = extensions or {}

    @property
    def detail(self) -> str:
        return self.sv

    @property
    def detail_en(self) -> str:
        return self.en


def bad_parameter(parameter: str, sv: str, en: str) -> ProblemError:
    return ProblemError(400, "BAD_PARAMETER", sv, en, parameter=parameter)


def problem_body(instance: str, status: int, error: IndikeraError, *, parameter: str | None = None,
                 extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    code = code_of(error.code)
    body: dict[str, Any] = {
        "type": type_of(code),
        "title": TITLES.get(status, "Fel"),
        "status": status,
        "code": code,
        "detail": error.sv,
        "detail_en": error.en,
        "instance": instance,
    }
    if parameter:
        body["parameter"] = parameter
    for key, value in (extensions or {}).items():
        if value is not None and key not in body:
            body[key] = value
    return body


def error_response(request: Request, status: int, error: IndikeraError, *, parameter: str | None = None,
                   headers: dict[str, str] | None = None, extensions: dict[str, Any] | None = None) -> JSONResponse:
    """The problem+json response for ``error``: the one way every HTTP error of the APIs is rendered."""
    if isinstance(error, ProblemError):
        parameter = parameter or error.parameter
        headers = {**(error.headers or {}), **(headers or {})} or None
        extensions = {**error.extensions, **(extensions or {})}
    body = problem_body(request.url.path, status, error, parameter=parameter, extensions=extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_response(request: Request, status: int, code: str, detail: str | None = None, detail_en: str | None = None,
                     parameter: str | None = None, headers: dict[str, str] | None = None, **params: object) -> JSONResponse:
    """Shorthand: a problem from a code (catalogue text) or from explicit Swedish and English texts."""
    return error_response(request, status, IndikeraError(code_of(code), detail, detail_en, **params),
                          parameter=parameter, headers=headers)


def _clip(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _validation(exc: RequestValidationError) -> tuple[IndikeraError, str | None, list[dict[str, str]]]:
    errors = exc.errors() or [{}]
    details = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": _clip(e.get("msg", ""), 200)} for e in errors[:20]]
    first = errors[0]
    where = [str(x) for x in first.get("loc", ())]
    problem = _clip(first.get("msg", "invalid value"), 200)
    if where and where[0] == "body":
        field = ".".join(where[1:]) or "body"
        return IndikeraError("INVALID_REQUEST", field=field, problem=problem), None, details
    name = ".".join(x for x in where if x not in ("query", "path", "header")) or None
    return IndikeraError("BAD_PARAMETER", parameter=name, problem=problem), name, details


def install(app: FastAPI, *, validation_status: int = 400, allow: str | None = None) -> None:
    """Render our errors, validation errors and HTTP errors of ``app`` as problem+json (never a stack trace).

    ``validation_status``: 400 for the open-data API (a bad query parameter), 422 for the admin API (a bad body).
    ``allow``: the ``Allow`` header of a 405 when the route does not say (the open-data API is read-only).
    """

    @app.exception_handler(IndikeraError)
    async def _ours(request: Request, exc: IndikeraError) -> JSONResponse:
        return error_response(request, getattr(exc, "status", 400), exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        error, parameter, details = _validation(exc)
        return error_response(request, validation_status, error, parameter=parameter, extensions={"details": details})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status, headers = exc.status_code, dict(exc.headers or {})
        if status == 404:
            return error_response(request, 404, IndikeraError("NOT_FOUND"), headers=headers or None)
        if status == 405:
            methods = allow or headers.get("Allow") or "GET"
            headers["Allow"] = methods
            return error_response(request, 405, IndikeraError("METHOD_NOT_ALLOWED", method=request.method[:20], allow=methods),
                                  headers=headers)
        return error_response(request, status, IndikeraError("HTTP_ERROR", status=status), headers=headers or None)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after answering, so the server still logs the traceback; the caller never sees it.
        return error_response(request, 500, IndikeraError("INTERNAL"))


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "TYPE_BASE",
    "Problem",
    "ProblemError",
    "bad_parameter",
    "code_of",
    "error_response",
    "install",
    "problem_response",
    "type_of",
]
