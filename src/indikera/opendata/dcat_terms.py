"""DCAT-AP-SE 3.0.1 vocabulary the catalogue uses and the settings that choose from it (no rdflib here, so
start-up can check the settings without loading it)."""

from __future__ import annotations

import re

from ..config import Settings

ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
# The ADMS publisher-type vocabulary, as DCAT-AP-SE 3.0.1 lists it (adms:publishertype).
PUBLISHER_TYPES = (
    "Academia-ScientificOrganisation", "Company", "IndustryConsortium", "LocalAuthority", "NationalAuthority",
    "NonGovernmentalOrganisation", "NonProfitOrganisation", "PrivateIndividual(s)", "RegionalAuthority",
    "StandardisationBody", "SupraNationalAuthority",
)


def publisher_type_iri(settings: Settings) -> str:
    """The publisher type IRI for ``dcat_publisher_type`` (a name of the vocabulary, any case, or its full IRI);
    anything else is a ValueError naming the setting, raised at start-up."""
    value = settings.dcat_publisher_type.strip().removeprefix(ADMS_PUBLISHER_TYPE)
    for name in PUBLISHER_TYPES:
        if name.lower() == value.lower():
            return ADMS_PUBLISHER_TYPE + name
    raise ValueError(f"dcat_publisher_type: {settings.dcat_publisher_type!r} är inte en av / is not one of "
                     f"{', '.join(PUBLISHER_TYPES)}")


def telephone_iri(settings: Settings) -> str | None:
    """``contact_phone`` as a ``tel:`` IRI (RFC 3966: digits and a leading +), or None when not set."""
    digits = re.sub(r"[\s()./-]", "", settings.contact_phone)
    if not digits:
        return None
    if not re.fullmatch(r"\+?[0-9]{3,20}", digits):
        raise ValueError(f"contact_phone: {settings.contact_phone!r} är inget telefonnummer / is not a telephone number")
    return "tel:" + digits


def check(settings: Settings) -> None:
    """Refuse bad DCAT settings when the app starts, not when a harvester first asks."""
    publisher_type_iri(settings)
    telephone_iri(settings)
