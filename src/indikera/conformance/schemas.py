"""Schema validation of answers: the project's own XSD always; the official XSD and constraints.sch when the
user points ``--contract-dir`` at a contract package (the only place the runner reads a contract package)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree, isoschematron

RESPONDER_XSD_NAME = "GetQualityIndicatorsResponder_2.0.xsd"


def _xsd_parser() -> etree.XMLParser:
    # Local schema files import each other by relative path; no network, no entity expansion.
    return etree.XMLParser(resolve_entities=False, no_network=True)


@cache
def project_xsd() -> etree.XMLSchema | None:
    """The project's own responder schema (shipped by the producer area), when present."""
    try:
        from ..contracts.qualityreporting_v2 import RESPONDER_XSD
    except ImportError:
        return None
    if not Path(RESPONDER_XSD).is_file():
        return None
    return etree.XMLSchema(etree.parse(str(RESPONDER_XSD), _xsd_parser()))


@dataclass
class OfficialPackage:
    """The official contract package's responder XSD and Schematron (queryBinding patched to xslt: XPath 1.0)."""

    directory: Path
    xsd: etree.XMLSchema
    schematron: isoschematron.Schematron | None
    xsd_path: Path
    sch_path: Path | None

    @classmethod
    def load(cls, directory: Path) -> "OfficialPackage":
        directory = Path(directory)
        if not directory.is_dir():
            raise ValueError(f"{directory} är ingen katalog (not a directory)")
        xsds = sorted(directory.rglob(RESPONDER_XSD_NAME))
        if not xsds:
            raise ValueError(f"{directory}: hittar inte {RESPONDER_XSD_NAME} (not a GetQualityIndicators 2 contract package)")
        xsd = etree.XMLSchema(etree.parse(str(xsds[0]), _xsd_parser()))
        schs = sorted(directory.rglob("constraints.sch"))
        sch = None
        if schs:
            tree = etree.parse(str(schs[0]), _xsd_parser())
            tree.getroot().set("queryBinding", "xslt")
            sch = isoschematron.Schematron(tree, store_report=True)
        return cls(directory, xsd, sch, xsds[0], schs[0] if schs else None)


def xsd_errors(schema: etree.XMLSchema, element: etree._Element) -> list[str]:
    if schema.validate(element):
        return []
    return [f"rad {e.line}: {e.message}" for e in list(schema.error_log)[:10]]


SVRL = "http://purl.oclc.org/dsdl/svrl"


def schematron_errors(sch: isoschematron.Schematron, envelope: etree._Element) -> list[str]:
    if sch.validate(envelope):
        return []
    report = sch.validation_report
    out = []
    for failed in report.iter(f"{{{SVRL}}}failed-assert"):
        text = " ".join((failed.findtext(f"{{{SVRL}}}text") or "").split())
        out.append(f"{failed.get('location')}: {text} ({failed.get('test')})")
    return out[:20] or ["Schematron underkände svaret"]
