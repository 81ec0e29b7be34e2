"""``indikera agreements add|list|end``, ``indikera audit tail|query`` and ``indikera certs test-pki``."""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..cli_support import ByOption as ByOpt
from ..cli_support import ConfigOption as ConfigOpt
from ..cli_support import DbOption as DbOpt
from ..cli_support import actor_of as _actor
from ..cli_support import fail, migrated_engine
from ..store.repositories import iso_utc

err = Console(stderr=True)


def out() -> Console:
    """Made per use, so the width follows the terminal (or COLUMNS) of this run."""
    return Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata (JSON-rader). (Machine-readable output, JSON lines.)")]

agreements_app = typer.Typer(help="Avtal (CPUA) med konsumenter om begränsade indikatorer. (Consumer agreements.)", no_args_is_help=True)
audit_app = typer.Typer(help="Granskningsloggen: varje anrop och administrativ ändring. (The audit log.)", no_args_is_help=True)
certs_app = typer.Typer(help="Certifikatverktyg. (Certificate tools.)", no_args_is_help=True)


def _engine(db: str | None, config: Path | None):
    return migrated_engine(db, config)[1]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        err.print(f"[red]{option}: {text!r} är inget datum (ÅÅÅÅ-MM-DD).[/red] (Not a date.)")
        raise typer.Exit(2) from None


RELATIVE = re.compile(r"^(\d+)\s*([mhd])$")


def _instant(text: str | None, option: str) -> datetime | None:
    """ISO date/time, or relative: ``30m``, ``2h``, ``7d`` (before now). Naive times are UTC."""
    if text is None:
        return None
    value = text.strip()
    m = RELATIVE.match(value)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return datetime.now(timezone.utc) - timedelta(**{unit: int(m.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{option}: {text!r} är ingen tidpunkt (ÅÅÅÅ-MM-DD[THH:MM] eller 30m, 2h, 7d).[/red] (Not a time.)")
        raise typer.Exit(2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# --- agreements ---------------------------------------------------------------------------------


def _agreement_table(rows, on: date) -> Table:
    table = Table("id", "konsument", "referens", "indikator", "från", "till", "status", "anteckning")
    for a in rows:
        table.add_row(
            str(a.id),
            a.consumer_hsa_id,
            a.reference,
            a.measure_id or "alla begränsade",
            a.valid_from.isoformat(),
            a.valid_to.isoformat() if a.valid_to else "–",
            a.status(on),
            a.note,
        )
    return table


@agreements_app.command("add")
def agreements_add(
    consumer: Annotated[str, typer.Option("--consumer", "-c", help="Konsumentens HSA-id (som i dess SITHS-certifikat). "
                                                                   "(Consumer HSA-id, as in its SITHS certificate.)")],
    reference: Annotated[str, typer.Option("--reference", "-r", help="Avtalets referens (CPUA). (The agreement's reference.)")],
    indicator: Annotated[Optional[list[str]], typer.Option("--indicator", "-i", help="KIK-id; upprepa för flera. "
                                                                                     "(KIK measure id; repeat for several.)")] = None,
    all_restricted: Annotated[bool, typer.Option("--all-restricted", help="Gäller alla begränsade indikatorer. "
                                                                          "(Cover every restricted indicator.)")] = False,
    valid_from: Annotated[Optional[str], typer.Option("--from", help="Första giltiga dag (standard: i dag). (First valid day; default today.)")] = None,
    valid_to: Annotated[Optional[str], typer.Option("--to", help="Sista giltiga dag (standard: tills vidare). (Last valid day; default open-ended.)")] = None,
    note: Annotated[str, typer.Option("--note", help="Fri text. (Free text.)")] = "",
    by: ByOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Lägg till ett avtal: en konsument får läsa namngivna begränsade indikatorer (eller alla). (Add an agreement.)"""
    from . import agreements

    if bool(indicator) == all_restricted:
        err.print("[red]Ange antingen --indicator (en eller flera) eller --all-restricted.[/red] (Give --indicator or --all-restricted.)")
        raise typer.Exit(2)
    start = _date(valid_from, "--from") or date.today()
    end = _date(valid_to, "--to")
    engine = _engine(db, config)
    try:
        made = agreements.add(
            engine,
            consumer=consumer,
            reference=reference,
            measure_ids=None if all_restricted else indicator,
            valid_from=start,
            valid_to=end,
            note=note,
            actor=_actor(by),
        )
    except agreements.AgreementError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    out().print(_agreement_table(made, date.today()))
    err.print(f"{len(made)} avtal registrerade för {made[0].consumer_hsa_id}.")


@agreements_app.command("list")
def agreements_list(
    consumer: Annotated[Optional[str], typer.Option("--consumer", "-c", help="Bara denna konsuments avtal. (Only this consumer's agreements.)")] = None,
    include_inactive: Annotated[bool, typer.Option("--all", help="Även avslutade, utgångna och framtida avtal. "
                                                                 "(Include ended, expired and future agreements.)")] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Lista avtal som gäller i dag (--all: alla avtal någonsin). (List agreements valid today; --all: every agreement.)"""
    from . import agreements

    engine = _engine(db, config)
    rows = agreements.list_agreements(engine, consumer=consumer, include_inactive=include_inactive)
    engine.dispose()
    today = date.today()
    if as_json:
        for a in rows:
            typer.echo(json.dumps(a.as_json(today), ensure_ascii=False))
        return
    if not rows:
        err.print("Inga avtal." + ("" if include_inactive else " (--all visar även avslutade och utgångna.)"))
        return
    out().print(_agreement_table(rows, today))


@agreements_app.command("end")
def agreements_end(
    agreement_id: Annotated[int, typer.Argument(help="Avtalets nummer (se agreements list). (The agreement's id; see agreements list.)")],
    reason: Annotated[str, typer.Option("--reason", help="Varför (sparas i granskningsloggen). (Why; recorded in the audit log.)")] = "",
    by: ByOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Avsluta ett avtal nu; konsumenten förlorar åtkomsten direkt och raden sparas. (End an agreement now; the row stays.)"""
    from . import agreements

    engine = _engine(db, config)
    try:
        ended = agreements.end(engine, agreement_id, actor=_actor(by), reason=reason)
    except agreements.AgreementError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    err.print(f"Avtal {ended.id} ({ended.consumer_hsa_id}, {ended.reference}) är avslutat.")


# --- audit -------------------------------------------------------------------------------------


def _json_row(row: dict) -> str:
    return json.dumps({k: (iso_utc(v) if isinstance(v, datetime) else v) for k, v in row.items()}, ensure_ascii=False)


def _print_rows(rows: list[dict], as_json: bool) -> None:
    if as_json:
        for r in rows:
            typer.echo(_json_row(r))
        return
    table = Table("id", "tid (UTC)", "kanal", "operation", "utfall", "konsument", "plattform/aktör", "korrelations-id", "svar/undanhållna", "ms", "detalj")
    for r in rows:
        at = r["at"]
        table.add_row(
            str(r["id"]),
            at.strftime("%Y-%m-%d %H:%M:%S") if isinstance(at, datetime) else str(at),
            r["channel"],
            r["operation"],
            r["outcome"],
            r["consumer_hsa_id"] or "–",
            r["platform_id"] or r["actor"] or "–",
            r["correlation_id"] or "–",
            f"{r['returned']}/{r['withheld']}",
            "" if r["duration_ms"] is None else str(r["duration_ms"]),
            (r["detail"] or "")[:80],
        )
    out().print(table)


@audit_app.command("tail")
def audit_tail(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, max=10000, help="Hur många av de senaste raderna. (How many of the newest rows.)")] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Fortsätt skriva nya rader (Ctrl-C avbryter). "
                                                                "(Keep printing new rows; Ctrl-C stops.)")] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """De senaste raderna i granskningsloggen, äldst först. (The newest audit rows, oldest of them first.)"""
    from . import audit

    engine = _engine(db, config)
    rows = list(reversed(audit.query(engine, audit.AuditFilter(limit=lines))))
    _print_rows(rows, as_json)
    last = rows[-1]["id"] if rows else 0
    try:
        while follow:
            time.sleep(1.0)
            new = audit.after(engine, last)
            if new:
                _print_rows(new, as_json)
                last = new[-1]["id"]
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


@audit_app.command("query")
def audit_query(
    consumer: Annotated[Optional[str], typer.Option("--consumer", "-c", help="Konsumentens HSA-id. (Consumer HSA-id.)")] = None,
    channel: Annotated[Optional[str], typer.Option("--channel", help="Kanal: soap, opendata, web, admin eller cli. "
                                                                     "(Channel: soap, opendata, web, admin or cli.)")] = None,
    outcome: Annotated[Optional[str], typer.Option("--outcome", help="Utfall, t.ex. ok, denied, fault, rejected. "
                                                                     "(Outcome, e.g. ok, denied, fault, rejected.)")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Från (ISO-datum/tid, eller 30m, 2h, 7d). (From: ISO date/time, or 30m, 2h, 7d.)")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Före (ISO-datum/tid, eller 30m, 2h, 7d). (Before: ISO date/time, or 30m, 2h, 7d.)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100000, help="Högst N rader. (At most N rows.)")] = 100,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Sök i granskningsloggen (senaste först). (Search the audit log, newest first.)"""
    from . import audit

    flt = audit.AuditFilter(consumer, channel, outcome, _instant(since, "--since"), _instant(until, "--until"), limit)
    engine = _engine(db, config)
    rows = audit.query(engine, flt)
    engine.dispose()
    if not rows and not as_json:
        err.print("Inga rader matchar. (No matching rows.)")
        return
    _print_rows(rows, as_json)


# --- certs -------------------------------------------------------------------------------------


@certs_app.command("test-pki")
def certs_test_pki(
    directory: Annotated[Path, typer.Argument(help="Katalog att skriva i (skapas om den saknas). (Directory to write into; created if missing.)")],
    cert: Annotated[Optional[list[str]], typer.Option("--cert", help="Extra funktionscertifikat NAMN=HSA-ID (kan upprepas). "
                                                                     "(Extra function certificate NAME=HSA-ID; repeatable.)")] = None,
    server_name: Annotated[Optional[list[str]], typer.Option("--server-name", help="DNS-namn i servercertifikatet (kan upprepas). "
                                                                                   "(DNS name of the server certificate; repeatable.)")] = None,
    server_hsa_id: Annotated[Optional[str], typer.Option("--server-hsa-id", help="Servercertifikatets serialNumber. "
                                                                             "(serialNumber of the server certificate.)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Skriv över befintliga filer. (Overwrite existing files.)")] = False,
) -> None:
    """Skapa en SITHS-lik TEST-PKI (rot, funktions-CA, server- och funktionscertifikat) för utveckling. (Make a SITHS-like test PKI.)"""
    from .certs import fingerprint, normalise_hsa_id
    from .pki import DEFAULT_CERTS, write_test_pki

    if directory.exists() and any(directory.glob("*.key")) and not force:
        err.print(f"[red]{directory} innehåller redan nycklar; använd --force för att skriva över.[/red] (Keys exist; use --force.)")
        raise typer.Exit(1)
    wanted = dict(DEFAULT_CERTS)
    for entry in cert or []:
        name, sep, hsa = entry.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", name) or normalise_hsa_id(hsa) is None:
            err.print(f"[red]--cert {entry!r}: skriv NAMN=HSA-ID (t.ex. vis=SE2321000016-ABCD).[/red] (Use NAME=HSA-ID.)")
            raise typer.Exit(2)
        wanted[name] = (normalise_hsa_id(hsa), f"{name} (test)")  # type: ignore[assignment]
    pki = write_test_pki(
        directory,
        certs=wanted,  # type: ignore[arg-type]
        server_hsa_id=normalise_hsa_id(server_hsa_id or "") or "SE2321000000-INDIKERA",
        server_names=tuple(server_name or ("localhost",)),
    )
    for stem, issued in pki.certs.items():
        typer.echo(f"{stem:<10} serialNumber={wanted[stem][0]}  SHA-256 {fingerprint(issued.der)}")
    err.print(f"Test-PKI skriven till {directory} (se README.txt). Endast för test – inga riktiga SITHS-certifikat.")
