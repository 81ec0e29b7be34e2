"""Connection environments: local (the stand-in), SIT (test), QA (acceptance) and production.

Built-in values are what Inera publishes (Teknik Wiki: VP hosts, outbound IPs; Beställningsstöd platform ids;
SITHS CA names). What only the operator knows — HSA-ids of the function certificates, the producer URL, CA
bundle files, consumers — comes from a profiles file (TOML, ``[environments.<name>]``); production is left
empty on purpose so nothing reaches production by default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from .. import config_loader
from ..rivta import QUALITYREPORTING_DEFAULT_BASE, soap_path
from ..rivta import QUALITYREPORTING_RESPONDER_NS as CONTRACT_NAMESPACE
from ..rivta import VP_QUALITYREPORTING_PATH as VP_PATH

CONTRACT_DESCRIPTION = "GetQualityIndicators 2 (riv:followup:groupoutcomes:qualityreporting)"
PROFILES_ENV = "INDIKERA_CONNECTION_PROFILES"
DEFAULT_PROFILES_FILE = "indikera-connection.toml"


@dataclass(frozen=True)
class Environment:
    name: str
    title: str
    plattform: str  # Beställningsstöd platform id (order JSON "plattform")
    vp_url: str  # where consumers call the platform for this contract
    tak_api: str = ""
    outbound_ips: tuple[str, ...] = ()  # NTjP's source addresses: open the producer's firewall for these
    ca_names: tuple[str, ...] = ()  # the SITHS chain function certificates here must have
    ca_bundle: Path | None = None  # CA file to verify certificates of this environment
    producer_hsa_id: str = ""  # HSA-id in the producer's function certificate (serialNumber)
    producer_description: str = ""
    producer_url: str = ""  # the URL NTjP calls (TAK anropsadress)
    logical_addresses: tuple[str, ...] = ()  # default: the producer HSA-id
    consumers: tuple[str, ...] = ()  # consumer HSA-ids to grant anropsbehörighet (e.g. Vården i siffror)
    cert: Path | None = None
    key: Path | None = None
    reports_dir: Path | None = None  # where `conformance run --out` wrote the self-test reports

    @property
    def effective_logical_addresses(self) -> tuple[str, ...]:
        return self.logical_addresses or ((self.producer_hsa_id,) if self.producer_hsa_id else ())

    def missing_for_order(self) -> list[str]:
        missing = []
        if not self.producer_hsa_id:
            missing.append("producer_hsa_id")
        if not self.producer_url:
            missing.append("producer_url")
        if not self.consumers:
            missing.append("consumers")
        return missing


SITHS_TEST = ("TEST SITHS e-id Root CA v2", "TEST SITHS e-id Function CA v1")
SITHS_PROD = ("SITHS e-id Root CA v2", "SITHS e-id Function CA v1")

BUILTIN: dict[str, Environment] = {
    "local": Environment(
        "local", "Lokal (indikera platform)", "LOKAL", "https://127.0.0.1:8443" + VP_PATH,
        producer_hsa_id="SE2321000000-INDIKERA", producer_description="indikera (lokal)",
        producer_url="https://127.0.0.1:8080" + soap_path(QUALITYREPORTING_DEFAULT_BASE),
        consumers=("TSTNMT2321000156-B02",), outbound_ips=("127.0.0.1",),
    ),
    "sit": Environment(
        "sit", "SIT (test.esb.ntjp.se)", "NTJP-TEST", "https://test.esb.ntjp.se" + VP_PATH,
        tak_api="https://test.api.ntjp.se", outbound_ips=("164.40.178.118",), ca_names=SITHS_TEST,
    ),
    "qa": Environment(
        "qa", "QA (qa.esb.ntjp.se)", "NTJP-QA", "https://qa.esb.ntjp.se" + VP_PATH,
        tak_api="https://qa.api.ntjp.se", outbound_ips=("164.40.178.119",), ca_names=SITHS_TEST,
    ),
    "production": Environment(
        "production", "Produktion (esb.ntjp.se)", "NTJP-PROD", "https://esb.ntjp.se" + VP_PATH,
        tak_api="https://api.ntjp.se", outbound_ips=("164.40.178.120",), ca_names=SITHS_PROD,
    ),
}


def load(path: Path | None = None) -> dict[str, Environment]:
    """Built-in environments, overridden field by field by the profiles file (if any), read by the shared
    loader (config_loader): unknown names and wrong types are errors naming the file and the table."""
    envs = dict(BUILTIN)
    path = path or (Path(os.environ[PROFILES_ENV]) if os.environ.get(PROFILES_ENV) else None)
    if path is None and Path(DEFAULT_PROFILES_FILE).is_file():
        path = Path(DEFAULT_PROFILES_FILE)
    if path is None:
        return envs
    data, _ = config_loader.read_toml(Path(path))
    tables = data.get("environments") or {}
    if not isinstance(tables, dict):
        raise config_loader.ConfigError(f"filen {path}: [environments] ska vara en tabell",
                                        f"file {path}: [environments] must be a table")
    for name, values in tables.items():
        source = config_loader.Source.file(path, f"environments.{name}")
        if not isinstance(values, dict):
            raise config_loader.ConfigError(f"{source.sv} ska vara en tabell", f"{source.en} must be a table")
        base = envs.get(name) or Environment(name, name, "", "")
        envs[name] = replace(base, **config_loader.from_mapping(Environment, values, source, exclude=("name",)))
    return envs


def get(name: str, path: Path | None = None) -> Environment:
    envs = load(path)
    key = {"test": "sit", "prod": "production", "produktion": "production"}.get(name.lower(), name.lower())
    if key not in envs:
        raise KeyError(f"okänd miljö {name!r}; finns: {', '.join(envs)} (unknown environment)")
    return envs[key]


EXAMPLE = f"""# indikera connection profiles ({DEFAULT_PROFILES_FILE} or ${PROFILES_ENV})
[environments.sit]
producer_hsa_id = "TSTXXXXXXXXXX-XXXX"     # serialNumber of the TEST SITHS function certificate
producer_url = "https://indikera.test.example.se{soap_path(QUALITYREPORTING_DEFAULT_BASE)}"
consumers = ["TSTNMT2321000156-B02"]        # consumers to grant (ask Inera / the consumer for their HSA-ids)
ca_bundle = "certs/siths-test-ca.pem"
cert = "certs/indikera-test.crt"
key = "certs/indikera-test.key"
reports_dir = "reports/sit"

[environments.production]                   # fill in when the second förstudie is approved
producer_hsa_id = ""
producer_url = ""
consumers = []
"""
