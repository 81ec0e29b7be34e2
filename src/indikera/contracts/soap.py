"""SOAP 1.1 envelopes and faults (RIVTA Basic Profile 2.1 / WS-I Basic Profile 1.1).

A fault is always HTTP 500 with ``text/xml``; ``faultcode`` is ``soap:Client`` when the request is at
fault and ``soap:Server`` otherwise. ``faultstring`` starts with a stable code (for programs), followed by
an English and a Swedish message (for people); ``SoapFault`` takes them Swedish first, as every error does.
Stack traces never leave the process.
"""

from __future__ import annotations

import re

from ..domain.errors import IndikeraError
from ..rivta import REGISTRY_NS, SOAP11_NS

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPE = "text/xml; charset=UTF-8"

ENVELOPE = f"{{{SOAP11_NS}}}Envelope"
HEADER = f"{{{SOAP11_NS}}}Header"
BODY = f"{{{SOAP11_NS}}}Body"

LOGICAL_ADDRESS = f"{{{REGISTRY_NS}}}LogicalAddress"

CLIENT = "Client"
SERVER = "Server"
VERSION_MISMATCH = "VersionMismatch"
MUST_UNDERSTAND = "MustUnderstand"


class SoapFault(IndikeraError):
    """A SOAP 1.1 fault to send instead of an answer: Swedish text first, then English, like every error.

    The texts name the particular request (an element, a limit), so the call sites pass them; the type, the
    code and the rendering are the shared ones (``domain.errors.IndikeraError``).
    """

    def __init__(self, code: str, sv: str | None = None, en: str | None = None, /, *, faultcode: str = CLIENT, **params: object) -> None:
        super().__init__(code, sv, en, **params)
        self.faultcode = faultcode

    @property
    def faultstring(self) -> str:
        """``CODE: English / Swedish``. The stable code comes first: consumers, the conformance runner and the
        NTjP stand-in read it up to the first colon. The English follows as it always has on the wire (SOAP
        tooling and platform logs are read by integrators of any language), then the Swedish."""
        text = f"{self.code}: {self.en}"
        if self.sv != self.en:
            text += f" / {self.sv}"
        return text

    @property
    def is_client(self) -> bool:
        return self.faultcode != SERVER


def client_fault(code: str, sv: str, en: str) -> SoapFault:
    return SoapFault(code, sv, en, faultcode=CLIENT)


def server_fault(code: str, sv: str, en: str) -> SoapFault:
    return SoapFault(code, sv, en, faultcode=SERVER)


# Characters XML 1.0 cannot carry at all; they are replaced rather than breaking the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\r\"\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """Text content or attribute value, escaped; characters XML cannot carry become U+FFFD."""
    if not _SPECIAL.search(text):
        return text
    text = _NOT_XML.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("\r", "&#13;")
    )


def fault_envelope(fault: SoapFault) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP11_NS}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{fault.faultcode}</faultcode>"
        f"<faultstring>{escape(fault.faultstring)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode("utf-8")


def envelope_start(namespaces: dict[str, str]) -> str:
    """The opening of a SOAP 1.1 answer, declaring ``namespaces`` (prefix → URI) on the envelope."""
    decls = "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in namespaces.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP11_NS}"{decls}><soap:Header/><soap:Body>'


ENVELOPE_END = "</soap:Body></soap:Envelope>"
