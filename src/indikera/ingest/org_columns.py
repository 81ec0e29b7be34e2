"""The organisation columns of a VIS row → an :class:`Organisation` chain (rules R15–R17).

Codes are checked against the shipped reference data (län, kommuner); a chain must be one the contract
allows; an organisation has one name and one parent per file (names are part of every published answer).
"""

from __future__ import annotations

import re

from .. import refdata
from ..domain import oids
from ..domain.organisations import Identifier, Organisation, OrgType, riket

HSA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_SJUKHUS = re.compile(r"^\d{3,6}$")
_HSA = HSA_ID


class OrganisationColumns:
    """Part of ``rows.RowReader``: needs its ``err`` and ``_line``."""

    def _start_organisations(self) -> None:
        self.land = riket()
        self.lans = refdata.lan()
        self.kommuner = refdata.kommuner()
        self._orgs: dict[str, tuple[Organisation, int]] = {}  # key → (organisation, first line)
        self._org_cache: dict[tuple[str, ...], Organisation] = {}

    def _remember(self, org: Organisation, column: str) -> Organisation:
        """One organisation, one name and parent per file (names are part of the published answer)."""
        seen = self._orgs.get(org.key)
        if seen is None:
            self._orgs[org.key] = (org, self._line)
            return org
        first, line = seen
        if first != org:
            what = "namn" if first.name != org.name else "överordnad enhet"
            ident = org.hsa_id or (org.org_id.extension if org.org_id else "")
            raise self.err(column, "ORG_INCONSISTENT",
                           f"{org.type.value} {ident} har ett annat {what} ({org.name!r}) än på rad {line} ({first.name!r})",
                           f"{org.type.value} {ident} differs from line {line} ({first.name!r})")
        return first

    _ORG_COLUMNS = ("CountryName", "RegionOrganisationId", "RegionName", "MunicipalityOrganisationID", "MunicipalityName",
                    "HospitalName", "HospitalHSAID", "HospitalOrganisationId", "UnitHSAID", "UnitName")
    _ORG_DEFAULTS = ("",) * len(_ORG_COLUMNS)

    def _organisation(self, c: dict[str, str]) -> Organisation:
        raw = tuple(map(c.get, self._ORG_COLUMNS, self._ORG_DEFAULTS))
        org = self._org_cache.get(raw)
        if org is None:
            org = self._org_cache[raw] = self._new_organisation(c)
        return org

    def _new_organisation(self, c: dict[str, str]) -> Organisation:
        if c.get("CountryName", "") != "Riket":
            raise self.err("CountryName", "COUNTRY", "CountryName måste vara \"Riket\"", "CountryName must be \"Riket\"")
        node = self.land
        region = c.get("RegionOrganisationId", "")
        kommun_code = c.get("MunicipalityOrganisationID", "")
        h_hsa, h_code, h_name = c.get("HospitalHSAID", ""), c.get("HospitalOrganisationId", ""), c.get("HospitalName", "")
        unit = c.get("UnitHSAID", "")
        lan_code = None
        if region:
            lan_code = region.zfill(2) if region.isdigit() and len(region) < 2 else region
            item = self.lans.get(lan_code)
            if item is None:
                raise self.err("RegionOrganisationId", "BAD_CODE", f"{region!r} är ingen länskod (SCB, två siffror)",
                               f"{region!r} is not a länskod (SCB, two digits)")
            node = self._remember(Organisation(OrgType.LAN, c.get("RegionName") or item.name,
                                               org_id=Identifier(oids.LAN_ROOT, lan_code), parent=node), "RegionName")
        elif kommun_code or h_hsa or h_code or unit:
            raise self.err("RegionOrganisationId", "ORG_CHAIN", "en kommun, ett sjukhus eller en enhet måste höra till ett län",
                           "a kommun, hospital or unit must belong to a län")
        if kommun_code and (h_hsa or h_code):
            raise self.err("MunicipalityOrganisationID", "ORG_CHAIN", "en rad kan inte ha både kommun och sjukhus (R15)",
                           "a row cannot have both a kommun and a hospital (R15)")
        if kommun_code:
            code = kommun_code.zfill(4) if kommun_code.isdigit() and len(kommun_code) < 4 else kommun_code
            k = self.kommuner.get(code)
            if k is None:
                raise self.err("MunicipalityOrganisationID", "BAD_CODE", f"{kommun_code!r} är ingen kommunkod (SCB, fyra siffror)",
                               f"{kommun_code!r} is not a kommunkod (SCB, four digits)")
            if k.lan_code != lan_code:
                raise self.err("MunicipalityOrganisationID", "ORG_CHAIN", f"kommunen {code} {k.name} ligger inte i län {lan_code}",
                               f"kommun {code} is not in län {lan_code}")
            node = self._remember(Organisation(OrgType.KOMMUN, c.get("MunicipalityName") or k.name,
                                               org_id=Identifier(oids.KOMMUN_ROOT, code), parent=node), "MunicipalityName")
        if h_hsa or h_code:
            if h_hsa and h_code:
                raise self.err("HospitalOrganisationId", "ORG_ID", "ett sjukhus har HSA-id eller sjukhuskod, inte båda",
                               "a hospital has an HSA-id or a sjukhuskod, not both")
            if not h_name:
                raise self.err("HospitalName", "MISSING_VALUE", "HospitalName saknas", "HospitalName is empty")
            if h_hsa and not _HSA.match(h_hsa):
                raise self.err("HospitalHSAID", "BAD_CODE", f"{h_hsa!r} är inget HSA-id", f"{h_hsa!r} is not an HSA-id")
            if h_code and not _SJUKHUS.match(h_code):
                raise self.err("HospitalOrganisationId", "BAD_CODE", f"{h_code!r} är ingen sjukhuskod", f"{h_code!r} is not a sjukhuskod")
            org = Organisation(OrgType.SJUKHUS, h_name, hsa_id=h_hsa or None,
                               org_id=Identifier(oids.SJUKHUS_ROOT, h_code) if h_code else None, parent=node)
            node = self._remember(org, "HospitalName")
        elif h_name:
            raise self.err("HospitalHSAID", "ORG_ID", "HospitalName utan HospitalHSAID eller HospitalOrganisationId",
                           "HospitalName without HospitalHSAID or HospitalOrganisationId")
        if unit:
            name = c.get("UnitName", "")
            if not _HSA.match(unit):
                raise self.err("UnitHSAID", "BAD_CODE", f"{unit!r} är inget HSA-id", f"{unit!r} is not an HSA-id")
            if not name:
                raise self.err("UnitName", "MISSING_VALUE", "UnitName saknas", "UnitName is empty")
            node = self._remember(Organisation(OrgType.VARDENHET, name, hsa_id=unit, parent=node), "UnitName")
        elif c.get("UnitName"):
            raise self.err("UnitHSAID", "ORG_ID", "UnitName utan UnitHSAID", "UnitName without UnitHSAID")
        return node

