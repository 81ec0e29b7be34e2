"""The project's own WSDL/XSD files: written here, yet structurally identical to the official contract.

The comparisons need ../shared and skip without it (``official_contract``); the oracle checks run either way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from indikera.contracts import qualityreporting_v2 as qr2

from .support import oracle
from .support import soap_client as sc

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
PAIRS = [
    (qr2.RESPONDER_XSD, oracle.OFFICIAL_RESPONDER_XSD),
    (qr2.CORE_XSD, oracle.OFFICIAL_CORE_XSD),
    (qr2.REGISTRY_XSD, oracle.OFFICIAL_REGISTRY_XSD),
    (qr2.WSDL_FILE, oracle.OFFICIAL_WSDL),
]
SRC = Path(qr2.__file__).resolve().parents[2]


def _qname(value: str | None, node) -> str | None:
    """Resolve a prefixed QName attribute to {namespace}local, so prefixes may differ."""
    if not value or ":" not in value:
        return value
    prefix, local = value.split(":", 1)
    return f"{{{node.nsmap.get(prefix)}}}{local}"


def shape(path: Path) -> list:
    """Every schema/WSDL construct with its resolved names and cardinalities, documentation left out.

    Top-level definitions are compared as a sorted list (their order has no meaning); inside each, the
    order is kept (sequences are ordered).
    """
    tree = etree.parse(str(path), etree.XMLParser(remove_comments=True))
    root = tree.getroot()
    parts = [_nodes(root, only_self=True)]
    parts += sorted(_nodes(child) for child in root if isinstance(child.tag, str) and etree.QName(child).localname not in ("annotation", "documentation"))
    return parts


def _nodes(top, only_self: bool = False) -> list:
    out = []
    for node in ([top] if only_self else top.iter()):
        if not isinstance(node.tag, str) or etree.QName(node).localname in ("documentation", "annotation"):
            continue
        if node.tag == f"{{{XS}}}schema":
            attrs = {k: v for k, v in node.attrib.items() if k in ("targetNamespace", "elementFormDefault", "attributeFormDefault", "version")}
        else:
            attrs = dict(node.attrib)
        for key in ("type", "element", "base", "message", "binding"):
            if key in attrs:
                attrs[key] = _qname(attrs[key], node)
        attrs.pop("schemaLocation", None)
        if node.tag == f"{{{WSDL}}}definitions" or "location" in attrs:
            attrs.pop("location", None)
        attrs.setdefault("minOccurs", "1") if etree.QName(node).localname in ("element", "any") and node.getparent().tag == f"{{{XS}}}sequence" else None
        attrs.setdefault("maxOccurs", "1") if "minOccurs" in attrs else None
        out.append((etree.QName(node).localname, tuple(sorted(attrs.items()))))
    return out


@pytest.mark.parametrize("own, official", PAIRS, ids=lambda p: Path(p).name)
def test_own_file_has_the_official_structure_but_is_not_a_copy(own, official, official_contract):
    assert own.read_bytes() != official.read_bytes()
    assert b"Licensed to the Apache Software Foundation" not in own.read_bytes()
    assert shape(own) == shape(official)


def test_own_schema_accepts_every_official_mock_and_a_zeep_style_request(official_contract):
    for name in oracle.MOCK_NAMES:
        payload = oracle.payload(etree.fromstring(oracle.mock(name)))
        assert sc.own_xsd().validate(payload), (name, sc.own_xsd().error_log)
    request = oracle.payload(etree.fromstring(sc.request()))
    assert sc.own_xsd().validate(request) and oracle.official_xsd().validate(request)


def test_product_code_never_reads_the_shared_contract_folder():
    for path in SRC.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".xsd", ".wsdl"):
            assert b"shared/contract" not in path.read_bytes(), path


def test_the_oracle_says_which_schemas_it_used_and_rejects_what_they_forbid():
    """With ../shared: official XSD + Schematron; without: the own XSD (the one ``?wsdl`` serves)."""
    assert oracle.SOURCE == ("official" if oracle.available() else "own")
    if oracle.SOURCE == "own":
        assert oracle.responder_xsd_path() == qr2.RESPONDER_XSD and oracle.wsdl() == qr2.WSDL_FILE
        assert oracle.CHECKS == ("own XSD",) and oracle.schematron() is None
    else:
        assert oracle.CHECKS == ("official XSD", "official Schematron") and oracle.schematron() is not None
    report = (
        f'<s:Envelope xmlns:s="{oracle.SOAP_ENV}"><s:Body><r:GetQualityIndicatorsResponse xmlns:r="{sc.GQI_NS}" '
        f'xmlns:q="{sc.CORE}"><r:AggregatedQualityReport><q:measurementChecksum>{"0" * 64}</q:measurementChecksum>'
        "<q:reportingPeriod><q:start>20230101</q:start><q:end>20231231</q:end></q:reportingPeriod>{extra}"
        "<q:reportingSystem><q:hsaId>SE1</q:hsaId><q:name>n</q:name></q:reportingSystem>"
        "<q:reportingOrganization><q:hsaId>SE2</q:hsaId><q:name>o</q:name></q:reportingOrganization>"
        "</r:AggregatedQualityReport></r:GetQualityIndicatorsResponse></s:Body></s:Envelope>"
    )
    oracle.assert_conformant(report.format(extra="").encode())
    with pytest.raises(AssertionError, match=f"{oracle.SOURCE} XSD"):
        oracle.assert_conformant(report.format(extra="<q:unexpected/>").encode())
