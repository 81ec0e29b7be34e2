"""Connection environments: local (the stand-in), SIT (test), QA (acceptance) and production.

Built-in values are what Inera publishes (Teknik Wiki: VP hosts, outbound IPs; Beställningsstöd platform ids;
SITHS CA names). What only the operator knows — HSA-ids of the function certificates, the producer URL, CA
bundle files, consumers — comes from a profiles file (TOML, ``[environments.<name>]``); production is left
empty on purpose so nothing reaches production by default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

CONTRACT_NAMESPACE = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2"
CONTRACT_DESCRIPTION = "GetQualityIndicators 2 (riv:followup:groupoutcomes:qualityreporting)"
VP_PATH = "/vp/followup/groupoutcomes/qualityreporting/GetQualityIndicators/2/rivtabp21"
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
        producer_url="https://127.0.0.1:8080/qualityreporting/GetQualityIndicators/2/rivtabp21",
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


def _coerce(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Environment)}
    if name not in kinds or name == "name":
        raise ValueError(f"okänd inställning {name!r} (unknown setting)")
    kind = str(kinds[name])
    if "tuple" in kind:
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(x).strip() for x in items if str(x).strip())
    if "Path" in kind:
        return Path(str(raw)) if str(raw) else None
    return str(raw)


def load(path: Path | None = None) -> dict[str, Environment]:
    """Built-in environments, overridden field by field by the profiles file (if any)."""
    envs = dict(BUILTIN)
    path = path or (Path(os.environ[PROFILES_ENV]) if os.environ.get(PROFILES_ENV) else None)
    if path is None and Path(DEFAULT_PROFILES_FILE).is_file():
        path = Path(DEFAULT_PROFILES_FILE)
    if path is None:
        return envs
    with Path(path).open("rb") as fh:
        data = tomllib.load(fh)
    for name, values in (data.get("environments") or {}).items():
        if not isinstance(values, dict):
            raise ValueError(f"{path}: [environments.{name}] ska vara en tabell (must be a table)")
        base = envs.get(name) or Environment(name, name, "", "")
        try:
            envs[name] = replace(base, **{k: _coerce(k, v) for k, v in values.items()})
        except ValueError as exc:
            raise ValueError(f"{path}: [environments.{name}]: {exc}") from None
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
producer_url = "https://indikera.test.example.se/qualityreporting/GetQualityIndicators/2/rivtabp21"
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
