"""Settings of the local VP stand-in (``indikera platform serve``), with VP Camel's defaults.

A TOML file (``--config``) may hold any field at top level or under ``[platform]``; command-line options win.
Values are read and checked by the shared loader (config_loader): unknown names and wrong types are errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import config_loader
from ..rivta import AUTH_CERT_HEADER


@dataclass(frozen=True)
class PlatformSettings:
    tak_file: Path | None = None  # TAK export JSON (/tak-services/export/pv format)
    hsa_file: Path | None = None  # optional {child HSA-id: parent HSA-id} map for HSA-tree fallbacks
    instance_name: str = "NTjP"  # vp.instance.name: shown in brackets in every fault string
    instance_id: str = "INDIKERA-LOCAL-VP"  # vp.instance.id: the instance-id header, routing history
    host: str = "127.0.0.1"
    port: int = 8443
    # mTLS front: the platform's server certificate and the CA bundle consumers' certificates must chain to
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    # VP → producer: the platform's own (client) certificate and the CAs trusted for producers
    producer_cert: Path | None = None
    producer_key: Path | None = None
    producer_ca: Path | None = None
    producer_hostname_verification: bool = False  # producer.https.hostnameVerification (VP default false)
    read_timeout: float = 29.0  # default producertimeout (timeoutconfig.json)
    connect_timeout: float = 2.0
    retry_attempts: int = 1  # vp.producer.retry.attempts: only on connection (socket) errors
    retry_delay: float = 2.0  # vp.producer.retry.delay
    contract_timeouts: dict[str, float] = field(default_factory=dict)  # namespace → read timeout (s)
    propagate_correlation_id_https: bool = True  # NTjP Helm default (application default: false)
    original_consumer_allowed_senders: tuple[str, ...] = ()  # sender.id.allowed.list (empty: anyone)
    throw_vp013: bool = False  # throw.vp013.when.originalconsumer.not.allowed
    # plain HTTP route (behind a TLS-terminating proxy), off unless a port is given
    http_port: int | None = None
    ip_whitelist: tuple[str, ...] = ("127.0.0.1",)  # prefix match, as VP's ip.whitelist
    cert_header: str = AUTH_CERT_HEADER  # header carrying the consumer's PEM certificate on the HTTP route
    max_receive_bytes: int = 15_000_000  # vp.max.receive.length
    user_agent: str = "SKLTP VP/indikera-standin"

    def with_overrides(self, **changes: Any) -> "PlatformSettings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def timeout_for(self, namespace: str | None) -> float:
        return self.contract_timeouts.get(namespace or "", self.read_timeout)


def load(path: Path | None) -> PlatformSettings:
    """Defaults, then the TOML file (its ``[platform]`` table, else its top level)."""
    return config_loader.load(PlatformSettings, file=None if path is None else Path(path), table="platform")
