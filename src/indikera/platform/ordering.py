"""The TAK order (Beställningsstöd JSON) for the producer: vägval and anropsbehörigheter in one file.

Format: skltp/tak ``jsonBestallningSchema.json`` — ``plattform, formatVersion, version, bestallningsTidpunkt,
genomforandeTidpunkt, utforare, kommentar, inkludera{tjanstekontrakt, logiskadresser, tjanstekomponenter,
anropsbehorigheter, vagval}, exkludera{anropsbehorigheter, vagval}``. TAK upper-cases HSA-ids on import, so
we write them upper-case already; problems are reported before anything is written.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ..rivta import QUALITYREPORTING_PATH_SUFFIX as URL_SUFFIX
from .environments import CONTRACT_DESCRIPTION, CONTRACT_NAMESPACE, Environment

PLATFORMS = ("NTJP-DEV", "NTJP-TEST", "NTJP-QA", "NTJP-PROD")
RIV_PROFILE = "RIVTABP21"


class OrderError(ValueError):
    pass


def problems(env: Environment) -> list[str]:
    out = [f"{name} saknas i profilen för {env.name} (missing)" for name in env.missing_for_order()]
    url = urlsplit(env.producer_url) if env.producer_url else None
    if url is not None:
        if url.scheme != "https":
            out.append(f"producer_url ska vara https (NTjP anropar producenter med TLS): {env.producer_url}")
        if not url.path.endswith(URL_SUFFIX):
            out.append(f"producer_url ska sluta med {URL_SUFFIX} (RIVTA BP 2.1 regel 19): {env.producer_url}")
        if url.hostname in ("127.0.0.1", "localhost") and env.plattform in PLATFORMS:
            out.append(f"producer_url pekar på den egna datorn ({url.hostname}); NTjP når den inte")
    return out


def build_order(env: Environment, *, who: str, comment: str = "", when: datetime | None = None,
                version: int = 1) -> dict[str, Any]:
    found = problems(env)
    if found:
        raise OrderError("; ".join(found))
    when = when or datetime.now(timezone.utc)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S%z")
    producer = env.producer_hsa_id.upper()
    addresses = [a.upper() for a in env.effective_logical_addresses]
    consumers = [c.upper() for c in env.consumers]
    return {
        "plattform": env.plattform,
        "formatVersion": 1,
        "version": version,
        "bestallningsTidpunkt": stamp,
        "genomforandeTidpunkt": stamp,
        "utforare": who,
        "kommentar": comment or f"indikera: GetQualityIndicators v2 i {env.title}",
        "inkludera": {
            "tjanstekontrakt": [{"namnrymd": CONTRACT_NAMESPACE, "beskrivning": CONTRACT_DESCRIPTION, "majorVersion": 2}],
            "logiskadresser": [{"hsaId": a, "beskrivning": env.producer_description or f"indikera ({a})"} for a in addresses],
            "tjanstekomponenter": [{"hsaId": producer, "beskrivning": env.producer_description or "indikera, producent"}]
            + [{"hsaId": c, "beskrivning": "Tjänstekonsument"} for c in consumers if c != producer],
            "anropsbehorigheter": [{"logiskAdress": a, "tjanstekontrakt": CONTRACT_NAMESPACE, "tjanstekonsument": c}
                                   for a in addresses for c in consumers],
            "vagval": [{"adress": env.producer_url, "logiskAdress": a, "tjanstekontrakt": CONTRACT_NAMESPACE,
                        "rivtaprofil": RIV_PROFILE, "tjanstekomponent": producer} for a in addresses],
        },
        "exkludera": {"tjanstekontrakt": [], "logiskadresser": [], "tjanstekomponenter": [], "anropsbehorigheter": [], "vagval": []},
    }


def order_as_tak_export(order: dict[str, Any]) -> dict[str, Any]:
    """What TAK will hold once the order is imported — a TAK export the stand-in can route with."""
    from .tak import export_document

    inc = order["inkludera"]
    return export_document(
        [{"logiskAdress": v["logiskAdress"], "tjanstekontrakt": v["tjanstekontrakt"], "adress": v["adress"],
          "rivtaprofil": v["rivtaprofil"], "tjanstekomponent": v["tjanstekomponent"]} for v in inc["vagval"]],
        [dict(b) for b in inc["anropsbehorigheter"]],
        comment=order.get("kommentar", ""),
    )


def verify_in_tak(env: Environment, tak, now: datetime | None = None) -> list[str]:
    """What is missing in a TAK export for this environment's order (empty: the order is in place)."""
    now = now or datetime.now(timezone.utc)
    missing = []
    for a in env.effective_logical_addresses:
        routes = tak.routes_for(a, CONTRACT_NAMESPACE, now)
        if not routes:
            missing.append(f"vägval för {a} saknas")
        elif env.producer_url and all(r.address != env.producer_url for r in routes):
            missing.append(f"vägval för {a} pekar på {routes[0].address}, inte {env.producer_url}")
        for c in env.consumers:
            if not tak.is_authorised(c, a, CONTRACT_NAMESPACE, now):
                missing.append(f"anropsbehörighet för {c} → {a} saknas")
    return missing
