"""Organisations (resultatenheter) and the hierarchy chains the contract allows (rules R15–R17)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from . import oids
from .errors import DomainError


class OrgType(str, Enum):
    LAND = "Land"
    LAN = "Lan"
    KOMMUN = "Kommun"
    SJUKHUS = "Sjukhus"
    VARDENHET = "Vardenhet"
    SJUKVARDSREGION = "Sjukvardsregion"


# Which parent type each type may have (R15). Land is the top and has none.
ALLOWED_PARENTS: dict[OrgType, frozenset[OrgType]] = {
    OrgType.VARDENHET: frozenset({OrgType.LAN, OrgType.KOMMUN, OrgType.SJUKHUS}),
    OrgType.KOMMUN: frozenset({OrgType.LAN}),
    OrgType.SJUKHUS: frozenset({OrgType.LAN}),
    OrgType.LAN: frozenset({OrgType.LAND}),
    OrgType.SJUKVARDSREGION: frozenset({OrgType.LAND}),
    OrgType.LAND: frozenset(),
}

# The full chains of R15; any chain the model builds is a suffix of one of them.
ALLOWED_CHAINS: tuple[tuple[OrgType, ...], ...] = (
    (OrgType.VARDENHET, OrgType.LAN, OrgType.LAND),
    (OrgType.VARDENHET, OrgType.KOMMUN, OrgType.LAN, OrgType.LAND),
    (OrgType.VARDENHET, OrgType.SJUKHUS, OrgType.LAN, OrgType.LAND),
    (OrgType.SJUKVARDSREGION, OrgType.LAND),
)

_KOMMUN_CODE = re.compile(r"^\d{4}$")
_LAN_CODE = re.compile(r"^\d{2}$")


@dataclass(frozen=True)
class Identifier:
    """An IIType: an id (extension) and the OID (root) of the register that issued it."""

    root: str
    extension: str

    @property
    def key(self) -> str:
        return f"{self.root}:{self.extension}"


@dataclass(frozen=True)
class Organisation:
    """One level of a performingOrganization chain. ``parent`` is the asOrganizationPartOf."""

    type: OrgType
    name: str
    hsa_id: str | None = None
    org_id: Identifier | None = None
    parent: "Organisation | None" = None

    def __post_init__(self) -> None:
        if not isinstance(self.type, OrgType):
            object.__setattr__(self, "type", _org_type(self.type))
        if not self.name or not self.name.strip():
            raise DomainError(
                "ORG_NAME",
                f"en {self.type.value} behöver ett namn (organizationName)",
                f"a {self.type.value} needs a name (organizationName)",
            )
        _check_identifiers(self)
        if self.parent is not None:
            if self.parent.type not in ALLOWED_PARENTS[self.type]:
                allowed = ", ".join(sorted(t.value for t in ALLOWED_PARENTS[self.type])) or "none"
                raise DomainError(
                    "ORG_CHAIN",
                    f"en {self.type.value} kan inte ingå i en {self.parent.type.value} (tillåtna överordnade: {allowed})",
                    f"a {self.type.value} cannot be part of a {self.parent.type.value} "
                    f"(allowed parents: {allowed})",
                )
        elif self.type is OrgType.VARDENHET:
            raise DomainError(
                "ORG_CHAIN",
                "en Vardenhet måste ingå i ett Lan, en Kommun eller ett Sjukhus",
                "a Vardenhet must be part of a Lan, Kommun or Sjukhus",
            )
        elif self.type in (OrgType.KOMMUN, OrgType.SJUKHUS):
            raise DomainError(
                "ORG_CHAIN",
                f"en {self.type.value} måste ingå i ett Lan",
                f"a {self.type.value} must be part of a Lan",
            )
        elif self.type in (OrgType.LAN, OrgType.SJUKVARDSREGION):
            raise DomainError(
                "ORG_CHAIN",
                f"en {self.type.value} måste ingå i Land (Riket)",
                f"a {self.type.value} must be part of Land (Riket)",
            )

    @property
    def key(self) -> str:
        """A stable identity for the organisation: its HSA-id, else its organisation id."""
        if self.hsa_id:
            return f"hsa:{self.hsa_id}"
        assert self.org_id is not None  # guaranteed by _check_identifiers
        return f"oid:{self.org_id.key}"

    def chain(self) -> tuple["Organisation", ...]:
        out: list[Organisation] = []
        node: Organisation | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return tuple(out)

    def chain_types(self) -> tuple[OrgType, ...]:
        return tuple(o.type for o in self.chain())


def _org_type(value: object) -> OrgType:
    try:
        return OrgType(value)
    except ValueError:
        allowed = ", ".join(t.value for t in OrgType)
        raise DomainError(
            "ORG_TYPE",
            f"{value!r} är ingen organisationstyp ({allowed})",
            f"{value!r} is not an organisation type ({allowed})",
        ) from None


def _check_identifiers(org: Organisation) -> None:
    t, hsa, oid = org.type, org.hsa_id, org.org_id
    if hsa is not None and (not hsa.strip() or hsa != hsa.strip()):
        raise DomainError(
            "ORG_HSA_ID",
            f"HSA-id {hsa!r} är tomt eller har inledande eller avslutande blanktecken",
            f"HSA-id {hsa!r} is empty or has surrounding whitespace",
        )
    if t is OrgType.VARDENHET:
        if not hsa:
            raise DomainError(
                "ORG_ID",
                "en Vardenhet identifieras av sitt HSA-id, som saknas",
                "a Vardenhet is identified by its HSA-id, which is missing",
            )
        if oid is not None:
            raise DomainError(
                "ORG_ID",
                "en Vardenhet identifieras bara av HSA-id, inte av organizationId",
                "a Vardenhet is identified only by HSA-id, not organizationId",
            )
        return
    if t is OrgType.SJUKHUS:
        if bool(hsa) == bool(oid):
            raise DomainError(
                "ORG_ID",
                "ett Sjukhus har antingen ett HSA-id eller en sjukhuskod, exakt ett av dem",
                "a Sjukhus has either an HSA-id or a sjukhuskod, exactly one",
            )
        if oid is not None and oid.root != oids.SJUKHUS_ROOT:
            raise DomainError(
                "ORG_ID",
                f"en sjukhuskod har roten {oids.SJUKHUS_ROOT}, inte {oid.root}",
                f"a sjukhuskod has root {oids.SJUKHUS_ROOT}, not {oid.root}",
            )
        return
    if hsa:
        raise DomainError(
            "ORG_ID",
            f"en {t.value} identifieras av organizationId, inte av HSA-id",
            f"a {t.value} is identified by organizationId, not HSA-id",
        )
    if oid is None:
        raise DomainError("ORG_ID", f"en {t.value} behöver ett organizationId", f"a {t.value} needs an organizationId")
    if t is OrgType.KOMMUN and (oid.root != oids.KOMMUN_ROOT or not _KOMMUN_CODE.fullmatch(oid.extension)):
        raise DomainError(
            "ORG_ID",
            f"en Kommun behöver roten {oids.KOMMUN_ROOT} och en fyrsiffrig kommunkod",
            f"a Kommun needs root {oids.KOMMUN_ROOT} and a 4-digit kommunkod",
        )
    if t is OrgType.LAN and (oid.root != oids.LAN_ROOT or not _LAN_CODE.fullmatch(oid.extension)):
        raise DomainError(
            "ORG_ID",
            f"ett Lan behöver roten {oids.LAN_ROOT} och en tvåsiffrig länskod",
            f"a Lan needs root {oids.LAN_ROOT} and a 2-digit länskod",
        )
    if t is OrgType.LAND and (oid.root != oids.LAND_ROOT or oid.extension != oids.LAND_EXTENSION):
        raise DomainError(
            "ORG_ID",
            f"Land har roten {oids.LAND_ROOT} och extension SE",
            f"Land is root {oids.LAND_ROOT}, extension SE",
        )
    if t is OrgType.SJUKVARDSREGION and not oid.extension:
        raise DomainError(
            "ORG_ID",
            "en Sjukvardsregion behöver en organizationId-extension",
            "a Sjukvardsregion needs an organizationId extension",
        )


def is_allowed_chain(types: tuple[OrgType, ...]) -> bool:
    """True when ``types`` (leaf first) is one of R15's chains with its left end possibly dropped."""
    return any(full[len(full) - len(types):] == types for full in ALLOWED_CHAINS if len(types) <= len(full))


# Convenience constructors for the identified levels.
def riket() -> Organisation:
    return Organisation(OrgType.LAND, "Riket", org_id=Identifier(oids.LAND_ROOT, oids.LAND_EXTENSION))


def lan(code: str, name: str, parent: Organisation | None = None) -> Organisation:
    return Organisation(OrgType.LAN, name, org_id=Identifier(oids.LAN_ROOT, code), parent=parent or riket())


def kommun(code: str, name: str, parent: Organisation) -> Organisation:
    return Organisation(OrgType.KOMMUN, name, org_id=Identifier(oids.KOMMUN_ROOT, code), parent=parent)
