"""TAK (tjänsteadresseringskatalogen): routes (vägval) and permissions (anropsbehörighet).

Reads the TAK export JSON (``GET /tak-services/export/pv``): ``data.{logiskadress, tjanstekontrakt,
tjanstekomponent, rivtaprofil, anropsadress, vagval, anropsbehorighet}``. Relationships may name their target
(newer exports: ``logiskAdress: <hsaId>``, ``anropsadress: <url>``) or give its ``id`` (older exports); both load.

Lookups behave like skltp/takcache: keys are lower-cased (case-insensitive), only entries with
``fromTidpunkt ≤ now ≤ tomTidpunkt`` count, and the fallbacks differ on purpose:
vägval tries exact → HSA parents → ``*``; behörighet tries exact → ``*`` → HSA parents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from . import takapi

ROOT_HSA = "SE"  # the HSA tree's root; an unknown HSA-id has this parent (skltp hsa-cache)


class TakError(ValueError):
    """The TAK file cannot be used; the message says where."""


@dataclass(frozen=True)
class Route:
    logical_address: str
    namespace: str
    address: str
    riv_profile: str
    producer_hsa_id: str
    valid_from: datetime
    valid_to: datetime
    connection_point: str = ""  # TAK-API v2: "NTJP/TEST" etc.; the export holds one platform and leaves it empty


@dataclass(frozen=True)
class Permission:
    logical_address: str
    namespace: str
    consumer_hsa_id: str
    valid_from: datetime
    valid_to: datetime
    agreement: str = ""
    connection_point: str = ""


@dataclass
class Tak:
    routes: list[Route] = field(default_factory=list)
    permissions: list[Permission] = field(default_factory=list)
    hsa_parents: dict[str, str] = field(default_factory=dict)  # child HSA-id (lower) → parent
    version: str = ""

    @property
    def connection_points(self) -> set[str]:
        """The platforms/environments the data covers (TAK-API v2); empty for a one-platform export."""
        return {x.connection_point for x in (*self.routes, *self.permissions) if x.connection_point}

    def at(self, connection_point: str) -> "Tak":
        """Only the entries of one platform/environment (the public TAK-API lists them all together)."""
        cp = connection_point.upper()
        return Tak([r for r in self.routes if r.connection_point == cp], [p for p in self.permissions if p.connection_point == cp],
                   dict(self.hsa_parents), self.version)

    # --- lookups ---------------------------------------------------------------------------------------
    def routes_for(self, receiver_id: str, namespace: str | None, now: datetime) -> list[Route]:
        def exact(rid: str) -> list[Route]:
            key = (rid.lower(), (namespace or "").lower())
            return [r for r in self._route_index.get(key, []) if r.valid_from <= now <= r.valid_to]

        found = exact(receiver_id)
        if found:
            return found
        for parent in self._parents(receiver_id):
            found = exact(parent)
            if found:
                return found
        return exact("*")

    def is_authorised(self, sender_id: str, receiver_id: str, namespace: str | None, now: datetime) -> bool:
        def exact(rid: str) -> bool:
            key = (rid.lower(), sender_id.lower(), (namespace or "").lower())
            return any(p.valid_from <= now <= p.valid_to for p in self._permission_index.get(key, []))

        if exact(receiver_id) or exact("*"):
            return True
        return any(exact(parent) for parent in self._parents(receiver_id))

    def _parents(self, hsa_id: str) -> list[str]:
        """HSA parents up to (and including) the root ``SE``; only when an HSA map was given."""
        if not self.hsa_parents:
            return []
        out, seen, current = [], set(), hsa_id.lower()
        while current != ROOT_HSA.lower() and current not in seen:
            seen.add(current)
            current = self.hsa_parents.get(current, ROOT_HSA).lower()
            out.append(current)
        return out

    @property
    def _route_index(self) -> dict[tuple[str, str], list[Route]]:
        if "_ri" not in self.__dict__:
            idx: dict[tuple[str, str], list[Route]] = {}
            for r in self.routes:
                idx.setdefault((r.logical_address.lower(), r.namespace.lower()), []).append(r)
            self.__dict__["_ri"] = idx
        return self.__dict__["_ri"]

    @property
    def _permission_index(self) -> dict[tuple[str, str, str], list[Permission]]:
        if "_pi" not in self.__dict__:
            idx: dict[tuple[str, str, str], list[Permission]] = {}
            for p in self.permissions:
                idx.setdefault((p.logical_address.lower(), p.consumer_hsa_id.lower(), p.namespace.lower()), []).append(p)
            self.__dict__["_pi"] = idx
        return self.__dict__["_pi"]


# --- loading -------------------------------------------------------------------------------------------

def parse_time(value: Any, *, end_of_day: bool = False) -> datetime:
    """TAK times: ``yyyy-MM-dd'T'HH:mm:ssZ`` (``+0100``), ISO 8601, or a plain date (a ``tom`` date lasts the day)."""
    if value is None or value == "":
        return datetime.max.replace(tzinfo=timezone.utc) if end_of_day else datetime.min.replace(tzinfo=timezone.utc)
    text = str(value).strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime.combine(d, time.max if end_of_day else time.min, tzinfo=timezone.utc)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        elif len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
            text = text[:-2] + ":" + text[-2:]
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise TakError(f"ogiltig tidpunkt {value!r} (invalid time)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _rel(item: Mapping[str, Any], *names: str) -> Any:
    rel = item.get("relationships") or {}
    lowered = {k.lower(): v for k, v in rel.items()}
    for n in names:
        if n.lower() in lowered:
            return lowered[n.lower()]
    return None


def _resolver(rows: list[Mapping[str, Any]], name_key: str, what: str):
    by_id = {row.get("id"): row.get(name_key) for row in rows if "id" in row}

    def resolve(value: Any, where: str) -> str:
        if value is None:
            raise TakError(f"{where}: saknar relation till {what} (missing relationship)")
        if isinstance(value, int) and not isinstance(value, bool):
            if value not in by_id:
                raise TakError(f"{where}: {what} med id {value} finns inte (unknown id)")
            return str(by_id[value])
        return str(value)

    return resolve


def load_export(data: Mapping[str, Any], hsa_parents: Mapping[str, str] | None = None) -> Tak:
    """Build a Tak from a parsed TAK export (the ``/tak-services/export/pv`` JSON)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), Mapping):
        raise TakError("varken en TAK-export (objektet 'data') eller TAK-API v2 (serviceProductions, cooperations) "
                       "(not a TAK export or TAK-API v2 data)")
    d = {k.lower(): v for k, v in data["data"].items()}

    def rows(name: str) -> list[Mapping[str, Any]]:
        value = d.get(name, [])
        if not isinstance(value, list) or not all(isinstance(x, Mapping) for x in value):
            raise TakError(f"data.{name} ska vara en lista av objekt (must be a list of objects)")
        return value

    la = _resolver(rows("logiskadress"), "hsaId", "logiskAdress")
    tk = _resolver(rows("tjanstekontrakt"), "namnrymd", "tjanstekontrakt")
    comp = _resolver(rows("tjanstekomponent"), "hsaId", "tjanstekomponent")
    prof = _resolver(rows("rivtaprofil"), "namn", "rivtaprofil")
    addresses: dict[str, tuple[str, str, str]] = {}  # key (id or url) → (url, profile, component)
    for i, a in enumerate(rows("anropsadress")):
        where = f"anropsadress[{i}]"
        url = str(a.get("adress") or "")
        entry = (url, prof(_rel(a, "rivtaprofil"), where), comp(_rel(a, "tjanstekomponent"), where))
        if "id" in a:
            addresses[a["id"]] = entry
        addresses.setdefault(url, entry)

    tak = Tak(hsa_parents={k.lower(): v for k, v in (hsa_parents or {}).items()}, version=str(data.get("version", "")))
    for i, v in enumerate(rows("vagval")):
        where = f"vagval[{i}]"
        ref = _rel(v, "anropsadress")
        if ref not in addresses:
            raise TakError(f"{where}: anropsadress {ref!r} finns inte (unknown address)")
        url, profile, component = addresses[ref]
        tak.routes.append(Route(
            la(_rel(v, "logiskAdress", "logiskadress"), where), tk(_rel(v, "tjanstekontrakt"), where), url, profile,
            component, parse_time(v.get("fromTidpunkt")), parse_time(v.get("tomTidpunkt"), end_of_day=True),
        ))
    for i, b in enumerate(rows("anropsbehorighet")):
        where = f"anropsbehorighet[{i}]"
        tak.permissions.append(Permission(
            la(_rel(b, "logiskAdress", "logiskadress"), where), tk(_rel(b, "tjanstekontrakt"), where),
            comp(_rel(b, "tjanstekonsument", "tjanstekomponent"), where),
            parse_time(b.get("fromTidpunkt")), parse_time(b.get("tomTidpunkt"), end_of_day=True),
            str(b.get("integrationsavtal") or ""),
        ))
    return tak


def load_takapi(data: Any, hsa_parents: Mapping[str, str] | None = None) -> Tak:
    """Build a Tak from the public TAK-API v2 (takapi.py); a snapshot of what is published, so always valid."""
    always = (datetime.min.replace(tzinfo=timezone.utc), datetime.max.replace(tzinfo=timezone.utc))
    routes, permissions = takapi.read(data)
    return Tak([Route(**r, valid_from=always[0], valid_to=always[1]) for r in routes],
               [Permission(**p, valid_from=always[0], valid_to=always[1]) for p in permissions],
               {k.lower(): v for k, v in (hsa_parents or {}).items()}, "TAK-API v2")


def load_file(path: Path, hsa_file: Path | None = None) -> Tak:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TakError(f"{path}: kan inte läsas som JSON ({exc})") from None
    parents = None
    if hsa_file is not None:
        try:
            parents = json.loads(Path(hsa_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TakError(f"{hsa_file}: kan inte läsas som JSON ({exc})") from None
        if not isinstance(parents, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parents.items()):
            raise TakError(f"{hsa_file}: ska vara ett objekt {{barn-HSA-id: förälder-HSA-id}}")
    try:
        if takapi.is_takapi(data):  # the public TAK-API v2 (serviceProductions, cooperations, …)
            return load_takapi(data, parents)
        return load_export(data, parents)
    except (TakError, takapi.TakApiError) as exc:
        raise TakError(f"{path}: {exc}") from None


class TakSource:
    """The platform's TAK cache: re-reads the file when it changes; keeps the last good copy when it breaks.

    ``current()`` is None only when no good copy was ever loaded: every call then gets VP008, as VP does
    without TAK contact and without a local cache.
    """

    def __init__(self, path: Path, hsa_file: Path | None = None):
        self.path, self.hsa_file = Path(path), hsa_file
        self._tak: Tak | None = None
        self._stamp: tuple[float, int] | None = None
        self.last_error: str | None = None

    def current(self) -> Tak | None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime, st.st_size)
        except OSError as exc:
            self.last_error = str(exc)
            return self._tak
        if stamp != self._stamp:
            try:
                self._tak = load_file(self.path, self.hsa_file)
                self.last_error = None
            except TakError as exc:
                self.last_error = str(exc)
            self._stamp = stamp
        return self._tak


def export_document(routes: list[dict[str, str]], permissions: list[dict[str, str]], *, version: int = 1,
                    valid_from: str = "2020-01-01T00:00:00+0000", valid_to: str = "2120-01-01T00:00:00+0000",
                    comment: str = "indikera") -> dict[str, Any]:
    """Write a TAK export (names as relationships) from plain route/permission dicts — for local setups and tests.

    route: {logiskAdress, tjanstekontrakt, adress, rivtaprofil, tjanstekomponent}
    permission: {logiskAdress, tjanstekontrakt, tjanstekonsument}
    """
    las = sorted({r["logiskAdress"] for r in routes} | {p["logiskAdress"] for p in permissions})
    tks = sorted({r["tjanstekontrakt"] for r in routes} | {p["tjanstekontrakt"] for p in permissions})
    comps = sorted({r["tjanstekomponent"] for r in routes} | {p["tjanstekonsument"] for p in permissions})
    addrs = sorted({(r["adress"], r.get("rivtaprofil", "RIVTABP21"), r["tjanstekomponent"]) for r in routes})
    return {
        "formatVersion": 1, "version": version, "tidpunkt": valid_from, "utforare": "indikera", "kommentar": comment,
        "data": {
            "rivtaprofil": [{"id": 1, "namn": "RIVTABP20"}, {"id": 2, "namn": "RIVTABP21"}],
            "tjanstekontrakt": [{"id": i, "namnrymd": n} for i, n in enumerate(tks, 1)],
            "logiskadress": [{"id": i, "hsaId": h} for i, h in enumerate(las, 1)],
            "tjanstekomponent": [{"id": i, "hsaId": h} for i, h in enumerate(comps, 1)],
            "anropsadress": [{"id": i, "adress": a, "relationships": {"rivtaprofil": p, "tjanstekomponent": c}}
                             for i, (a, p, c) in enumerate(addrs, 1)],
            "vagval": [{"id": i, "fromTidpunkt": valid_from, "tomTidpunkt": valid_to, "relationships": {
                "logiskAdress": r["logiskAdress"], "anropsadress": r["adress"], "tjanstekontrakt": r["tjanstekontrakt"]}}
                for i, r in enumerate(routes, 1)],
            "anropsbehorighet": [{"id": i, "integrationsavtal": "AUTOTAKNING", "fromTidpunkt": valid_from,
                                  "tomTidpunkt": valid_to, "relationships": {
                                      "logiskAdress": p["logiskAdress"], "tjanstekonsument": p["tjanstekonsument"],
                                      "tjanstekontrakt": p["tjanstekontrakt"]}}
                                 for i, p in enumerate(permissions, 1)],
        },
    }
