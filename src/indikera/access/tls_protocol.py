"""A uvicorn HTTP protocol that hands the verified TLS client certificate to the app.

uvicorn does not put the peer certificate into the ASGI scope. This protocol reads it once per
connection (asyncio calls ``connection_made`` after the handshake, so OpenSSL has verified it against
``--client-ca`` by then) and adds the ASGI TLS extension, ``scope["extensions"]["tls"]``, to every
request on that connection: ``client_cert_chain`` holds the leaf as PEM, as the extension specifies.
Use it with ``uvicorn.Config(http=TLSPeerProtocol)``; ``indikera.server`` does.
"""

from __future__ import annotations

import ssl
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> dict[str, Any]:
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,  # the extension wants the IANA number, which Python does not expose
        "cipher_name": cipher[0] if cipher else None,
    }


def with_tls(app, extension: dict[str, Any]):
    """Wrap ``app`` so each HTTP/WebSocket scope carries ``extension`` as its TLS extension."""

    async def app_with_tls(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), "tls": extension}}
        await app(scope, receive, send)

    return app_with_tls


class TLSPeerProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.app = with_tls(self.app, tls_extension(ssl_object))


__all__ = ["TLSPeerProtocol", "tls_extension", "with_tls"]
