"""The socket layer of the VP stand-in: a small threaded HTTP/1.1 server with an mTLS front.

Why not uvicorn: VP identifies the consumer by its client certificate's subject, and uvicorn does not hand
the peer certificate to the application. A proxy needs little of HTTP, so a ``http.server`` handler over an
``ssl`` socket (handshake in the worker thread, so a slow client never blocks ``accept``) is enough and keeps
the certificate in plain sight. An optional plain-HTTP port plays VP's HTTP route behind a TLS proxy.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .faults import VPFault
from .forward import ProducerClient
from .settings import PlatformSettings
from .tak import TakSource
from .vp import InboundCall, VirtualPlatform

log = logging.getLogger("indikera.platform")
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0


def server_ssl_context(cert: Path, key: Path, client_ca: Path | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    if client_ca is not None:
        ctx.load_verify_locations(cafile=str(client_ca))
    # VP's Netty endpoint has needClientAuth=true: no certificate, no TLS session.
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    server_version = "indikera-vp"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(IDLE_TIMEOUT)

    def log_message(self, fmt: str, *args) -> None:  # route through logging, never stderr noise
        log.debug("%s " + fmt, self.client_address[0], *args)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        # VP answers ?wsdl/?xsd from its own store; the stand-in has none and routes no GETs.
        self._send(404, b"Not found: the VP stand-in routes SOAP POSTs only.\n", {"content-type": "text/plain; charset=utf-8"})

    def do_POST(self) -> None:  # noqa: N802
        server: VPServer = self.server  # type: ignore[assignment]
        platform = server.platform
        try:
            body = self._read_body(platform.settings.max_receive_bytes)
        except _BodyError as exc:
            reply_body = VPFault("VP015", str(exc)).envelope(platform.settings.instance_name)
            self.close_connection = True
            self._send(500, reply_body, {"content-type": "text/xml;charset=UTF-8"})
            return
        der = None
        if server.tls:
            der = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        call = InboundCall(body=body, headers={k.lower(): v for k, v in self.headers.items()},
                           peer_ip=self.client_address[0], tls=server.tls, peer_cert_der=der)
        reply = platform.process(call)
        self._send(reply.status, reply.body, reply.headers)

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    raise _BodyError("Malformed chunked body") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > limit:
                    raise _BodyError(f"Message larger than {limit} bytes")
                out += self.rfile.read(size)
                self.rfile.readline(8)
        try:
            length = int(self.headers.get("content-length", "0"))
        except ValueError:
            raise _BodyError("Invalid Content-Length") from None
        if length < 0 or length > limit:
            raise _BodyError(f"Message larger than {limit} bytes")
        return self.rfile.read(length)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)


class _BodyError(ValueError):
    pass


class VPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], platform: VirtualPlatform, ssl_context: ssl.SSLContext | None):
        self.platform = platform
        self.ssl_context = ssl_context
        self.tls = ssl_context is not None
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address) -> None:  # runs in the worker thread
        if self.ssl_context is not None:
            request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                log.info("TLS handshake with %s failed: %s", client_address[0], exc)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)


def build(settings: PlatformSettings) -> tuple[VirtualPlatform, TakSource]:
    if settings.tak_file is None:
        raise ValueError("en TAK-fil krävs (--tak FILE) (a TAK export file is required)")
    source = TakSource(settings.tak_file, settings.hsa_file)
    return VirtualPlatform(settings, source.current, ProducerClient(settings)), source


def servers(settings: PlatformSettings, platform: VirtualPlatform) -> list[VPServer]:
    out = []
    if settings.tls_cert is not None:
        ctx = server_ssl_context(settings.tls_cert, settings.tls_key or settings.tls_cert, settings.client_ca)
        out.append(VPServer((settings.host, settings.port), platform, ctx))
    if settings.http_port is not None:
        out.append(VPServer((settings.host, settings.http_port), platform, None))
    if not out:
        raise ValueError("ange --tls-cert/--tls-key (mTLS) eller --http-port (give a TLS certificate or an HTTP port)")
    return out


@contextmanager
def running(settings: PlatformSettings) -> Iterator[tuple[str, VirtualPlatform]]:
    """Serve in background threads until the block ends; yields the base URL of the first listener."""
    platform, _ = build(settings)
    srvs = servers(settings, platform)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True) for s in srvs]
    for t in threads:
        t.start()
    first = srvs[0]
    scheme = "https" if first.tls else "http"
    try:
        yield f"{scheme}://{settings.host}:{first.server_address[1]}", platform
    finally:
        for s in srvs:
            s.shutdown()
            s.server_close()
        platform.producer.close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
