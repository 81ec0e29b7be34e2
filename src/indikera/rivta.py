"""RIVTA constants: namespaces, HTTP headers and paths, defined once.

Every module that speaks SOAP, NTjP headers or endpoint paths (contracts/, access/, platform/, web/,
conformance/) imports them from here; tests/test_architecture.py fails if one of these literals appears
elsewhere in src/. It imports nothing from indikera and sits beside the packages, not in contracts/:
access/ and platform/ use it, and contracts/ uses access/, so a home in contracts/ would close a cycle.
"""

from __future__ import annotations

# --- XML namespaces ---
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS = "http://www.w3.org/2005/08/addressing"  # RIVTA BP 2.0 addressing (wsa:To)
REGISTRY_NS = "urn:riv:itintegration:registry:1"  # BP 2.1 LogicalAddress header
QUALITYREPORTING_RESPONDER_NS = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2"
QUALITYREPORTING_CORE_NS = "urn:riv:followup:groupoutcomes:qualityreporting:2"
QUALITYREPORTING_WSDL_NS = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicators:2:rivtabp21"
PING_RESPONDER_NS = "urn:riv:itintegration:monitoring:PingForConfigurationResponder:1"

# --- HTTP headers (lower case: Starlette and httpx compare them so) ---
CORRELATION_HEADER = "x-skltp-correlation-id"
ORIGINAL_CONSUMER_HEADER = "x-rivta-original-serviceconsumer-hsaid"  # set by NTjP: the real consumer
SERVICE_CONSUMER_HEADER = "x-rivta-serviceconsumer-hsaid"  # sent by the SoapUI suite
ROUTING_HISTORY_HEADER = "x-rivta-routing-history"
SENDER_ID_HEADER = "x-vp-sender-id"
INSTANCE_ID_HEADER = "x-vp-instance-id"
AUTH_CERT_HEADER = "x-vp-auth-cert"  # the consumer's PEM certificate on VP's plain-HTTP route
PRODUCER_RESPONSE_TIME_HEADER = "x-skltp-prt"

# --- paths: major version and profile stay in the URL (BP 2.1 rule 19) ---
PROFILE = "rivtabp21"
QUALITYREPORTING_PATH_SUFFIX = f"/GetQualityIndicators/2/{PROFILE}"
QUALITYREPORTING_DEFAULT_BASE = "/qualityreporting"
PING_PATH = f"/itintegration/monitoring/PingForConfiguration/1/{PROFILE}"
VP_QUALITYREPORTING_PATH = f"/vp/followup/groupoutcomes{QUALITYREPORTING_DEFAULT_BASE}{QUALITYREPORTING_PATH_SUFFIX}"


def soap_path(base_path: str) -> str:
    """The GetQualityIndicators v2 endpoint under ``base_path`` (``soap_base_path`` in the settings)."""
    base = base_path.strip("/")
    return f"/{base}{QUALITYREPORTING_PATH_SUFFIX}" if base else QUALITYREPORTING_PATH_SUFFIX
