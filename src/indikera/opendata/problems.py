"""Problem details of the open-data API: the shared implementation (``indikera.http_problems``) with the
open-data defaults (a bad query parameter is a 400; only GET, HEAD and OPTIONS are allowed)."""

from __future__ import annotations

from fastapi import FastAPI

from ..http_problems import PROBLEM_MEDIA_TYPE, Problem, ProblemError, bad_parameter, problem_response
from ..http_problems import install as _install

READ_ONLY = "GET, HEAD, OPTIONS"


def install(app: FastAPI) -> None:
    _install(app, validation_status=400, allow=READ_ONLY)


__all__ = ["PROBLEM_MEDIA_TYPE", "READ_ONLY", "Problem", "ProblemError", "bad_parameter", "install", "problem_response"]
