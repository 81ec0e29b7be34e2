"""``indikera platform serve`` (the VP stand-in), ``indikera connection order|status`` and the
``certs csr|check`` commands (added to the access area's ``indikera certs`` group)."""

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
ProfilesOpt = Annotated[Optional[Path], typer.Option("--profiles", help="Profiles file (TOML; default $INDIKERA_CONNECTION_PROFILES or ./indikera-connection.toml).")]


@platform_app.command("serve")
def serve(
    tak: Annotated[Path, typer.Option("--tak", help="TAK export JSON (/tak-services/export/pv format).")],
    config: Annotated[PathOpt, typer.Option("--config", help="Platform settings (TOML).")] = None,
    host: Annotated[Optional[str], typer.Option(help="Address to listen on.")] = None,
    port: Annotated[Optional[int], typer.Option(help="mTLS port (default 8443).")] = None,
    tls_cert: Annotated[PathOpt, typer.Option("--tls-cert", help="Platform server certificate (PEM).")] = None,
    tls_key: Annotated[PathOpt, typer.Option("--tls-key", help="Its private key.")] = None,
    client_ca: Annotated[PathOpt, typer.Option("--client-ca", help="CA bundle consumer certificates must chain to.")] = None,
    producer_cert: Annotated[PathOpt, typer.Option("--producer-cert", help="The platform's client certificate towards producers.")] = None,
    producer_key: Annotated[PathOpt, typer.Option("--producer-key", help="Its private key.")] = None,
    producer_ca: Annotated[PathOpt, typer.Option("--producer-ca", help="CA bundle for producers' server certificates.")] = None,
    hsa_parents: Annotated[PathOpt, typer.Option("--hsa", help="JSON {child HSA-id: parent} for HSA-tree fallbacks.")] = None,
    http_port: Annotated[Optional[int], typer.Option("--http-port", help="Also serve VP's plain HTTP route (behind a TLS proxy).")] = None,
    read_timeout: Annotated[Optional[float], typer.Option("--read-timeout", help="Producer read timeout, seconds (29).")] = None,
    instance_name: Annotated[Optional[str], typer.Option("--instance-name", help="Name in fault strings (NTjP).")] = None,
) -> None:
    """Serve the VP stand-in: route and authorise from a TAK export, forward over mTLS, answer VP faults."""
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
    env: Annotated[str, typer.Option("--env", help="local | sit | qa | production")] = "sit",
    out_file: Annotated[PathOpt, typer.Option("--out", help="Write the order JSON here (default: stdout).")] = None,
    who: Annotated[str, typer.Option("--by", help="utforare: who places the order.")] = "indikera",
    comment: Annotated[str, typer.Option("--comment", help="kommentar in the order.")] = "",
    tak_out: Annotated[PathOpt, typer.Option("--tak-out", help="Also write the TAK export this order results in (for `platform serve`).")] = None,
    profiles: ProfilesOpt = None,
) -> None:
    """Write the TAK order (Beställningsstöd JSON: vägval + anropsbehörigheter) for the producer."""
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
    test_env: Annotated[str, typer.Option("--test-env", help="The test environment (sit or qa).")] = "sit",
    tak: Annotated[PathOpt, typer.Option("--tak", help="TAK export of the test platform, to verify the order.")] = None,
    prod_tak: Annotated[PathOpt, typer.Option("--prod-tak", help="TAK export of production.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    profiles: ProfilesOpt = None,
) -> None:
    """List the connection steps and what indikera can verify of each (exit 1 when a check fails)."""
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


def register(app: typer.Typer) -> None:
    """Add ``platform`` and ``connection``; add ``csr``/``check`` to the access area's ``certs`` group."""
    app.add_typer(platform_app, name="platform")
    app.add_typer(connection_app, name="connection")
    from .certs_cli import register_cert_commands

    try:
        from ..access.cli import certs_app
    except ImportError:  # the access area's group is missing: keep the tools reachable under their own name
        certs_app = typer.Typer(help="Certifikatverktyg. (Certificate tools.)", no_args_is_help=True)
        app.add_typer(certs_app, name="cert-tools")
    register_cert_commands(certs_app)
