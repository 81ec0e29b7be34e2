"""VP's platform faults (VP001–VP015), in the form VP Camel gives them.

Texts come from skltp/vp ``vp-messages.properties`` (Swedish message, English ``_DETAILS`` template) and the
fault layout from its ``SoapFaultHelper``: SOAP 1.1, HTTP 500, ``faultstring`` = ``"VPnnn [<instance>] <text>"``,
``detail/detailString`` = the technical detail. See docs/connection.md ("VP faults").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from xml.sax.saxutils import escape

from ..rivta import ORIGINAL_CONSUMER_HEADER
from ..rivta import SOAP11_NS as SOAP_ENV


class FaultCode(str, Enum):
    CLIENT = "Client"
    SERVER = "Server"


# code → (fault code, Swedish message, detail template). %s is filled with the call's particulars.
MESSAGES: dict[str, tuple[FaultCode, str, str]] = {
    "VP001": (FaultCode.CLIENT, "Rivta-version saknas i anrop eller stöds ej av tjänsteplattformen.",
              "No RIV version configured"),
    "VP002": (FaultCode.CLIENT, "Fel i klientcertifikat. Saknas, är av felaktig typ, eller är felaktigt utformad.",
              "No sender ID (SERIALNUMBER) found in certificate. %s"),
    "VP003": (FaultCode.CLIENT, "Logisk adressat (ReceiverId) saknas i RivHeadern i inkommande meddelande.",
              "No receiverId (logical address) found in message header. %s"),
    "VP004": (FaultCode.CLIENT, "Det finns inget vägval i tjänsteadresseringskatalogen som matchar anropets logiska "
              "adressat (ReceiverId) och tjänstekontrakt. Kontrollera uppgifterna i anropet och vid behov, beställ "
              "konfigurering i aktuell tjänsteplattform.",
              "No receiverId (logical address) found for %s"),
    "VP005": (FaultCode.CLIENT, "Tjänsteproducenten stödjer inte anropets angivna rivta-version. Kontrollera uppgifterna.",
              "No receiverId (logical address) with matching Riv-version found for %s"),
    "VP006": (FaultCode.SERVER, "Internt fel i tjänsteplattformen. Det finns fler än en tjänsteproducent definierad i "
              "tjänsteadresseringskatalogen som matchar logisk adressat (ReceiverId), tjänstekontrakt och dagens datum. "
              "Tyder på felkonfiguration. Rapportera felet till tjänsteplattformsförvaltningen.",
              "More than one receiverId (logical address) with matching Riv-version found for %s"),
    "VP007": (FaultCode.SERVER, "Tjänstekonsumenten saknar behörighet att anropa den logiska adressaten via detta "
              "tjänstekontrakt. Kontrollera uppgifterna och vid behov, tillse att det beställs konfiguration i aktuell "
              "tjänsteplattform.",
              "Authorization missing for %s"),
    "VP008": (FaultCode.SERVER, "Internt fel i tjänsteplattformen. Ingen kontakt med tjänsteadresseringskatalogen. "
              "Informera tjänsteplattformsförvaltningen.",
              "No contact with TAK at startup, and no local cache to fallback on, not possible to route call"),
    "VP009": (FaultCode.SERVER, "Fel vid kontakt med tjänsteproducenten.",
              "Error connecting to service producer at address %s"),
    "VP010": (FaultCode.SERVER, "Internt fel i tjänsteplattformen. URL saknas för tjänsteproducenten i "
              "tjänsteplattformens tjänsteadresseringskatalog.",
              "Physical Address field is empty in Service Producer for %s"),
    "VP011": (FaultCode.CLIENT, "Anrop har gjorts utanför TLS vilket ej är tillåtet. Tjänstekonsumenten ska alltid "
              "använda TLS för säker kommunikation.",
              "Caller was not on the white list of accepted IP-addresses. %s"),
    "VP012": (FaultCode.SERVER, "Internt fel i tjänsteplattformen. Nödvändiga resurser saknas för att VP skall fungera.",
              "Server problem, VP does not have all necessary resources to operate. %s"),
    "VP013": (FaultCode.CLIENT, "Enligt tjänsteplattformens konfiguration saknar tjänstekonsumenten rätt att använda "
              f"headern {ORIGINAL_CONSUMER_HEADER}. Kontakta tjänsteplattformsförvaltningen.",
              f"Sender is not approved to set header {ORIGINAL_CONSUMER_HEADER}."),
    "VP014": (FaultCode.SERVER, "Anropsförmedlingen för den logiska adressaten har givit upphov till rundgång mellan "
              "tjänsteplattformar. Rapportera felet till tjänsteplattformsförvaltningen.",
              ""),
    # VP015 (ARK_0034 v1.8, 2022): wording as in VP's vp-messages.properties (issue #17).
    "VP015": (FaultCode.CLIENT, "Anrop ej korrekt utformat och kan därför inte behandlas.",
              "The request could not be read properly. %s"),
}


@dataclass(frozen=True)
class VPFault(Exception):
    """A platform fault: raised inside the pipeline, rendered as VP's SOAP fault."""

    code: str
    detail_arg: str = ""

    @property
    def fault_code(self) -> FaultCode:
        return MESSAGES[self.code][0]

    def faultstring(self, instance_name: str) -> str:
        return f"{self.code} [{instance_name}] {MESSAGES[self.code][1]}"

    @property
    def detail(self) -> str:
        template = MESSAGES[self.code][2]
        return template.replace("%s", self.detail_arg) if "%s" in template else template

    def envelope(self, instance_name: str) -> bytes:
        return fault_envelope(self.fault_code, self.faultstring(instance_name), self.detail)

    def __str__(self) -> str:  # for logs
        return f"{self.code}: {self.detail}"


def fault_envelope(code: FaultCode, faultstring: str, detail: str) -> bytes:
    """The SAAJ-built SOAP 1.1 fault VP returns with HTTP 500."""
    return (
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}"><SOAP-ENV:Header/><SOAP-ENV:Body><SOAP-ENV:Fault>'
        f"<faultcode>SOAP-ENV:{code.value}</faultcode><faultstring>{escape(faultstring)}</faultstring>"
        f"<detail><detailString>{escape(detail)}</detailString></detail>"
        "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode("utf-8")


def summary(namespace: str | None, receiver_id: str | None, sender_id: str | None = None, *, with_sender: bool = False) -> str:
    """VP's request summary used in VP004/VP006/VP007/VP010 details (Java prints null as ``null``)."""
    s = f"serviceNamespace: {_j(namespace)}, receiverId: {_j(receiver_id)}"
    return s + f", senderId: {_j(sender_id)}" if with_sender else s


def _j(value: str | None) -> str:
    return "null" if value is None else value
