"""Settings of the local VP stand-in (``indikera platform serve``), with VP Camel's defaults.

A TOML file (``--config``) may hold any field at top level or under ``[platform]``; command-line options win.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PlatformSettings:
    tak_file: Path | None = None  # TAK export JSON (/tak-services/export/pv format)
    hsa_file: Path | None = None  # optional {child HSA-id: parent HSA-id} map for HSA-tree fallbacks
    instance_name: str = "NTjP"  # vp.instance.name: shown in brackets in every fault string
    instance_id: str = "INDIKERA-LOCAL-VP"  # vp.instance.id: x-vp-instance-id, routing history
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
    cert_header: str = "x-vp-auth-cert"  # header carrying the consumer's PEM certificate on the HTTP route
    max_receive_bytes: int = 15_000_000  # vp.max.receive.length
    user_agent: str = "SKLTP VP/indikera-standin"

    def with_overrides(self, **changes: Any) -> "PlatformSettings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def timeout_for(self, namespace: str | None) -> float:
        return self.contract_timeouts.get(namespace or "", self.read_timeout)


def load(path: Path | None) -> PlatformSettings:
    if path is None:
        return PlatformSettings()
    with Path(path).open("rb") as fh:
        data = tomllib.load(fh)
    flat = data.get("platform", data)
    known = {f.name: f for f in fields(PlatformSettings)}
    values: dict[str, Any] = {}
    for key, raw in flat.items():
        if key not in known:
            raise ValueError(f"{path}: okänd inställning {key!r} (unknown setting)")
        default = getattr(PlatformSettings(), key)
        if key.endswith(("_file", "_cert", "_key", "_ca")):
            values[key] = Path(raw)
        elif isinstance(default, tuple):
            values[key] = tuple(str(x) for x in (raw if isinstance(raw, list) else str(raw).split(",")))
        elif key == "contract_timeouts":
            values[key] = {str(k): float(v) for k, v in dict(raw).items()}
        elif isinstance(default, bool):
            values[key] = bool(raw)
        elif isinstance(default, float):
            values[key] = float(raw)
        else:
            values[key] = raw
    return PlatformSettings(**values)
