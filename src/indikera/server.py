"""Run the ASGI app with uvicorn (plain HTTP, or HTTPS with client certificates)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import uvicorn

from .app import create_app
from .context import AppContext


@dataclass(frozen=True)
class TLSOptions:
    cert: Path
    key: Path
    client_ca: Path | None = None  # when set, a verified client certificate is required


def run(ctx: AppContext, host: str, port: int, tls: TLSOptions | None = None, log_level: str = "info") -> None:
    app = create_app(ctx=ctx)
    kwargs: dict = {}
    if tls is not None:
        import ssl

        kwargs.update(ssl_certfile=str(tls.cert), ssl_keyfile=str(tls.key))
        if tls.client_ca is not None:
            kwargs.update(ssl_ca_certs=str(tls.client_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, **kwargs)
