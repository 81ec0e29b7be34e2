"""What VP reads from a SOAP request: the receiver (logical address), the RIV version and the contract namespace.

Like VP's ``PayloadInfoParser``: after the ``Header`` element, every element whose *local name* is
``LogicalAddress`` (RIVTA BP 2.1) or ``To`` (BP 2.0) sets the receiver id — the parser reads on to ``Body``
without stopping, so with two of them the **last** one routes. Its text is taken as is (no trimming: leading
or trailing whitespace makes the lookup fail, as on NTjP; a whitespace-only address is no address, VP003, see
vp.py); the namespace of the first element under ``Body`` is the service contract. XML is parsed with entities, DTDs and network access off (libxml2's default depth and
size limits stay on); anything unreadable is VP015.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..rivta import REGISTRY_NS, WSA_NS
from .faults import VPFault

WSA_TO = f"{{{WSA_NS}}}To"
RIV_LOGICAL_ADDRESS = f"{{{REGISTRY_NS}}}LogicalAddress"


@dataclass(frozen=True)
class PayloadInfo:
    receiver_id: str | None
    riv_version: str | None  # "rivtabp21" | "rivtabp20" | None
    namespace: str | None
    encoding: str


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False, remove_pis=False)


def parse(body: bytes) -> tuple[PayloadInfo, etree._ElementTree]:
    """Read routing information; raises VPFault('VP015') when the request cannot be read."""
    if not body or not body.strip():
        raise VPFault("VP015", "Empty message")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise VPFault("VP015", f"XML parse error: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise VPFault("VP015", "DOCTYPE is not allowed in a SOAP message")
    receiver, version, namespace = None, None, None
    header = _child(root, "Header")
    if header is not None:
        for el in header.iter():
            if not isinstance(el.tag, str) or el is header:
                continue
            local = etree.QName(el).localname
            if local in ("LogicalAddress", "To"):
                version = "rivtabp21" if local == "LogicalAddress" else "rivtabp20"
                receiver = el.text if el.text else None  # StAX: an empty element has no text node → null
                # no break: VP's parser overwrites on every match, so the last LogicalAddress/To wins
    body_el = _child(root, "Body")
    if body_el is not None:
        first = next((c for c in body_el if isinstance(c.tag, str)), None)
        if first is not None:
            namespace = etree.QName(first).namespace
    return PayloadInfo(receiver, version, namespace, (tree.docinfo.encoding or "UTF-8")), tree


def _child(el: etree._Element, localname: str) -> etree._Element | None:
    for c in el:
        if isinstance(c.tag, str) and etree.QName(c).localname == localname:
            return c
    return None


def to_utf8(body: bytes, tree: etree._ElementTree, info: PayloadInfo) -> bytes:
    """VP forwards UTF-8: a request in another encoding is re-serialised; a UTF-8 one is left byte for byte."""
    if info.encoding.upper().replace("_", "-") in ("UTF-8", "UTF8"):
        return body
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def transform_riv(tree: etree._ElementTree, to_version: str) -> bytes:
    """Rewrite the addressing header between BP 2.0 (``wsa:To``) and BP 2.1 (``LogicalAddress``)."""
    root = tree.getroot()
    header = _child(root, "Header")
    src_local, dst_tag = ("To", RIV_LOGICAL_ADDRESS) if to_version == "rivtabp21" else ("LogicalAddress", WSA_TO)
    if header is not None:
        for el in header:
            if isinstance(el.tag, str) and etree.QName(el).localname == src_local:
                el.tag = dst_tag
                break
    etree.cleanup_namespaces(root)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
