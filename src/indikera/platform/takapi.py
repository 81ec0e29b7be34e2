"""The public TAK-API (skltp-integration/cooperation, ``/coop/api/v2/…``) as a TAK: what an operator can download.

``serviceProductions`` are TAK's vägval (``physicalAddress``, ``rivtaProfile``, ``serviceProducer``,
``logicalAddress``, ``serviceContract``, ``connectionPoint``) and ``cooperations`` its anropsbehörigheter
(``serviceConsumer``, ``logicalAddress``, ``serviceContract``, ``connectionPoint``); a connection point is one
platform and environment (``NTJP``/``TEST``, ``QA``, ``PROD``). Accepted files: one downloaded list
(``serviceProductions?include=…`` or ``cooperations?include=…``), or an object holding both lists under those
names — plus, when the lists hold bare ``{"id": n}`` references, the referenced lists (``logicalAddresses``,
``serviceContracts``, ``serviceProducers``, ``serviceConsumers``, ``connectionPoints``). The API is a snapshot of
what is published now, so its entries carry no validity period.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_LISTS = ("serviceProductions", "cooperations", "logicalAddresses", "serviceContracts", "serviceProducers",
          "serviceConsumers", "connectionPoints")


def is_takapi(data: Any) -> bool:
    if isinstance(data, Mapping):
        return "data" not in data and any(k in data for k in ("serviceProductions", "cooperations"))
    return (isinstance(data, list) and bool(data) and isinstance(data[0], Mapping)
            and any(k in data[0] for k in ("physicalAddress", "serviceConsumer")))


def connection_point_name(cp: Mapping[str, Any] | None) -> str:
    """``NTJP/TEST``: platform and environment, upper case, as the TAK-API names them."""
    if not cp:
        return ""
    return f"{str(cp.get('platform') or '').upper()}/{str(cp.get('environment') or '').upper()}"


class TakApiError(ValueError):
    """The TAK-API data cannot be used; the message says where (tak.py turns it into a TakError)."""


def read(data: Any) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(vägval, anropsbehörigheter) as plain records; tak.py builds its Route and Permission from them."""
    if isinstance(data, list):  # one downloaded list: tell productions from cooperations by their fields
        key = "serviceProductions" if "physicalAddress" in data[0] else "cooperations"
        data = {key: data}
    for name in _LISTS:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(x, Mapping) for x in value):
            raise TakApiError(f"{name} ska vara en lista av objekt (must be a list of objects)")
    index = {name: {row.get("id"): row for row in data.get(name, []) if "id" in row} for name in _LISTS}

    def ref(item: Mapping[str, Any], field: str, listname: str, key: str, where: str) -> str:
        value = item.get(field)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and listname and value in index[listname]:
            value = index[listname][value]
        elif isinstance(value, Mapping) and key not in value and value.get("id") in index[listname]:
            value = index[listname][value["id"]]  # a bare {"id": n}: look it up in the referenced list
        if isinstance(value, Mapping):
            value = value.get(key)
        if value in (None, "") or isinstance(value, (Mapping, list)):
            raise TakApiError(f"{where}: {field}.{key} saknas (missing; download with include={field})")
        return str(value)

    def point(item: Mapping[str, Any]) -> str:
        cp = item.get("connectionPoint")
        if isinstance(cp, Mapping) and "platform" not in cp:
            cp = index["connectionPoints"].get(cp.get("id"))
        elif isinstance(cp, int):
            cp = index["connectionPoints"].get(cp)
        return connection_point_name(cp if isinstance(cp, Mapping) else None)

    routes, permissions = [], []
    for i, p in enumerate(data.get("serviceProductions", [])):
        where = f"serviceProductions[{i}]"
        routes.append({
            "logical_address": ref(p, "logicalAddress", "logicalAddresses", "logicalAddress", where),
            "namespace": ref(p, "serviceContract", "serviceContracts", "namespace", where),
            "address": str(p.get("physicalAddress") or ""), "riv_profile": str(p.get("rivtaProfile") or ""),
            "producer_hsa_id": ref(p, "serviceProducer", "serviceProducers", "hsaId", where), "connection_point": point(p)})
    for i, c in enumerate(data.get("cooperations", [])):
        where = f"cooperations[{i}]"
        permissions.append({
            "logical_address": ref(c, "logicalAddress", "logicalAddresses", "logicalAddress", where),
            "namespace": ref(c, "serviceContract", "serviceContracts", "namespace", where),
            "consumer_hsa_id": ref(c, "serviceConsumer", "serviceConsumers", "hsaId", where), "connection_point": point(c)})
    return routes, permissions
