"""The public base URL that absolute links (``next``, ``Link``, the index, DCAT IRIs) are built on.

A configured ``base_url`` wins. Without one the URL follows the server as the caller reached it: scheme,
host and port of the request (``serve --port 9000`` links to ``:9000``, issue #15). ``Forwarded`` (RFC 7239)
and ``X-Forwarded-Proto/Host/Port`` count only from a ``trusted_proxies`` address, as the Client-Cert header
does (access.resolve): anyone else could point every link of an answer at a host of their choosing. A Host
that is not a plain ``host[:port]`` is not copied into links; the address the server listens on is used.
"""

from __future__ import annotations

import re

from starlette.requests import Request

from ..access.resolve import trust_of
from ..config import Settings

API_PATH = "/api/v1"
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")
_FORWARDED_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*("[^"]*"|[^;,]*)')


def _forwarded(value: str) -> dict[str, str]:
    """The first element of a ``Forwarded`` header (the one the nearest trusted proxy saw from the client)."""
    first = value.split(",", 1)[0]
    return {m[1].lower(): m[2].strip().strip('"') for m in _FORWARDED_PAIR.finditer(first)}


def _server_host(request: Request) -> str:
    server = request.scope.get("server")
    if not server:
        return "127.0.0.1"
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in str(host) else str(host)
    return host if port is None else f"{host}:{port}"


def base_url(settings: Settings, request: Request) -> str:
    """``scheme://host[:port]`` (no trailing slash) for absolute links in the answer to ``request``."""
    configured = (settings.base_url or "").strip().rstrip("/")
    if configured:
        return configured
    scheme, host = request.url.scheme, request.headers.get("host")
    client = request.client.host if request.client else None
    if trust_of(settings).is_proxy(client):
        fwd = _forwarded(request.headers.get("forwarded", "")[:1000])
        proto = fwd.get("proto") or request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        fhost = fwd.get("host") or request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        port = request.headers.get("x-forwarded-port", "").split(",")[0].strip()
        if proto.lower() in ("http", "https"):
            scheme = proto.lower()
        if fhost:
            host = fhost
        if port.isdigit() and host and _HOST.match(host) and not re.search(r":[0-9]+$", host):
            host = f"{host}:{port}"
    if scheme not in ("http", "https"):
        scheme = "https" if scheme == "wss" else "http"
    if not host or len(host) > 300 or not _HOST.match(host):
        host = _server_host(request)
    # The default port is left out, as browsers and curl write the Host header.
    for default, port in (("http", ":80"), ("https", ":443")):
        if scheme == default and host.endswith(port):
            host = host[: -len(port)]
    return f"{scheme}://{host.lower()}"
