"""Organisations and source systems as ready-made XML fragments, cached between requests.

Every measurement carries its organisation's whole ``asOrganizationPartOf`` chain and its source system,
and a registry has few of them compared with its measurements, so each fragment is rendered once. The
cache (``AppContext.caches.directory``) is keyed on the data version, which the database's triggers move
on every write to either table: a rename shows in the very next answer, and nothing expires by time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from ...caches import Versioned
from ...domain.organisations import Organisation
from ...store.repositories import load_organisations
from ...store.tables import source_systems
from ..soap import escape


def organisation_xml(org: Organisation) -> str:
    """The content of a PerformingOrganizationType element for ``org`` (XSD order, parent chain nested)."""
    parts = []
    if org.hsa_id:
        parts.append(f"<qr:hsaId>{escape(org.hsa_id)}</qr:hsaId>")
    parts.append(f"<qr:organizationName>{escape(org.name)}</qr:organizationName>")
    parts.append(f"<qr:organizationType>{org.type.value}</qr:organizationType>")
    if org.org_id is not None:
        parts.append(
            f"<qr:organizationId><qr:root>{escape(org.org_id.root)}</qr:root>"
            f"<qr:extension>{escape(org.org_id.extension)}</qr:extension></qr:organizationId>"
        )
    if org.parent is not None:
        parts.append(f"<qr:asOrganizationPartOf>{organisation_xml(org.parent)}</qr:asOrganizationPartOf>")
    return "".join(parts)


def source_system_xml(root: str, extension: str, name: str) -> str:
    return (
        f"<qr:systemId><qr:root>{escape(root)}</qr:root><qr:extension>{escape(extension)}</qr:extension></qr:systemId>"
        f"<qr:name>{escape(name)}</qr:name>"
    )


@dataclass
class Directory:
    organisations: dict[int, Organisation]
    sources: dict[int, str]
    _org_xml: dict[int, str] = field(default_factory=dict)

    def organisation(self, row_id: int) -> str:
        xml = self._org_xml.get(row_id)
        if xml is None:
            xml = self._org_xml[row_id] = organisation_xml(self.organisations[row_id])
        return xml

    def source(self, row_id: int) -> str:
        return self.sources[row_id]


def load(conn: Connection) -> Directory:
    return Directory(
        load_organisations(conn),
        {r.id: source_system_xml(r.root, r.extension, r.name) for r in conn.execute(select(source_systems))},
    )


def cached(conn: Connection, version: int | None, cache: Versioned[Directory]) -> Directory:
    """The directory at ``version`` (read on ``conn`` before this call), from ``AppContext.caches.directory``."""
    return cache.get(version, lambda: load(conn))
