"""The LogicalAddress header (urn:riv:itintegration:registry:1): which system the consumer addresses.

For GetQualityIndicators it is the HSA-id of the reporting system. This producer answers only for the
configured accepted addresses (``Settings.logical_addresses``, by default the reporting system's HSA-id),
compared case-insensitively as HSA-ids are. Surrounding whitespace is refused with its own message: it
is a consumer bug that would otherwise look like an unknown address.
"""

from __future__ import annotations

from ..rivta import REGISTRY_NS
from .soap import client_fault


def check(address: str | None, accepted: tuple[str, ...]) -> str:
    """The address as sent, when this producer answers for it; otherwise a Client fault."""
    listing = ", ".join(accepted)
    if address is None:
        raise client_fault(
            "LOGICAL_ADDRESS_MISSING",
            f"SOAP-headern LogicalAddress saknas; producenten svarar för: {listing}",
            f"the SOAP header LogicalAddress ({REGISTRY_NS}) is missing; this producer answers for: {listing}",
        )
    if not address.strip():
        raise client_fault(
            "LOGICAL_ADDRESS_EMPTY",
            f"LogicalAddress är tom; producenten svarar för: {listing}",
            f"the LogicalAddress header is empty; this producer answers for: {listing}",
        )
    if address != address.strip():
        raise client_fault(
            "LOGICAL_ADDRESS_WHITESPACE",
            f"LogicalAddress {address!r} har inledande eller avslutande blanktecken",
            f"the LogicalAddress {address!r} has surrounding whitespace; send exactly the HSA-id ({listing})",
        )
    folded = address.casefold()
    if not any(folded == a.casefold() for a in accepted):
        raise client_fault(
            "LOGICAL_ADDRESS_UNKNOWN",
            f"producenten svarar inte för den logiska adressen {address!r}, bara för: {listing}",
            f"this producer does not answer for the logical address {address!r}; it answers for: {listing}",
        )
    return address
