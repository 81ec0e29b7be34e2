"""Configuration: defaults, then an optional TOML file, then ``INDIKERA_*`` environment variables.

Every field is documented in README.md ("Configuration"). Lists in the environment are comma-separated.
Reading and checking values is config_loader's (shared with the platform settings); an unknown
``INDIKERA_*`` variable is an error unless it belongs to something else (``OTHER_VARIABLES``).
Secrets (admin tokens, the cursor secret) are never logged or shown: ``Settings.__repr__`` masks them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from . import config_loader

ENV_PREFIX = "INDIKERA_"
DEFAULT_CONFIG_FILE = "indikera.toml"
SECRET_FIELDS = frozenset({"admin_tokens", "cursor_secret"})
# INDIKERA_* variables that are no setting: the config file, connection profiles, dev.py and the test suite.
OTHER_VARIABLES = ("INDIKERA_CONFIG", "INDIKERA_CONNECTION_PROFILES", "INDIKERA_VENV", "INDIKERA_TEST_*",
                   "INDIKERA_PROPERTY_*")


@dataclass(frozen=True)
class Settings:
    # --- store ---
    database_url: str = "sqlite:///indikera.db"
    # Optional read replica: the SOAP producer's, the open data's and the pages' reads (docs/production.md).
    # Empty: everything reads the primary. Writes, admin, imports and the audit always use database_url.
    database_read_url: str = ""
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
    # Answers built at once per process; more calls wait their turn. Building an answer is CPU work under the
    # GIL: 32 at once in 32 threads thrash, and gave half the one-at-a-time throughput (bench/README.md).
    soap_concurrent_answers: int = 2
    # The same for the open-data API (``/api/v1``): pages and files built at once per process (concurrency.py).
    opendata_concurrent_answers: int = 2
    # --- HTTP when `serve` faces the network (http_limits.py) ---
    http_header_timeout: float = 10.0  # seconds to receive a whole request head; then the connection is closed
    http_body_timeout: float = 30.0  # seconds from a request's head to the end of its body
    http_max_connections: int = 1000  # open connections; a connection beyond this is closed at once
    http_shutdown_timeout: float = 30.0  # seconds SIGTERM lets in-flight requests finish before closing them
    # --- import and masking ---
    default_display_threshold: int = 5  # denominator / population below this → missing/MSK
    # --- description review (docs/catalogue.md "Review") ---
    catalog_self_approval: bool = False  # true: the author may approve their own description (one-person registry)
    catalog_review_interval_days: int = 365  # next review date = approval + this, unless given
    import_max_line_bytes: int = 65_536
    import_workers: int = 0  # processes that check a large CSV file in parallel; 0: one per CPU, at most 4
    import_parallel_min_bytes: int = 16_000_000  # smaller files are checked in one process
    # PostgreSQL: the import's COPYs skip the per-row foreign-key triggers and every reference is checked as one
    # query at the end, in the same transaction (ingest/deferred_checks.py); only where the role may and no
    # trigger but indikera's own is on the tables. About halves a large import's time; false: per-row checks.
    import_set_based_checks: bool = True
    import_writer_process_min_rows: int = 20_000  # smaller imports write from the importer's own process
    import_xlsx_max_bytes: int = 4_000_000_000  # an XLSX file's parts together, uncompressed (checked before inflating)
    import_xlsx_max_ratio: float = 200.0  # uncompressed / compressed size of a part (XLSX writers give 3-20)
    import_spool_dir: str = ""  # where an import parks checked rows (a private directory per import); "": TMPDIR
    # --- access ---
    admin_tokens: tuple[str, ...] = ()  # "name:token" pairs; tokens are secrets
    admin_hsa_ids: tuple[str, ...] = ()  # client-certificate serialNumbers (HSA-ids) allowed to administer
    trusted_platform_hsa_ids: tuple[str, ...] = ()
    trusted_platform_fingerprints: tuple[str, ...] = ()  # SHA-256 of the platform's certificate (hex)
    trusted_proxies: tuple[str, ...] = ()  # addresses allowed to send the RFC 9440 Client-Cert header
    # A SOAP caller without an HSA-id (no certificate, none in it, no trusted platform's header):
    # "open" answers it with open data only; "refuse" answers it with a SOAP fault (as NTjP's VP002/VP013).
    unidentified_consumers: str = "open"
    # --- open data ---
    # Key that signs pagination cursors; empty: one generated once and kept in the database (settings table).
    cursor_secret: str = ""
    # --- open data / DCAT-AP-SE ---
    # Public base URL of absolute links (API paging, index, DCAT IRIs). Empty: from each request as the caller
    # reached the server (scheme, Host, port; forwarded headers only from trusted_proxies) — opendata/origin.py.
    base_url: str = ""
    publisher_name: str = "Registercentrum (demo)"
    publisher_org_number: str = "000000-0000"
    publisher_uri: str = ""  # empty: http://dataportal.se/organisation/SE<publisher_org_number>
    contact_email: str = "registercentrum@example.se"
    licence_uri: str = "http://creativecommons.org/licenses/by/4.0/"
    language: str = "sv"
    # Show the descriptions' authors (names and HSA-ids: personal data) in open data; off by default.
    opendata_show_authors: bool = False
    # DCAT-AP-SE 3.0.1 recommended properties (opendata/dcat.py, docs/opendata.md). The publisher type is a
    # name of the ADMS publisher-type vocabulary (http://purl.org/adms/publishertype/…); most quality
    # registries are run by a region, so RegionalAuthority.
    dcat_publisher_type: str = "RegionalAuthority"
    publisher_description: str = "Nationellt kvalitetsregister (demo) som publicerar kvalitetsindikatorer som öppna data."
    publisher_description_en: str = "National quality registry (demo) publishing quality indicators as open data."
    contact_phone: str = "+46 10 000 00 00"  # the contact point's telephone (vcard:hasTelephone); empty: left out
    contact_street_address: str = "Exempelgatan 1"  # vcard:hasAddress; all four empty: no address
    contact_postal_code: str = "000 00"
    contact_locality: str = "Exempelstad"
    contact_country: str = "Sverige"

    @property
    def logical_addresses(self) -> tuple[str, ...]:
        return self.accepted_logical_addresses or (self.reporting_system_hsa_id,)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            elif f.name in ("database_url", "database_read_url"):
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


def load_settings(config_file: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build settings from defaults, the TOML file (``INDIKERA_CONFIG`` or ./indikera.toml) and the environment.

    Raises ``config_loader.ConfigError`` (a ValueError) naming a bad or unknown setting and its source."""
    env = dict(os.environ if env is None else env)
    path = Path(config_file or env.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG_FILE)
    if not path.is_file():
        if config_file:
            raise FileNotFoundError(f"konfigurationsfilen {path} finns inte. (configuration file {path} does not exist.)")
        path = None
    return config_loader.load(Settings, file=path, table="indikera", env=env, prefix=ENV_PREFIX,
                              ignore_env=OTHER_VARIABLES)


__all__ = ["Settings", "load_settings", "redact_url"]
