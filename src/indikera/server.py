"""Run the ASGI app with uvicorn: plain HTTP (behind a proxy) or HTTPS with verified client certificates.

With ``client_ca`` every connection must present a certificate that chains to it (TLS 1.2 or newer);
the verified certificate reaches the identity adapter through ``access.tls_protocol.TLSPeerProtocol``.
``serve`` runs it as ``http_limits.GuardedHTTPProtocol``: framing checks, read timeouts, a connection limit.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from .access.crl import CRLError, CRLFile
from .access.tls_protocol import TLSPeerProtocol
from .access_log import log_config
from .app import create_app
from .config import Settings
from .context import AppContext
from .http_limits import HTTPLimits, protocol_for


@dataclass(frozen=True)
class TLSOptions:
    cert: Path
    key: Path
    client_ca: Path | None = None  # when set, a verified client certificate is required
    crl: Path | None = None  # PEM CRLs checked in the handshake and reloaded when the file changes (needs client_ca)


class TLSSetupError(ValueError):
    """The certificate, key or CA files cannot be used (message for the operator, Swedish first)."""


def ssl_context(tls: TLSOptions) -> ssl.SSLContext:
    """The server's TLS context: TLS ≥ 1.2, with ``client_ca`` a required, verified client certificate, and
    with ``crl`` revoked ones refused (``access.crl``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    try:
        ctx.load_cert_chain(str(tls.cert), str(tls.key))
    except (OSError, ssl.SSLError) as exc:
        raise TLSSetupError(
            f"Kan inte läsa servercertifikatet/nyckeln ({tls.cert}, {tls.key}): {exc}. "
            f"(Cannot load the server certificate/key.)"
        ) from None
    if tls.client_ca is not None:
        try:
            ctx.load_verify_locations(cafile=str(tls.client_ca))
        except (OSError, ssl.SSLError) as exc:
            raise TLSSetupError(f"Kan inte läsa klient-CA {tls.client_ca}: {exc}. (Cannot load the client CA bundle.)") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    if tls.crl is not None:
        if tls.client_ca is None:
            raise TLSSetupError("--crl kräver --client-ca. (--crl needs --client-ca.)")
        crl = CRLFile(tls.crl, ctx)
        try:
            crl.load()
        except CRLError as exc:
            raise TLSSetupError(str(exc)) from None
        crl.attach()
    return ctx


def check_identity_sources(settings: Settings, tls: TLSOptions | None) -> None:
    """Refuse to serve mutual TLS with ``trusted_proxies`` set: one process is either the edge or behind a proxy.

    The connection's own certificate wins anyway (``access.resolve``), but a configuration that mixes both
    means someone believes a proxy stands in front of a port that faces callers directly (issue #14).
    """
    if tls is not None and tls.client_ca is not None and settings.trusted_proxies:
        raise TLSSetupError(
            "--client-ca (klientcertifikat direkt) och trusted_proxies (Client-Cert från en proxy) kan inte "
            "användas i samma process; ta bort trusted_proxies för den här processen (se docs/access.md). "
            "(--client-ca and trusted_proxies cannot be combined in one process: remove trusted_proxies for it.)"
        )


def uvicorn_options(tls: TLSOptions | None, limits: HTTPLimits | None = None) -> dict[str, Any]:
    """The ``uvicorn.Config`` keyword arguments for ``tls`` (also used by the tests' real servers).

    With ``limits`` the protocol also enforces HTTP framing, read timeouts and a connection limit
    (``http_limits``); without, it is the plain ``TLSPeerProtocol``."""
    protocol = TLSPeerProtocol if limits is None else protocol_for(limits)
    if tls is None:
        return {"http": protocol, "log_config": log_config()}
    context = ssl_context(tls)  # built now, so a bad file is reported before the server starts
    return {
        "http": protocol,
        "log_config": log_config(),  # the access log without secrets in query strings (access_log)
        "ssl_certfile": str(tls.cert),  # uvicorn only labels the server https from this; the factory decides
        "ssl_context_factory": lambda _config, _default: context,
    }


def run(ctx: AppContext, host: str, port: int, tls: TLSOptions | None = None, log_level: str = "info") -> None:
    check_identity_sources(ctx.settings, tls)
    app = create_app(ctx=ctx)
    options = uvicorn_options(tls, HTTPLimits.from_settings(ctx.settings))
    # proxy_headers off: the client address must be the TCP peer, since trusted_proxies is checked against it.
    # SIGTERM: stop accepting, let in-flight requests finish for at most http_shutdown_timeout seconds.
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                timeout_graceful_shutdown=ctx.settings.http_shutdown_timeout, **options)


__all__ = ["TLSOptions", "TLSSetupError", "check_identity_sources", "run", "ssl_context", "uvicorn_options"]
