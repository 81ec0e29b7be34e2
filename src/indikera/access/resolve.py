"""Decide who is asking from what the connection proves. One rule for all three sources:

1. **Transport certificate.** The verified TLS peer certificate (our own handshake, ASGI TLS extension)
   always wins. Only on a connection *without* one, and only when the TCP peer is a configured trusted
   proxy, the RFC 9440 ``Client-Cert`` header counts. A ``Client-Cert`` header anywhere else is ignored
   (and logged): anyone can type a header, and certificates are public.
2. **Behind NTjP.** When that certificate is a trusted platform's (HSA-id or SHA-256 fingerprint), the
   consumer is the ``x-rivta-original-serviceconsumer-hsaid`` header the platform sets.
3. **Direct.** Otherwise the consumer is the certificate subject's serialNumber (the SITHS HSA-id); the
   original-consumer header is ignored, since only a platform may speak for someone else.

No usable certificate gives the anonymous identity (open data only) with the reason in ``Identity.reason``.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from functools import lru_cache

from starlette.requests import HTTPConnection

from ..config import Settings
from ..rivta import CORRELATION_HEADER, ORIGINAL_CONSUMER_HEADER
from .certs import CertificateError, PeerCertificate, normalise_fingerprint, normalise_hsa_id, parse_client_cert_header
from .identity import ANONYMOUS, SCOPE_KEY, Identity

log = logging.getLogger("indikera.access")

CLIENT_CERT_HEADER = "client-cert"
UNIDENTIFIED_POLICIES = ("open", "refuse")  # unidentified_consumers: open data only, or a SOAP fault


@dataclass(frozen=True)
class Trust:
    """The parts of the settings identity depends on, parsed once."""

    platform_hsa_ids: frozenset[str]
    platform_fingerprints: frozenset[str]
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    refuse_unidentified: bool = False  # unidentified_consumers = "refuse": the SOAP producer faults them
    seen: dict[str, bool] = field(default_factory=dict, compare=False, hash=False, repr=False)  # host → is a proxy

    def is_platform(self, cert: PeerCertificate) -> bool:
        return (cert.hsa_id is not None and cert.hsa_id in self.platform_hsa_ids) or cert.fingerprint in self.platform_fingerprints

    def is_proxy(self, host: str | None) -> bool:
        # Remembered per address: parsing it dominated the per-request cost (bench/access_identity.py).
        if not host or not self.proxies:
            return False
        known = self.seen.get(host)
        if known is None:
            known = self.seen[host] = _in_networks(self.proxies, host)
            if len(self.seen) > 4096:  # many distinct callers: start over rather than grow
                self.seen.clear()
        return known


def _in_networks(networks: tuple, host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(addr in net for net in networks)


@lru_cache(maxsize=32)
def trust_of(settings: Settings) -> Trust:
    proxies = []
    for entry in settings.trusted_proxies:
        try:
            proxies.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or network") from None
    policy = settings.unidentified_consumers.strip().lower()
    if policy not in UNIDENTIFIED_POLICIES:
        raise ValueError(f"unidentified_consumers: {settings.unidentified_consumers!r} is not one of {', '.join(UNIDENTIFIED_POLICIES)}")
    return Trust(
        refuse_unidentified=policy == "refuse",
        platform_hsa_ids=frozenset(h.strip().upper() for h in settings.trusted_platform_hsa_ids),
        platform_fingerprints=frozenset(normalise_fingerprint(f) for f in settings.trusted_platform_fingerprints),
        proxies=tuple(proxies),
    )


@lru_cache(maxsize=512)
def _cert_from_pem(pem: str) -> PeerCertificate:
    return PeerCertificate.from_pem(pem)


@lru_cache(maxsize=512)
def _cert_from_header(value: str) -> PeerCertificate:
    return PeerCertificate.from_der(parse_client_cert_header(value))


def tls_peer_pem(scope: dict) -> str | None:
    """The verified client certificate from the ASGI TLS extension (``client_cert_chain[0]``), if any."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return chain[0] if chain else None


def _anonymous(reason: str, *, level: int = logging.INFO, platform_id: str | None = None) -> Identity:
    """No consumer; ``platform_id`` when a trusted platform called without a usable original consumer."""
    log.log(level, "anonymous caller: %s", reason)
    return Identity(platform_id=platform_id, reason=reason)


def decide(
    settings: Settings,
    *,
    tls_pem: str | None,
    client_host: str | None,
    client_cert_header: str | None,
    original_consumer: str | None,
) -> Identity:
    trust = trust_of(settings)
    via = "tls"
    cert: PeerCertificate | None = None
    from_proxy = trust.is_proxy(client_host)
    ignored_header = False
    if tls_pem is not None:
        # The certificate this connection proved always wins: a Client-Cert header is only text the caller
        # typed, and certificates are public (issue #14: a consumer became admin by sending one).
        try:
            cert = _cert_from_pem(tls_pem)
        except CertificateError as exc:  # cannot happen for a certificate OpenSSL verified; be safe anyway
            return _anonymous(f"TLS client certificate unreadable ({exc})", level=logging.WARNING)
        if client_cert_header is not None:
            ignored_header = True
            log.warning("Client-Cert header from %s ignored: the connection has its own TLS client certificate (%s)",
                        client_host or "unknown address", cert.subject)
    elif from_proxy and client_cert_header is not None:
        via = "proxy"
        try:
            cert = _cert_from_header(client_cert_header)
        except CertificateError as exc:
            return _anonymous(f"trusted proxy {client_host} sent an unreadable Client-Cert header ({exc})", level=logging.WARNING)
    elif client_cert_header is not None:
        return _anonymous(f"Client-Cert header from {client_host or 'unknown address'} ignored: not a trusted proxy", level=logging.WARNING)
    elif from_proxy:
        return _anonymous(f"trusted proxy {client_host} forwarded no Client-Cert header", level=logging.DEBUG)
    else:
        return _anonymous("no client certificate", level=logging.DEBUG)

    if trust.is_platform(cert):
        platform_id = cert.hsa_id or cert.fingerprint
        if original_consumer is None or not original_consumer.strip():
            if cert.hsa_id is None:
                return _anonymous(f"platform {platform_id} sent no {ORIGINAL_CONSUMER_HEADER}", platform_id=platform_id)
            log.info("platform %s sent no %s; the platform itself is the consumer", platform_id, ORIGINAL_CONSUMER_HEADER)
            return Identity(cert.hsa_id, "platform", platform_id, f"platform {platform_id} without original-consumer header ({via})")
        consumer = normalise_hsa_id(original_consumer[:200])
        if consumer is None:
            return _anonymous(f"platform {platform_id} sent a malformed {ORIGINAL_CONSUMER_HEADER}", level=logging.WARNING,
                              platform_id=platform_id)
        return Identity(consumer, "platform", platform_id, f"original consumer via platform {platform_id} ({via})")

    if original_consumer is not None:
        log.warning(
            "%s from %s ignored: not a trusted platform (subject %s)", ORIGINAL_CONSUMER_HEADER, cert.hsa_id or cert.fingerprint, cert.subject
        )
    if cert.hsa_id is None:
        return _anonymous(f"client certificate without an HSA-id in subject serialNumber ({cert.subject})", level=logging.WARNING)
    channel = "proxy" if via == "proxy" else "direct"
    reason = f"client certificate serialNumber ({via})"
    if original_consumer is not None:
        reason += f"; {ORIGINAL_CONSUMER_HEADER} ignored (not a trusted platform)"
    if ignored_header:
        reason += "; Client-Cert header ignored (the connection has its own certificate)"
    return Identity(cert.hsa_id, channel, None, reason)


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def identity_for_scope(settings: Settings, scope: dict) -> Identity:
    client = scope.get("client")
    return decide(
        settings,
        tls_pem=tls_peer_pem(scope),
        client_host=client[0] if client else None,
        client_cert_header=_header(scope, CLIENT_CERT_HEADER.encode()),
        original_consumer=_header(scope, ORIGINAL_CONSUMER_HEADER.encode()),
    )


def identity_of(conn: HTTPConnection) -> Identity:
    """The identity the access middleware decided for this request; what every channel reads.

    Should a middleware mounted outside the access middleware ask first, the identity is decided here
    (same rule) and cached in the scope, so the answer never depends on mount order. Without an app
    context (no settings) every caller is anonymous.
    """
    found = conn.scope.get(SCOPE_KEY)
    if found is not None:
        return found
    app = conn.scope.get("app")
    ctx = getattr(getattr(app, "state", None), "ctx", None)
    if ctx is None:
        return ANONYMOUS
    identity = identity_for_scope(ctx.settings, conn.scope)
    conn.scope[SCOPE_KEY] = identity
    return identity


__all__ = [
    "CLIENT_CERT_HEADER",
    "CORRELATION_HEADER",
    "ORIGINAL_CONSUMER_HEADER",
    "Trust",
    "UNIDENTIFIED_POLICIES",
    "decide",
    "identity_for_scope",
    "identity_of",
    "tls_peer_pem",
    "trust_of",
]
