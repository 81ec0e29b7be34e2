"""Take a parsed SOAP 1.1 request apart: the LogicalAddress header and the one Body element."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .soap import (
    BODY,
    ENVELOPE,
    HEADER,
    LOGICAL_ADDRESS,
    MUST_UNDERSTAND,
    SOAP11_NS,
    SOAP12_NS,
    VERSION_MISMATCH,
    SoapFault,
    client_fault,
)

_MUST_UNDERSTAND_ATTR = f"{{{SOAP11_NS}}}mustUnderstand"


@dataclass(frozen=True)
class Request:
    logical_address: str | None  # the header's text exactly as sent (None: no header)
    payload: etree._Element  # the Body's only child


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else "?"


def split(root: etree._Element) -> Request:
    if root.tag != ENVELOPE:
        if isinstance(root.tag, str) and root.tag == f"{{{SOAP12_NS}}}Envelope":
            raise SoapFault(
                "SOAP_VERSION",
                "tjänsten använder SOAP 1.1, inte SOAP 1.2",
                "this endpoint speaks SOAP 1.1 (RIVTA BP 2.1); a SOAP 1.2 envelope was sent",
                faultcode=VERSION_MISMATCH,
            )
        raise client_fault(
            "NOT_AN_ENVELOPE",
            "anropet är inget SOAP 1.1-kuvert",
            f"the request is not a SOAP 1.1 Envelope ({SOAP11_NS}) but {root.tag!s:.120}",
        )
    header = body = None
    for child in root:
        if child.tag == HEADER and header is None and body is None:
            header = child
        elif child.tag == BODY and body is None:
            body = child
        else:
            raise client_fault(
                "ENVELOPE_STRUCTURE",
                "oväntat element i SOAP-kuvertet",
                f"unexpected element {_local(child.tag)!r} in the Envelope (expected an optional Header, then Body)",
            )
    if body is None:
        raise client_fault("NO_BODY", "SOAP-kuvertet saknar Body", "the Envelope has no Body")
    address = None
    if header is not None:
        for h in header:
            if h.tag == LOGICAL_ADDRESS:
                if address is not None:
                    raise client_fault(
                        "LOGICAL_ADDRESS_REPEATED",
                        "LogicalAddress förekommer mer än en gång",
                        "the LogicalAddress header appears more than once",
                    )
                if len(h):
                    raise client_fault(
                        "LOGICAL_ADDRESS_INVALID",
                        "LogicalAddress ska vara text (ett HSA-id)",
                        "LogicalAddress must be text (an HSA-id), not elements",
                    )
                address = h.text or ""
            elif h.get(_MUST_UNDERSTAND_ATTR) in ("1", "true"):
                raise SoapFault(
                    "MUST_UNDERSTAND",
                    "en header markerad mustUnderstand förstås inte",
                    f"header {h.tag!s:.120} is marked mustUnderstand but is not understood here",
                    faultcode=MUST_UNDERSTAND,
                )
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise client_fault(
            "BODY_STRUCTURE",
            "Body ska innehålla exakt ett anropselement",
            f"the Body must hold exactly one request element, it holds {len(children)}",
        )
    if body.text and body.text.strip() or any(c.tail and c.tail.strip() for c in children):
        raise client_fault("BODY_STRUCTURE", "Body innehåller text", "the Body holds text besides the request element")
    return Request(address, children[0])
