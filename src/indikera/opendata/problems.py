"""RFC 9457 problem details: every 4xx of the open-data API is ``application/problem+json``.

Texts are Swedish first with the English in ``detail_en``: the API's consumers are Swedish web sites and apps,
but many integrators read English.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://indikera.se/problems/"  # a stable identifier; not fetched by anyone

TITLES = {
    400: "Felaktig parameter",
    404: "Finns inte",
    405: "Metoden stöds inte",
    406: "Formatet kan inte levereras",
    500: "Internt fel",
}


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str
    title: str
    status: int
    detail: str
    detail_en: str | None = None
    instance: str | None = None
    parameter: str | None = None


class ProblemError(Exception):
    """Raised anywhere in the open-data API; rendered as problem+json."""

    def __init__(self, status: int, code: str, detail: str, detail_en: str | None = None, *, parameter: str | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.detail_en, self.parameter = status, code, detail, detail_en, parameter


def bad_parameter(parameter: str, detail: str, detail_en: str) -> ProblemError:
    return ProblemError(400, "bad-parameter", detail, detail_en, parameter=parameter)


def problem_response(request: Request, status: int, code: str, detail: str, detail_en: str | None = None,
                     parameter: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Fel"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if detail_en:
        body["detail_en"] = detail_en
    if parameter:
        body["parameter"] = parameter
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _clip(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def install(app: FastAPI) -> None:
    """Render validation errors, HTTP errors and our own problems as problem+json (never a stack trace)."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.detail, exc.detail_en, exc.parameter)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = (exc.errors() or [{}])[0]
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "header")]
        name = ".".join(loc) or None
        msg = _clip(err.get("msg", "invalid value"), 200)
        return problem_response(
            request, 400, "bad-parameter",
            f"Parametern {name} har ett ogiltigt värde: {msg}",
            f"Parameter {name} has an invalid value: {msg}", name,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 404:
            return problem_response(request, 404, "not-found", "Resursen finns inte.", "No such resource.")
        if status == 405:
            return problem_response(request, 405, "method-not-allowed", "Endast GET, HEAD och OPTIONS stöds.",
                                    "Only GET, HEAD and OPTIONS are supported.", headers={"Allow": "GET, HEAD, OPTIONS"})
        return problem_response(request, status, "http-error", _clip(exc.detail, 200))
