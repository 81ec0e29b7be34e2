"""HTTP/1.1 framing and slow-client limits for ``indikera serve`` when it faces the network itself (issue #14).

uvicorn (with h11) processes a request that carries both ``Content-Length`` and ``Transfer-Encoding`` and
keeps the connection, has no read timeout for a request's head or body, and no limit on open connections.
``GuardedHTTPProtocol`` (the protocol ``indikera.server`` runs, a ``TLSPeerProtocol``) adds them:

* both framing headers → 400 and the connection closed (RFC 9112 §6.1: "MUST close the connection");
* a request head not complete within ``header_timeout`` seconds of the connection (or of the previous
  answer on a kept-alive one) → connection closed: slowloris clients trickling header bytes;
* a request body not complete within ``body_timeout`` seconds of its head → connection closed; the app
  sees a disconnect (audited as ``aborted`` by the SOAP endpoint);
* more than ``max_connections`` open connections → the new one is closed at once.

Closing is logged at info: on a network these are ordinary events, not errors of ours.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

from .access.tls_protocol import TLSPeerProtocol

log = logging.getLogger("indikera.http")

_BAD_FRAMING_BODY = (
    "Felaktig HTTP-inramning: både Content-Length och Transfer-Encoding. "
    "(Bad HTTP framing: both Content-Length and Transfer-Encoding.)\n"
).encode("utf-8")


@dataclass(frozen=True)
class HTTPLimits:
    header_timeout: float = 10.0  # seconds to receive a whole request head
    body_timeout: float = 30.0  # seconds from a request's head to the end of its body
    max_connections: int = 1000  # open connections; more are closed at once

    @classmethod
    def from_settings(cls, settings: Any) -> "HTTPLimits":
        return cls(settings.http_header_timeout, settings.http_body_timeout, settings.http_max_connections)


def reject_ambiguous_framing(app):
    """Wrap ``app``: a request with both Content-Length and Transfer-Encoding gets 400 and ``Connection: close``
    (the HTTP layer then closes the connection), and never reaches ``app``."""

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            names = {name.lower() for name, _ in scope.get("headers") or ()}
            if b"content-length" in names and b"transfer-encoding" in names:
                client = scope.get("client")
                log.info("refused a request with both Content-Length and Transfer-Encoding from %s", client[0] if client else "?")
                await send({"type": "http.response.start", "status": 400, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": _BAD_FRAMING_BODY})
                return
        await app(scope, receive, send)

    return guarded


def _no_delay(transport) -> None:
    """TCP_NODELAY on the connection. asyncio sets it only on sockets whose ``proto`` is IPPROTO_TCP, and the
    listening socket that uvicorn's supervisor binds for ``--workers`` has proto 0: there, a small response
    written in two parts (head, body) waited for the client's delayed ACK, 40 ms per checksum-only answer."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # a socket that does not take it (already closed): nothing to speed up
            pass


class GuardedHTTPProtocol(TLSPeerProtocol):  # type: ignore[misc, valid-type]
    """Per connection: one timer for the awaited request head, one for the body being received."""

    limits: HTTPLimits = HTTPLimits()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)
        self._head_timer = self._body_timer = None
        self._body_cycle = None
        if len(self.connections) > self.limits.max_connections:
            log.info("closing a new connection from %s: %d open connections (limit %d)",
                     (self.client or ("?",))[0], len(self.connections) - 1, self.limits.max_connections)
            transport.close()
            return
        self.app = reject_ambiguous_framing(self.app)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start a pipelined request
        self._watch()

    def connection_lost(self, exc) -> None:
        self._head_timer = _cancel(getattr(self, "_head_timer", None))
        self._body_timer = _cancel(getattr(self, "_body_timer", None))
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Re-arm the timers for what the connection is waiting for now: a head, a body, or nothing (the app works)."""
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete:  # waiting for the (next) request head
            self._body_timer = _cancel(self._body_timer)
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_expired)
            return
        self._head_timer = _cancel(self._head_timer)
        if cycle.more_body and self._body_cycle is not cycle:
            _cancel(self._body_timer)
            self._body_cycle = cycle
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_expired, cycle)
        elif not cycle.more_body:
            self._body_timer = _cancel(self._body_timer)

    def _head_expired(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            log.info("closing connection from %s: no complete request head within %s s",
                     (self.client or ("?",))[0], self.limits.header_timeout)
            self.transport.close()

    def _body_expired(self, cycle) -> None:
        self._body_timer = None
        if cycle is self.cycle and cycle.more_body and not cycle.response_complete and not self.transport.is_closing():
            log.info("closing connection from %s: request body not complete within %s s",
                     (self.client or ("?",))[0], self.limits.body_timeout)
            self.transport.close()


def _cancel(timer) -> None:
    if timer is not None:
        timer.cancel()
    return None


def protocol_for(limits: HTTPLimits) -> type:
    """A ``GuardedHTTPProtocol`` class with ``limits`` (uvicorn builds the protocol from a class)."""
    return type("GuardedHTTPProtocol", (GuardedHTTPProtocol,), {"limits": limits})


__all__ = ["GuardedHTTPProtocol", "HTTPLimits", "protocol_for", "reject_ambiguous_framing"]
