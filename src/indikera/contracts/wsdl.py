"""Serve a contract's own WSDL and XSD files at ``<endpoint>?wsdl`` and ``<endpoint>?xsd=<name>``.

The files ship with the package; when served, every ``schemaLocation`` points to ``?xsd=<file name>`` on
the same endpoint and the service address is the URL actually requested, so a client can load the
whole contract from the running service.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


class ContractFiles:
    def __init__(self, wsdl: Path, xsds: tuple[Path, ...]) -> None:
        self._wsdl = wsdl
        self._xsds = {p.name: p for p in xsds}
        self.render = lru_cache(maxsize=64)(self._render)

    def wsdl(self, endpoint: str) -> bytes:
        return self.render(None, endpoint)

    def xsd(self, name: str, endpoint: str) -> bytes | None:
        """The named schema, or None when no such file belongs to this contract."""
        return self.render(name, endpoint) if name in self._xsds else None

    def _render(self, name: str | None, endpoint: str) -> bytes:
        path = self._wsdl if name is None else self._xsds[name]
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True))
        for node in tree.iter(f"{{{XS}}}import", f"{{{XS}}}include"):
            location = node.get("schemaLocation")
            if location:
                node.set("schemaLocation", f"{endpoint}?xsd={Path(location).name}")
        for node in tree.iter(f"{{{WSDL_SOAP}}}address"):
            node.set("location", endpoint)
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
