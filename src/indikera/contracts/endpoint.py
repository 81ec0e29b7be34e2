"""HTTP plumbing shared by the SOAP endpoints: content type, SOAPAction, size-limited body, faults, log.

Every failure ends as a SOAP 1.1 fault (HTTP 500); an unexpected error is logged with its stack trace
and the correlation id, and the caller only sees ``INTERNAL_ERROR`` with that correlation id.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ..concurrency import limiter
from ..rivta import CORRELATION_HEADER
from . import envelope, xmlsafe
from .soap import CONTENT_TYPE, VERSION_MISMATCH, SoapFault, client_fault, fault_envelope, server_fault

log = logging.getLogger("indikera.contracts")


@dataclass
class Call:
    """What is known about one SOAP call, for the handler, the log and the audit."""

    correlation_id: str
    started: float = field(default_factory=time.perf_counter)
    logical_address: str | None = None
    requested: dict[str, Any] | None = None
    returned: int = 0
    withheld: int = 0
    withheld_later: Callable[[], int] | None = None  # computed when the audit row is written
    finished_ms: int | None = None  # set when the answer (or fault) is ready, before it is sent

    @property
    def duration_ms(self) -> int:
        if self.finished_ms is not None:
            return self.finished_ms
        return int((time.perf_counter() - self.started) * 1000)

    def finish(self) -> None:
        self.finished_ms = int((time.perf_counter() - self.started) * 1000)


def correlation_id(request: Request) -> str:
    given = (request.headers.get(CORRELATION_HEADER) or "").strip()
    # Keep a caller's id if it is sane; never let a header inject log lines or fill the audit.
    if given and len(given) <= 128 and given.isprintable():
        return given
    return uuid.uuid4().hex


def check_content_type(request: Request) -> None:
    raw = request.headers.get("content-type")
    if raw is None:
        raise client_fault("CONTENT_TYPE", "Content-Type saknas", "Content-Type is missing; send text/xml; charset=UTF-8")
    media, _, params = raw.partition(";")
    media = media.strip().lower()
    if media == "application/soap+xml":
        raise SoapFault(
            "SOAP_VERSION",
            "tjänsten använder SOAP 1.1 (text/xml)",
            "application/soap+xml is SOAP 1.2; this endpoint speaks SOAP 1.1 (text/xml)",
            faultcode=VERSION_MISMATCH,
        )
    if media != "text/xml":
        raise client_fault(
            "CONTENT_TYPE",
            "fel Content-Type; skicka text/xml; charset=UTF-8",
            f"Content-Type {media[:80]!r} is not accepted; send text/xml; charset=UTF-8",
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise client_fault(
                "ENCODING",
                "endast teckenkodningen UTF-8 accepteras",
                f"charset {value.strip()[:40]!r} is not accepted; only UTF-8",
            )


def check_soap_action(request: Request, expected: str) -> None:
    """Accept the exact SOAPAction of the operation, an empty one, or none."""
    raw = request.headers.get("soapaction")
    if raw is None:
        return
    action = raw.strip().strip('"')
    if action and action != expected:
        raise client_fault(
            "SOAP_ACTION",
            f"SOAPAction stöds inte här; förväntad {expected!r}",
            f"SOAPAction {action[:160]!r} is not served here; expected {expected!r} (or none)",
        )


async def read_body(request: Request, limit: int) -> bytes:
    too_big = client_fault(
        "REQUEST_TOO_LARGE",
        f"anropet är större än {limit} byte",
        f"the request is larger than {limit} bytes",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def fault_response(fault: SoapFault, call: Call, background: BackgroundTask | None = None) -> Response:
    return Response(
        fault_envelope(fault),
        status_code=500,
        media_type=CONTENT_TYPE,
        headers={CORRELATION_HEADER: call.correlation_id},
        background=background,
    )


Handler = Callable[[envelope.Request, Call], Response]

async def serve(
    request: Request,
    *,
    soap_action: str,
    max_bytes: int,
    max_depth: int,
    handler: Handler,
    audit: Callable[[Call, str, str | None], None] | None = None,
    concurrent: int = 2,
) -> Response:
    """Run one SOAP call: checks, parse, ``handler`` (in a worker thread, at most ``concurrent`` at once in
    this process and event loop), faults, audit after sending."""
    call = Call(correlation_id(request))

    def audited(outcome: str, detail: str | None = None) -> BackgroundTask | None:
        call.finish()
        return BackgroundTask(_safe_audit, audit, call, outcome, detail) if audit else None

    try:
        check_content_type(request)
        check_soap_action(request, soap_action)
        body = await read_body(request, max_bytes)

        def work() -> Response:
            parsed = envelope.split(xmlsafe.parse(body, max_depth=max_depth))
            call.logical_address = parsed.logical_address
            return handler(parsed, call)

        response = await anyio.to_thread.run_sync(work, limiter=limiter(concurrent))
        response.headers[CORRELATION_HEADER] = call.correlation_id
        response.background = audited("ok")
        return response
    except ClientDisconnect:
        # The caller left before its body arrived (a timeout, a dropped connection, bad chunking that the HTTP
        # layer refused): ordinary on a network, so info and audited as aborted, not an internal error.
        log.info("client disconnected before the request body was read, correlation_id=%s", call.correlation_id)
        call.finish()
        if audit is not None:
            await run_in_threadpool(_safe_audit, audit, call, "aborted", "client disconnected while sending the request")
        return Response(status_code=400)  # nobody reads it; the connection is gone
    except SoapFault as fault:
        log.info("SOAP fault %s (%s) correlation_id=%s", fault.code, fault.faultcode, call.correlation_id)
        return fault_response(fault, call, audited(f"fault:{fault.code}", fault.en[:500]))
    except (OperationalError, DBAPIError):
        log.exception("database unavailable, correlation_id=%s", call.correlation_id)
        fault = server_fault(
            "DATABASE_UNAVAILABLE",
            "producentens databas kan inte nås just nu",
            f"the producer's database cannot be reached; try again later (correlation id {call.correlation_id})",
        )
        return fault_response(fault, call, audited(f"fault:{fault.code}"))
    except Exception:
        log.exception("internal error, correlation_id=%s", call.correlation_id)
        fault = server_fault(
            "INTERNAL_ERROR",
            "ett internt fel uppstod hos producenten",
            f"the producer failed to answer; the error is logged under correlation id {call.correlation_id}",
        )
        return fault_response(fault, call, audited(f"fault:{fault.code}"))


def _safe_audit(audit, call: Call, outcome: str, detail: str | None) -> None:
    try:
        audit(call, outcome, detail)
    except Exception:  # an audit failure must not turn into a second error for the caller
        log.exception("audit write failed, correlation_id=%s", call.correlation_id)
