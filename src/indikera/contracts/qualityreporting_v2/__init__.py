"""GetQualityIndicators 2 (riv:followup:groupoutcomes:qualityreporting 2.0) under RIVTA BP 2.1.

``schemas/`` holds the project's own WSDL and XSD files (same structure as the published contract);
``request`` reads a query, ``store_query`` finds the visible matching measurements, ``answer`` writes the
response streaming, ``service`` ties them together for the HTTP endpoint.
"""

from __future__ import annotations

from pathlib import Path

from ...rivta import QUALITYREPORTING_CORE_NS as CORE_NS
from ...rivta import QUALITYREPORTING_RESPONDER_NS as RESPONDER_NS
from ...rivta import soap_path
from ..wsdl import ContractFiles

SOAP_ACTION = f"{RESPONDER_NS}:GetQualityIndicators"
REQUEST = f"{{{RESPONDER_NS}}}GetQualityIndicators"

SCHEMAS = Path(__file__).with_name("schemas")
INTERACTION = SCHEMAS / "interactions" / "GetQualityIndicatorsInteraction"
RESPONDER_XSD = INTERACTION / "GetQualityIndicatorsResponder_2.0.xsd"
CORE_XSD = SCHEMAS / "core_components" / "groupoutcomes_qualityreporting_2.0.xsd"
REGISTRY_XSD = SCHEMAS / "core_components" / "itintegration_registry_1.0.xsd"
WSDL_FILE = INTERACTION / "GetQualityIndicatorsInteraction_2.0_RIVTABP21.wsdl"

FILES = ContractFiles(WSDL_FILE, (RESPONDER_XSD, CORE_XSD, REGISTRY_XSD))


def endpoint_path(base_path: str) -> str:
    return soap_path(base_path)
