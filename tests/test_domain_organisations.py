"""Organisations: only the contract's chains (R15) with the right identifiers (R16) can be built."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indikera.domain import oids
from indikera.domain.errors import DomainError
from indikera.domain.organisations import (
    ALLOWED_CHAINS,
    ALLOWED_PARENTS,
    Identifier,
    Organisation,
    OrgType,
    is_allowed_chain,
    kommun,
    lan,
    riket,
)


def test_riket_is_land_se():
    r = riket()
    assert (r.type, r.org_id.root, r.org_id.extension, r.parent) == (OrgType.LAND, oids.LAND_ROOT, "SE", None)


def test_vardenhet_kommun_lan_land_chain():
    solna = kommun("0184", "Solna", lan("01", "Stockholm"))
    ve = Organisation(OrgType.VARDENHET, "VC Solna", hsa_id="SE2321000016-YYYY", parent=solna)
    assert ve.chain_types() == (OrgType.VARDENHET, OrgType.KOMMUN, OrgType.LAN, OrgType.LAND)
    assert ve.key == "hsa:SE2321000016-YYYY"


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Organisation(OrgType.VARDENHET, "x", hsa_id="SE1-1", parent=riket()), "cannot be part of a Land"),
        (lambda: Organisation(OrgType.KOMMUN, "x", org_id=Identifier(oids.KOMMUN_ROOT, "0184"), parent=riket()), "cannot be part"),
        (lambda: Organisation(OrgType.VARDENHET, "x", hsa_id="SE1-1"), "must be part of"),
        (lambda: Organisation(OrgType.LAN, "x", org_id=Identifier(oids.LAN_ROOT, "01")), "must be part of Land"),
        (lambda: Organisation(OrgType.LAN, "x", org_id=Identifier(oids.KOMMUN_ROOT, "01"), parent=riket()), "root"),
        (lambda: Organisation(OrgType.LAN, "x", org_id=Identifier(oids.LAN_ROOT, "1"), parent=riket()), "2-digit"),
        (lambda: Organisation(OrgType.LAND, "Riket", org_id=Identifier(oids.LAND_ROOT, "NO")), "SE"),
        (lambda: Organisation(OrgType.VARDENHET, "x", parent=lan("01", "S")), "HSA-id"),
        (lambda: Organisation(OrgType.VARDENHET, "x", hsa_id=" SE1-1", parent=lan("01", "S")), "whitespace"),
        (lambda: Organisation(OrgType.SJUKHUS, "x", hsa_id="SE1", org_id=Identifier(oids.SJUKHUS_ROOT, "51001"), parent=lan("01", "S")), "exactly one"),
        (lambda: Organisation(OrgType.SJUKHUS, "x", org_id=Identifier(oids.LAN_ROOT, "51001"), parent=lan("01", "S")), "sjukhuskod"),
        (lambda: Organisation(OrgType.LAN, "", org_id=Identifier(oids.LAN_ROOT, "01"), parent=riket()), "name"),
        (lambda: Organisation("Län", "x"), "not an organisation type"),
    ],
)
def test_forbidden_organisations_are_refused_with_a_reason(build, message):
    with pytest.raises(DomainError) as err:
        build()
    assert message in err.value.en and err.value.sv != err.value.en  # Swedish first, English alongside


# --- property: every organisation the model lets you build is an allowed chain ---------------------

def _identified(t: OrgType, n: int) -> dict:
    if t is OrgType.VARDENHET:
        return {"hsa_id": f"SE2321000000-{n}"}
    if t is OrgType.SJUKHUS:
        return {"org_id": Identifier(oids.SJUKHUS_ROOT, f"{51000 + n}")} if n % 2 else {"hsa_id": f"SE1-S{n}"}
    if t is OrgType.KOMMUN:
        return {"org_id": Identifier(oids.KOMMUN_ROOT, f"{n % 10000:04d}")}
    if t is OrgType.LAN:
        return {"org_id": Identifier(oids.LAN_ROOT, f"{n % 100:02d}")}
    if t is OrgType.SJUKVARDSREGION:
        return {"org_id": Identifier(oids.SJUKVARDSREGION_ROOT, f"R{n}")}
    return {"org_id": Identifier(oids.LAND_ROOT, "SE")}


@given(st.lists(st.sampled_from(list(OrgType)), min_size=1, max_size=6), st.integers(0, 9999))
def test_every_buildable_organisation_is_an_allowed_chain(types, n):
    """Build root-first from random type sequences; whatever the model accepts is one of R15's chains."""
    parent = None
    try:
        for t in types:
            parent = Organisation(t, f"org {t.value}", parent=parent, **_identified(t, n))
    except DomainError:
        return  # refused: fine, the model only has to refuse bad chains
    assert parent is not None
    assert is_allowed_chain(parent.chain_types())
    assert parent.chain_types()[-1] is OrgType.LAND


@given(st.sampled_from(ALLOWED_CHAINS), st.integers(0, 9999))
def test_every_allowed_chain_can_be_built(chain, n):
    parent = None
    for t in reversed(chain):
        parent = Organisation(t, f"org {t.value}", parent=parent, **_identified(t, n))
    assert parent.chain_types() == chain


def test_parent_table_matches_the_chains():
    for chain in ALLOWED_CHAINS:
        for child, parent in zip(chain, chain[1:]):
            assert parent in ALLOWED_PARENTS[child]
