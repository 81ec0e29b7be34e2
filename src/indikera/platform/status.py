"""``indikera connection status``: the connection steps and what indikera can verify of each.

Steps (Inera's process): förstudie → test certificate → order in test → self-tests → self-declaration →
second förstudie → production certificate → production order. Paper steps are ``manual``; for the others
indikera checks what is on this machine: certificate files, the order against a TAK export, the latest
conformance report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import certs
from .environments import Environment
from .ordering import problems, verify_in_tak
from .tak import Tak

OK, TODO, MANUAL, FAILED, WARNING = "ok", "att göra", "manuellt", "fel", "varning"


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    status: str
    verified: str  # what indikera checked (or why it cannot)
    helps: str  # which indikera command helps


def _cert_step(number: int, name: str, env: Environment) -> Step:
    helps = f"indikera certs csr --hsa-id … ; indikera certs check CERT --ca-bundle … --hsa-id … (miljö {env.name})"
    if env.cert is None:
        return Step(number, name, TODO, f"Inget certifikat angivet för {env.name} (cert i profilen).", helps)
    if not Path(env.cert).is_file():
        return Step(number, name, FAILED, f"{env.cert} finns inte.", helps)
    try:
        findings = certs.check(Path(env.cert), key_path=env.key, ca_bundle=env.ca_bundle, hsa_id=env.producer_hsa_id or None,
                               ca_names=env.ca_names)
    except (OSError, ValueError) as exc:
        return Step(number, name, FAILED, str(exc), helps)
    worst = FAILED if any(f.failed for f in findings) else WARNING if any(f.level == "warning" for f in findings) else OK
    return Step(number, name, worst, " ".join(f"[{f.check}] {f.text}" for f in findings), helps)


def _order_step(number: int, name: str, env: Environment, tak: Tak | None) -> Step:
    helps = f"indikera connection order --env {env.name} --out order.json"
    found = problems(env)
    if found:
        return Step(number, name, TODO, "Profilen räcker inte för en beställning: " + "; ".join(found), helps)
    if tak is None:
        return Step(number, name, MANUAL, "Beställningen kan skrivas. Att den är genomförd syns först i TAK: ange "
                                           "--tak EXPORT.json (från TAK-API:t) för att kontrollera.", helps)
    source = "TAK-exporten"
    if tak.connection_points:  # the public TAK-API lists every platform and environment: check this one's
        wanted = connection_point(env)
        if wanted not in tak.connection_points:
            return Step(number, name, FAILED, f"TAK-datan gäller {', '.join(sorted(tak.connection_points))}, inte "
                                               f"{wanted} ({env.title}); hämta från {env.tak_api or 'rätt miljös TAK-API'}.", helps)
        tak, source = tak.at(wanted), f"TAK-API:t ({wanted})"
    missing = verify_in_tak(env, tak)
    if missing:
        return Step(number, name, FAILED, f"{source} saknar: " + "; ".join(missing), helps)
    return Step(number, name, OK, f"Vägval och anropsbehörigheter finns i {source}: producentens logiska adress "
                                   f"{', '.join(env.effective_logical_addresses)} → {env.producer_url}; "
                                   f"konsumenter {', '.join(env.consumers)}.", helps)


def connection_point(env: Environment) -> str:
    """The TAK-API connection point of an environment: Beställningsstöd ``NTJP-TEST`` → ``NTJP/TEST``."""
    platform, _, environment = env.plattform.upper().partition("-")
    return f"{platform}/{environment}"


def latest_report(directory: Path | None) -> dict | None:
    if directory is None or not Path(directory).is_dir():
        return None
    reports = sorted(Path(directory).glob("**/conformance-report.json"), key=lambda p: p.stat().st_mtime)
    if not reports:
        return None
    try:
        data = json.loads(reports[-1].read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    data["_path"] = str(reports[-1])
    return data


def _selftest_step(number: int, env: Environment) -> Step:
    helps = f"indikera conformance run URL --logical-address … --measure … --out {env.reports_dir or 'reports/' + env.name}"
    report = latest_report(env.reports_dir)
    if report is None:
        return Step(number, "Egentester (TK-testsvit)", TODO, "Ingen konformitetsrapport hittad (reports_dir i profilen).", helps)
    summary = report.get("summary", {})
    pending = summary.get("manualPending") or []
    text = (f"{report['_path']}: {summary.get('passed', 0)} godkända, {summary.get('failed', 0)} underkända, "
            f"körd {report.get('finished', '?')} mot {report.get('environment', {}).get('url', '?')}."
            + (f" Manuella steg kvar: {', '.join(pending)}." if pending else ""))
    return Step(number, "Egentester (TK-testsvit)", OK if approved(report) else FAILED, text, helps)


def approved(report: dict | None) -> bool:
    """The report's own verdict (every automatable case ran and passed); older reports: no failed case."""
    summary = (report or {}).get("summary", {})
    return bool(summary.get("approved", summary.get("failed", 1) == 0))


def steps(test: Environment, prod: Environment, *, test_tak: Tak | None = None, prod_tak: Tak | None = None) -> list[Step]:
    report = latest_report(test.reports_dir)
    return [
        Step(1, "Förstudie", MANUAL, "Inera granskar; kan inte kontrolleras här.",
             "docs/connection.md; `connection order --env sit` visar de tekniska uppgifterna förstudien frågar efter"),
        _cert_step(2, "Testcertifikat (SITHS, test)", test),
        _order_step(3, "Beställning i test (Beställningsstödet)", test, test_tak),
        _selftest_step(4, test),
        Step(5, "Självdeklaration", MANUAL if approved(report) else TODO,
             "Bifoga konformitetsrapporten (HTML/Markdown) till självdeklarationen; Inera granskar.",
             "indikera conformance run … --out DIR (rapporten är underlaget)"),
        Step(6, "Förnyad förstudie inför produktion", MANUAL, "Inera granskar; kan inte kontrolleras här.", "docs/connection.md"),
        _cert_step(7, "Produktionscertifikat (SITHS)", prod),
        _order_step(8, "Beställning i produktion", prod, prod_tak),
    ]


def as_json(items: list[Step]) -> str:
    return json.dumps({"checked": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       "steps": [s.__dict__ for s in items]}, ensure_ascii=False, indent=2)
