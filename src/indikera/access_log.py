"""The server's access log without secrets: uvicorn logs each request line with its query string, and a
query can carry a secret (a token a client put in the URL) or a cursor (long, and not the log's business).
Values of such parameters are replaced by ``***``; names and every other value stay, for operators.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

import uvicorn.config

# A parameter whose name contains one of these is redacted (case-insensitive, after percent-decoding).
SECRET_NAME_PARTS = ("token", "secret", "pass", "key", "auth", "sig", "session", "cursor", "credential")
_PAIR = re.compile(r"([^&=;]*)(=)([^&;]*)")


def redact_query(target: str) -> str:
    """``/path?token=abc&x=1`` → ``/path?token=***&x=1``: the request target as logged."""
    path, sep, query = target.partition("?")
    if not sep:
        return target

    def one(m: re.Match[str]) -> str:
        name = unquote_plus(m[1]).lower()
        return f"{m[1]}=***" if any(part in name for part in SECRET_NAME_PARTS) else m[0]

    return f"{path}?{_PAIR.sub(one, query)}"


class RedactQuery(logging.Filter):
    """On ``uvicorn.access``: its record's arguments are (client, method, target, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the access log redacted."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQuery}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_query"]
    return config


__all__ = ["RedactQuery", "log_config", "redact_query"]
