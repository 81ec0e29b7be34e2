"""The importer's side of disclosure control: flat rows and stored rows as ``domain.disclosure`` cells, and
the organisation facts the relations need (parent, type, which län a sjukvårdsregion covers)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, select

from .. import refdata
from ..domain import oids
from ..domain.disclosure import Cell, DisclosureError, Relation, build_relations  # noqa: F401 - re-exported
from ..domain.disclosure.cells import cell  # noqa: F401 - re-exported for the group writer
from ..domain.indicators import Indicator
from ..domain.statistics import family_of
from ..store.tables import organisations


class OrgFacts:
    """Parent and type of every organisation an import or audit meets, and the sjukvårdsregion → län map.

    A Sjukvardsregion's organizationId extension is its reference-data code (``SVR-SODRA``, see
    ``refdata/sjukvardsregioner.csv``); an unknown code forms no region relation."""

    def __init__(self) -> None:
        self.parent_of: dict[str, str | None] = {}
        self.org_type: dict[str, str] = {}
        self.regions: dict[str, tuple[str, ...]] = {}

    def add(self, key: str, parent: str | None, typ: str) -> None:
        self.parent_of.setdefault(key, parent)
        self.org_type.setdefault(key, typ)
        if typ == "Sjukvardsregion" and key not in self.regions:
            code = key.rsplit(":", 1)[-1]
            region = refdata.sjukvardsregioner().get(code)
            if region is not None:
                self.regions[key] = tuple(f"oid:{oids.LAN_ROOT}:{c}" for c in region.lan_codes)

    def add_organisation(self, org) -> None:
        for node in org.chain():
            self.add(node.key, node.parent.key if node.parent else None, node.type.value)

    def add_stored(self, conn: Connection) -> None:
        rows = conn.execute(select(organisations.c.id, organisations.c.key, organisations.c.type,
                                   organisations.c.parent_id)).all()
        keys = {r.id: r.key for r in rows}
        for r in rows:
            self.add(r.key, keys.get(r.parent_id) if r.parent_id is not None else None, r.type)

    def relations(self, cells: list[Cell], indicators: Mapping[str, Indicator]) -> list[Relation]:
        family = {}
        for mid in {c.key[0] for c in cells}:
            ind = indicators.get(mid)
            family[mid] = (family_of(mid, indicators), ind.sex.value if ind is not None and ind.sex is not None else None)
        return build_relations(cells, family=family, parent_of=self.parent_of, org_type=self.org_type,
                               regions=self.regions)
