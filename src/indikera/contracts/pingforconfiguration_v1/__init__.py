"""PingForConfiguration 1 (itintegration:monitoring, RIVTA BP 2.1 rule 21).

The answer tells the platform's monitoring which version runs, that the database is reachable and its
migrations current, and which contracts and logical addresses this producer serves. An unreachable
database is a ``soap:Server`` fault, so monitoring sees the producer as down.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import text
from starlette.responses import Response

from ... import __version__
from ...context import AppContext
from ...rivta import PING_PATH as PATH
from ...rivta import PING_RESPONDER_NS as RESPONDER_NS
from ...store.db import is_up_to_date
from .. import xmlsafe
from ..endpoint import Call
from ..envelope import Request as SoapRequest
from ..soap import CONTENT_TYPE, ENVELOPE_END, client_fault, envelope_start, escape, server_fault
from ..wsdl import ContractFiles

SOAP_ACTION = f"{RESPONDER_NS}:PingForConfiguration"
REQUEST = f"{{{RESPONDER_NS}}}PingForConfiguration"

SCHEMAS = Path(__file__).with_name("schemas")
_INTERACTION = SCHEMAS / "interactions" / "PingForConfigurationInteraction"
RESPONDER_XSD = _INTERACTION / "PingForConfigurationResponder_1.0.xsd"
FILES = ContractFiles(
    _INTERACTION / "PingForConfigurationInteraction_1.0_RIVTABP21.wsdl",
    (
        RESPONDER_XSD,
        SCHEMAS / "core_components" / "itintegration_monitoring_1.0.xsd",
        SCHEMAS / "core_components" / "itintegration_registry_1.0.xsd",
    ),
)


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RESPONDER_XSD)))


def _now() -> str:
    try:
        zone = ZoneInfo("Europe/Stockholm")  # RIVTA timestamps are Swedish local time
    except Exception:  # pragma: no cover - tzdata missing
        zone = None
    return datetime.now(zone).strftime("%Y%m%d%H%M%S")


def configuration(ctx: AppContext, served: list[str]) -> list[tuple[str, str]]:
    engine = ctx.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = is_up_to_date(engine)
    except Exception:
        raise server_fault(
            "DATABASE_UNAVAILABLE", "producentens databas kan inte nås", "the producer's database cannot be reached"
        ) from None
    entries = [
        ("database", "reachable"),
        ("databaseBackend", engine.dialect.name),
        ("migrations", "current" if current else "outdated"),
    ]
    entries += [("serviceContract", ns) for ns in served]
    entries += [("logicalAddress", a) for a in ctx.settings.logical_addresses]
    return entries


def handle(ctx: AppContext, soap: SoapRequest, call: Call, served: list[str]) -> Response:
    if soap.payload.tag != REQUEST:
        raise client_fault(
            "WRONG_OPERATION",
            "tjänsten besvarar PingForConfiguration",
            f"this endpoint answers PingForConfiguration in namespace {RESPONDER_NS}",
        )
    if xmlsafe.first_schema_error(schema(), soap.payload) is not None:  # not tree validation: see xmlsafe
        raise client_fault("SCHEMA_INVALID", "ogiltigt anrop", "the request does not follow the PingForConfiguration 1 schema")
    entries = "".join(
        f"<ping:configuration><ping:name>{escape(n)}</ping:name><ping:value>{escape(v)}</ping:value></ping:configuration>"
        for n, v in configuration(ctx, served)
    )
    body = (
        envelope_start({"ping": RESPONDER_NS})
        + f"<ping:PingForConfigurationResponse><ping:version>{escape(__version__)}</ping:version>"
        + f"<ping:pingDateTime>{_now()}</ping:pingDateTime>{entries}</ping:PingForConfigurationResponse>"
        + ENVELOPE_END
    )
    return Response(body.encode("utf-8"), media_type=CONTENT_TYPE)
