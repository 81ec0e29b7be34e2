"""Organisations and source systems as ready-made XML fragments, cached between requests.

Every measurement carries its organisation's whole ``asOrganizationPartOf`` chain and its source system,
and a registry has few of them compared with its measurements, so each fragment is rendered once. The
cache is keyed by a cheap fingerprint of both tables (row counts, highest ids, name lengths, parents) and
also expires after ``MAX_AGE`` seconds, so even a same-length rename shows within that time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from ...domain.organisations import Organisation
from ...store.repositories import load_organisations
from ...store.tables import organisations, source_systems
from ..soap import escape

MAX_AGE = 30.0


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


def _fingerprint(conn: Connection) -> tuple:
    o, s = organisations.c, source_systems.c
    q = select(
        select(func.count(o.id)).scalar_subquery(),
        select(func.max(o.id)).scalar_subquery(),
        select(func.sum(func.length(o.name) + func.coalesce(o.parent_id, 0))).scalar_subquery(),
        select(func.count(s.id)).scalar_subquery(),
        select(func.max(s.id)).scalar_subquery(),
        select(func.sum(func.length(s.name))).scalar_subquery(),
    )
    return tuple(conn.execute(q).one())


class DirectoryCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple, float, Directory]] = {}

    def get(self, conn: Connection) -> Directory:
        key = str(conn.engine.url)
        fp = _fingerprint(conn)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry[0] == fp and now - entry[1] < MAX_AGE:
                return entry[2]
        directory = Directory(
            load_organisations(conn),
            {r.id: source_system_xml(r.root, r.extension, r.name) for r in conn.execute(select(source_systems))},
        )
        with self._lock:
            self._entries[key] = (fp, now, directory)
        return directory


CACHE = DirectoryCache()
