"""Run the ASGI app with uvicorn: plain HTTP (behind a proxy) or HTTPS with verified client certificates.

With ``client_ca`` every connection must present a certificate that chains to it (TLS 1.2 or newer);
the verified certificate reaches the identity adapter through ``access.tls_protocol.TLSPeerProtocol``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from .access.tls_protocol import TLSPeerProtocol
from .app import create_app
from .context import AppContext


@dataclass(frozen=True)
class TLSOptions:
    cert: Path
    key: Path
    client_ca: Path | None = None  # when set, a verified client certificate is required


class TLSSetupError(ValueError):
    """The certificate, key or CA files cannot be used (message for the operator, Swedish first)."""


def ssl_context(tls: TLSOptions) -> ssl.SSLContext:
    """The server's TLS context: TLS ≥ 1.2, and with ``client_ca`` a required, verified client certificate."""
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
    return ctx


def uvicorn_options(tls: TLSOptions | None) -> dict[str, Any]:
    """The ``uvicorn.Config`` keyword arguments for ``tls`` (also used by the tests' real servers)."""
    if tls is None:
        return {"http": TLSPeerProtocol}
    context = ssl_context(tls)  # built now, so a bad file is reported before the server starts
    return {
        "http": TLSPeerProtocol,
        "ssl_certfile": str(tls.cert),  # uvicorn only labels the server https from this; the factory decides
        "ssl_context_factory": lambda _config, _default: context,
    }


def run(ctx: AppContext, host: str, port: int, tls: TLSOptions | None = None, log_level: str = "info") -> None:
    app = create_app(ctx=ctx)
    options = uvicorn_options(tls)
    # proxy_headers off: the client address must be the TCP peer, since trusted_proxies is checked against it.
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, **options)


__all__ = ["TLSOptions", "TLSSetupError", "run", "ssl_context", "uvicorn_options"]
