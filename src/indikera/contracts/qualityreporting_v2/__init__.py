"""GetQualityIndicators 2 (riv:followup:groupoutcomes:qualityreporting 2.0) under RIVTA BP 2.1.

``schemas/`` holds the project's own WSDL and XSD files (same structure as the published contract);
``request`` reads a query, ``store_query`` finds the visible matching measurements, ``answer`` writes the
response streaming, ``service`` ties them together for the HTTP endpoint.
"""

from __future__ import annotations

from pathlib import Path

from ..wsdl import ContractFiles

RESPONDER_NS = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2"
CORE_NS = "urn:riv:followup:groupoutcomes:qualityreporting:2"
WSDL_NS = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicators:2:rivtabp21"
SOAP_ACTION = f"{RESPONDER_NS}:GetQualityIndicators"
REQUEST = f"{{{RESPONDER_NS}}}GetQualityIndicators"
RESPONSE = f"{{{RESPONDER_NS}}}GetQualityIndicatorsResponse"
PATH_SUFFIX = "/GetQualityIndicators/2/rivtabp21"  # major version and profile stay in the URL (BP 2.1 rule 19)

SCHEMAS = Path(__file__).with_name("schemas")
INTERACTION = SCHEMAS / "interactions" / "GetQualityIndicatorsInteraction"
RESPONDER_XSD = INTERACTION / "GetQualityIndicatorsResponder_2.0.xsd"
CORE_XSD = SCHEMAS / "core_components" / "groupoutcomes_qualityreporting_2.0.xsd"
REGISTRY_XSD = SCHEMAS / "core_components" / "itintegration_registry_1.0.xsd"
WSDL_FILE = INTERACTION / "GetQualityIndicatorsInteraction_2.0_RIVTABP21.wsdl"

FILES = ContractFiles(WSDL_FILE, (RESPONDER_XSD, CORE_XSD, REGISTRY_XSD))


def endpoint_path(base_path: str) -> str:
    return "/" + base_path.strip("/") + PATH_SUFFIX if base_path.strip("/") else PATH_SUFFIX
