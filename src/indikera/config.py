"""Configuration: defaults, then an optional TOML file, then ``INDIKERA_*`` environment variables.

Every field is documented in README.md ("Configuration"). Lists in the environment are comma-separated.
Secrets (admin tokens) are never logged or shown: ``Settings.__repr__`` masks them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "INDIKERA_"
DEFAULT_CONFIG_FILE = "indikera.toml"
SECRET_FIELDS = frozenset({"admin_tokens"})


@dataclass(frozen=True)
class Settings:
    # --- store ---
    database_url: str = "sqlite:///indikera.db"
    # --- who we are (answers' reportingSystem / reportingOrganization) ---
    reporting_system_hsa_id: str = "SE2321000000-INDIKERA"
    reporting_system_name: str = "indikera"
    reporting_organization_hsa_id: str = "SE2321000000-REGISTER"
    reporting_organization_name: str = "Registercentrum (demo)"
    # Logical addresses this producer answers for (case-insensitive). Empty: the reporting system's HSA-id.
    accepted_logical_addresses: tuple[str, ...] = ()
    # --- SOAP producer ---
    soap_base_path: str = "/qualityreporting"
    soap_max_request_bytes: int = 1_000_000
    soap_max_depth: int = 64
    soap_max_response_bytes: int = 15_000_000
    # --- import and masking ---
    default_display_threshold: int = 5  # denominator / population below this → missing/MSK
    import_max_line_bytes: int = 65_536
    import_workers: int = 0  # processes that check a large CSV file in parallel; 0: one per CPU, at most 4
    import_parallel_min_bytes: int = 16_000_000  # smaller files are checked in one process
    import_writer_process_min_rows: int = 20_000  # smaller imports write from the importer's own process
    # --- access ---
    admin_tokens: tuple[str, ...] = ()  # "name:token" pairs; tokens are secrets
    admin_hsa_ids: tuple[str, ...] = ()  # client-certificate serialNumbers (HSA-ids) allowed to administer
    trusted_platform_hsa_ids: tuple[str, ...] = ()
    trusted_platform_fingerprints: tuple[str, ...] = ()  # SHA-256 of the platform's certificate (hex)
    trusted_proxies: tuple[str, ...] = ()  # addresses allowed to send the RFC 9440 Client-Cert header
    # --- open data / DCAT-AP-SE ---
    base_url: str = "http://127.0.0.1:8080"
    publisher_name: str = "Registercentrum (demo)"
    publisher_org_number: str = "000000-0000"
    publisher_uri: str = "http://127.0.0.1:8080/publisher"
    contact_email: str = "registercentrum@example.se"
    licence_uri: str = "http://creativecommons.org/licenses/by/4.0/"
    language: str = "sv"

    @property
    def logical_addresses(self) -> tuple[str, ...]:
        return self.accepted_logical_addresses or (self.reporting_system_hsa_id,)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            elif f.name == "database_url":
                value = redact_url(value)
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def redact_url(url: str) -> str:
    """Hide a password in a database URL (``user:secret@host`` → ``user:***@host``)."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"configuration {name}: {raw!r} is not a whole number") from None
    if isinstance(default, tuple):
        if isinstance(raw, (list, tuple)):
            return tuple(str(x).strip() for x in raw if str(x).strip())
        return tuple(x.strip() for x in str(raw).split(",") if x.strip())
    return str(raw)


def load_settings(config_file: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build settings from defaults, the TOML file (``INDIKERA_CONFIG`` or ./indikera.toml) and the environment."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    defaults = {f.name: f.default for f in fields(Settings)}
    path = Path(config_file or env.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG_FILE)
    if path.is_file():
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        flat = data.get("indikera", data)
        for key, raw in flat.items():
            if key not in defaults:
                raise ValueError(f"{path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, defaults[key])
    elif config_file:
        raise FileNotFoundError(f"configuration file {path} does not exist")
    for name, default in defaults.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(name, raw, default)
    return Settings(**values)


__all__ = ["Settings", "load_settings", "redact_url"]
