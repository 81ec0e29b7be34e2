"""``indikera platform serve`` (the VP stand-in) and ``indikera connection order|status``.

``certs csr|check`` live in ``certs_cli``; ``cli.py`` adds them to the access area's ``certs`` group."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)

platform_app = typer.Typer(help="Lokal ersättare för NTjP:s VP (routing via TAK-export). (Local NTjP stand-in.)", no_args_is_help=True)
connection_app = typer.Typer(help="Anslutning till NTjP: beställning och status. (Connection: TAK order and status.)", no_args_is_help=True)
PathOpt = Optional[Path]
ProfilesOpt = Annotated[Optional[Path], typer.Option("--profiles", help="Profilfil i TOML (standard: $INDIKERA_CONNECTION_PROFILES eller "
                                                     "./indikera-connection.toml). (Connection profiles file, TOML.)")]


@platform_app.command("serve")
def serve(
    tak: Annotated[Path, typer.Option("--tak", help="TAK-export i JSON (formatet /tak-services/export/pv). (TAK export JSON.)")],
    config: Annotated[PathOpt, typer.Option("--config", help="Plattformens inställningar (TOML). (Platform settings, TOML.)")] = None,
    host: Annotated[Optional[str], typer.Option(help="Adress att lyssna på. (Address to listen on.)")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port för mTLS (standard 8443). (mTLS port; default 8443.)")] = None,
    tls_cert: Annotated[PathOpt, typer.Option("--tls-cert", help="Plattformens servercertifikat (PEM). (Platform server certificate, PEM.)")] = None,
    tls_key: Annotated[PathOpt, typer.Option("--tls-key", help="Dess privata nyckel. (Its private key.)")] = None,
    client_ca: Annotated[PathOpt, typer.Option("--client-ca", help="CA-fil som konsumenternas certifikat måste kedja till. "
                                                                   "(CA bundle consumer certificates must chain to.)")] = None,
    producer_cert: Annotated[PathOpt, typer.Option("--producer-cert", help="Plattformens klientcertifikat mot producenter. "
                                                                           "(The platform's client certificate towards producers.)")] = None,
    producer_key: Annotated[PathOpt, typer.Option("--producer-key", help="Dess privata nyckel. (Its private key.)")] = None,
    producer_ca: Annotated[PathOpt, typer.Option("--producer-ca", help="CA-fil för producenternas servercertifikat. "
                                                                       "(CA bundle for producers' server certificates.)")] = None,
    hsa_parents: Annotated[PathOpt, typer.Option("--hsa", help="JSON {HSA-id: förälder} för vägval via HSA-trädet. "
                                                              "(JSON {child HSA-id: parent} for HSA-tree fallbacks.)")] = None,
    http_port: Annotated[Optional[int], typer.Option("--http-port", help="Kör även VP:s okrypterade HTTP-väg (bakom en TLS-proxy). "
                                                                         "(Also serve VP's plain HTTP route, behind a TLS proxy.)")] = None,
    read_timeout: Annotated[Optional[float], typer.Option("--read-timeout", help="Väntetid på producentens svar, sekunder (29). "
                                                                                 "(Producer read timeout, seconds; 29.)")] = None,
    instance_name: Annotated[Optional[str], typer.Option("--instance-name", help="Namn i felmeddelanden (NTjP). (Name in fault strings.)")] = None,
) -> None:
    """Kör VP-ersättaren: vägval och behörighet från en TAK-export, vidare över mTLS, VP:s fel. (Serve the VP stand-in.)"""
    from . import settings as settings_mod
    from . import standin
    from .tak import TakError, load_file

    try:
        s = settings_mod.load(config).with_overrides(
            tak_file=tak, host=host, port=port, tls_cert=tls_cert, tls_key=tls_key, client_ca=client_ca,
            producer_cert=producer_cert, producer_key=producer_key, producer_ca=producer_ca, hsa_file=hsa_parents,
            http_port=http_port, read_timeout=read_timeout, instance_name=instance_name)
        tak_data = load_file(s.tak_file, s.hsa_file)
    except (ValueError, OSError, TakError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if s.tls_cert is not None and s.client_ca is None:
        err.print("[red]--client-ca krävs: VP kräver klientcertifikat (needClientAuth).[/red]")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        platform, _ = standin.build(s)
        srvs = standin.servers(s, platform)
    except (ValueError, OSError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    for srv in srvs:
        scheme = "https (mTLS)" if srv.tls else "http (VP:s HTTP-väg, IP-vitlista)"
        err.print(f"VP-ersättaren lyssnar på {srv.server_address[0]}:{srv.server_address[1]} {scheme}; "
                  f"{len(tak_data.routes)} vägval, {len(tak_data.permissions)} anropsbehörigheter från {s.tak_file}.")
    threads = [threading.Thread(target=srv.serve_forever, daemon=True) for srv in srvs]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        for srv in srvs:
            srv.shutdown()


@connection_app.command("order")
def order(
    env: Annotated[str, typer.Option("--env", help="Miljö: local, sit, qa eller production. (Environment: local, sit, qa or production.)")] = "sit",
    out_file: Annotated[PathOpt, typer.Option("--out", help="Skriv beställningen (JSON) hit (standard: standard ut). "
                                                            "(Write the order JSON here; default stdout.)")] = None,
    who: Annotated[str, typer.Option("--by", help="utforare: vem som beställer. (utforare: who places the order.)")] = "indikera",
    comment: Annotated[str, typer.Option("--comment", help="kommentar i beställningen. (kommentar in the order.)")] = "",
    tak_out: Annotated[PathOpt, typer.Option("--tak-out", help="Skriv även TAK-exporten som beställningen ger (för platform serve). "
                                                               "(Also write the TAK export this order results in.)")] = None,
    profiles: ProfilesOpt = None,
) -> None:
    """Skriv TAK-beställningen (Beställningsstöd-JSON: vägval och anropsbehörigheter). (Write the TAK order for the producer.)"""
    from . import environments
    from .ordering import OrderError, build_order, order_as_tak_export

    try:
        e = environments.get(env, profiles)
        doc = build_order(e, who=who, comment=comment)
    except (KeyError, ValueError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        err.print(f"[red]Beställningen kan inte skrivas:[/red] {msg}")
        if isinstance(exc, OrderError):
            err.print("Fyll i värdena i profilfilen, t.ex.:")
            err.print(environments.EXAMPLE, markup=False, highlight=False)
        raise typer.Exit(1) from None
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"Beställningen är skriven till {out_file} ({len(doc['inkludera']['vagval'])} vägval, "
                  f"{len(doc['inkludera']['anropsbehorigheter'])} anropsbehörigheter, plattform {doc['plattform']}).")
    if tak_out is not None:
        tak_out.write_text(json.dumps(order_as_tak_export(doc), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@connection_app.command("status")
def status(
    test_env: Annotated[str, typer.Option("--test-env", help="Testmiljön (sit eller qa). (The test environment, sit or qa.)")] = "sit",
    tak: Annotated[PathOpt, typer.Option("--tak", help="TAK för testmiljön: TAK-API v2 (serviceProductions, cooperations) "
                                                       "eller TAK-export, för att kontrollera beställningen. (Test platform's TAK: "
                                                       "TAK-API v2 or TAK export, to verify the order.)")] = None,
    prod_tak: Annotated[PathOpt, typer.Option("--prod-tak", help="Produktionens TAK (TAK-API v2 eller TAK-export). "
                                                                 "(Production's TAK: TAK-API v2 or TAK export.)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata (JSON). (Machine-readable output.)")] = False,
    profiles: ProfilesOpt = None,
) -> None:
    """Lista anslutningens steg och vad indikera kan kontrollera av dem; slutkod 1 vid fel. (List the connection steps.)"""
    from . import environments, status as status_mod
    from .tak import TakError, load_file

    try:
        test, prod = environments.get(test_env, profiles), environments.get("production", profiles)
        test_tak = load_file(tak) if tak else None
        prod_tak_data = load_file(prod_tak) if prod_tak else None
    except (KeyError, ValueError, OSError, TakError) as exc:
        err.print(f"[red]{exc.args[0] if isinstance(exc, KeyError) else exc}[/red]")
        raise typer.Exit(2) from None
    items = status_mod.steps(test, prod, test_tak=test_tak, prod_tak=prod_tak_data)
    if as_json:
        typer.echo(status_mod.as_json(items))
    else:
        table = Table(title=f"Anslutning till NTjP ({test.title} → {prod.title})")
        for col in ("#", "Steg", "Status", "Vad indikera kontrollerade", "Hjälp"):
            table.add_column(col, overflow="fold")
        colour = {status_mod.OK: "green", status_mod.FAILED: "red", status_mod.WARNING: "yellow"}
        for s in items:
            c = colour.get(s.status)
            table.add_row(str(s.number), s.name, f"[{c}]{s.status}[/{c}]" if c else s.status, s.verified, s.helps)
        out.print(table)
    if any(s.status == status_mod.FAILED for s in items):
        raise typer.Exit(1)
