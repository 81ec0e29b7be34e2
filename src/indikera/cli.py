"""The ``indikera`` command line (typer + rich). The whole command tree is built here, in one place.

Each area's ``cli`` module defines its commands and groups; none of them adds itself anywhere, so the
areas import only downwards. Help texts follow one rule: "Svensk text. (English text.)".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from .access.cli import agreements_app, audit_app, certs_app
from .access.token_cli import admin_app, token_app
from .catalog.cli import catalog_app
from .cli_support import ConfigOption, DbOption, get_settings
from .conformance.cli import conformance_app
from .config import redact_url
from .ingest.cli import import_app
from .platform import certs_cli
from .platform.cli import connection_app, platform_app
from .publish import cli as publish_cli

console = Console(stderr=True)
app = typer.Typer(
    name="indikera",
    help="Publicera kvalitetsindikatorer till Vården i siffror, 1177.se och som öppna data. "
    "(Publish quality indicators to VIS, 1177.se and as open data.)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Databasen: kör migreringar, visa schemats revision, kontrollera sammanfattningar. "
                          "(Database: apply migrations, show the schema revision, check the summaries.)",
                     no_args_is_help=True)
DEMO_DB_URL = "sqlite:///indikera-demo.db"


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, config: ConfigOption = None) -> None:
    """Kör alla migreringar (skapar databasen om den saknas). (Apply all migrations; creates the database if missing.)"""
    from .store import db as store_db

    settings = get_settings(db, config)
    store_db.upgrade(settings.database_url)
    console.print(f"Databasen är uppdaterad ({redact_url(settings.database_url)}), revision {store_db.head_revision()}.")


@db_app.command("current")
def db_current(db: DbOption = None, config: ConfigOption = None) -> None:
    """Visa databasens schemarevision och om den är aktuell. (Show the schema revision and whether it is up to date.)"""
    from .store import db as store_db

    settings = get_settings(db, config)
    engine = store_db.make_engine(settings.database_url)
    current = store_db.current_revision(engine)
    head = store_db.head_revision()
    typer.echo(f"current={current} head={head} {'up-to-date' if current == head else 'PENDING'}")
    if current != head:
        raise typer.Exit(1)


@db_app.command("check")
def db_check(db: DbOption = None, config: ConfigOption = None,
             repair: bool = typer.Option(False, "--repair", help="Bygg om sammanfattningarna. (Rebuild the summaries.)")) -> None:
    """Jämför sammanfattningarna som öppna data förseglas från med mätvärdena. (Check the summaries the open data
    is sealed from against the stored values; exit 1 on any difference.)"""
    from .store import db as store_db
    from .store import value_summaries
    from .store.db import writer

    settings = get_settings(db, config)
    engine = store_db.make_engine(settings.database_url)
    with engine.connect() as conn:
        found = value_summaries.differences(conn)
    for line in found:
        typer.echo(line)
    if found and repair:
        with writer(engine).begin() as conn:
            value_summaries.rebuild(conn, force=True)
            conn.exec_driver_sql("UPDATE data_version SET version = version + 1 WHERE id = 1")  # every cache reloads
        typer.echo("Sammanfattningarna är ombyggda. (The summaries were rebuilt.)")
        return
    if found:
        raise typer.Exit(1)
    typer.echo("Sammanfattningarna stämmer med mätvärdena. (The summaries match the stored values.)")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)


@app.command()
def demo(
    db: DbOption = None,
    config: ConfigOption = None,
    scale: Annotated[Optional[int], typer.Option("--scale", min=1, help="Lägg till cirka N syntetiska mätvärden i nationell storlek "
                                                 "(10000000: 100 indikatorer × 2 000 enheter × 50 månader). "
                                                 "(Add about N synthetic measurements at national size.)")] = None,
) -> None:
    """Bygg det syntetiska demoregistret (Demoregistret) i en ny databas. (Build the synthetic demo registry in a new database.)"""
    from . import demo as demo_mod
    from .store import db as store_db

    settings = get_settings(db or DEMO_DB_URL, config)
    store_db.upgrade(settings.database_url)
    engine = store_db.make_engine(settings.database_url)
    if scale is not None and store_db.has_demo(engine):  # scale data goes on top of an existing demo registry
        return _demo_scale(engine, scale, settings.database_url)
    with _progress() as progress:
        task = progress.add_task("Bygger demoregistret", total=None)
        try:
            n = demo_mod.build(engine, progress=lambda k: progress.advance(task, k))
        except RuntimeError as exc:
            console.print(f"[yellow]{exc}[/yellow]")
            raise typer.Exit(1) from None
    console.print(f"Demoregistret är klart: {n} mätvärden i {redact_url(settings.database_url)}.")
    if scale is not None:
        _demo_scale(engine, scale, settings.database_url)


def _demo_scale(engine, n: int, url: str) -> None:
    from . import scale as scale_mod

    with _progress() as progress:
        task = progress.add_task("Skalar upp (scaling up)", total=scale_mod.shape_for(n).measurements)
        try:
            shape = scale_mod.build(engine, n, progress=lambda k: progress.advance(task, k))
        except RuntimeError as exc:
            console.print(f"[yellow]{exc}[/yellow]")
            raise typer.Exit(1) from None
    console.print(f"Skaldata klara: {shape.measurements} mätvärden ({shape.indicators} indikatorer × {shape.units} enheter × "
                  f"{shape.periods} månader) i {redact_url(url)}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adress att lyssna på. (Address to listen on.)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port att lyssna på. (Port to listen on.)")] = 8080,
    db: DbOption = None,
    config: ConfigOption = None,
    demo_data: Annotated[bool, typer.Option("--demo", help="Använd demodatabasen (byggs om den är tom). "
                                                           "(Use the demo database; built if empty.)")] = False,
    tls_cert: Annotated[Optional[Path], typer.Option("--tls-cert", help="Servercertifikat (PEM) för HTTPS. (Server certificate, PEM, for HTTPS.)")] = None,
    tls_key: Annotated[Optional[Path], typer.Option("--tls-key", help="Serverns privata nyckel (PEM). (Server private key, PEM.)")] = None,
    client_ca: Annotated[Optional[Path], typer.Option("--client-ca", help="CA-fil; kräver verifierade klientcertifikat. "
                                                                          "(CA bundle; requires verified client certificates.)")] = None,
    crl: Annotated[Optional[Path], typer.Option("--crl", help="Spärrlistor (PEM) för klientcertifikat; läses om när filen ändras. "
                                                              "(Certificate revocation lists, PEM; reloaded when the file changes.)")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Antal arbetsprocesser (standard: antalet processorer; 1: en process). "
                                                                           "(Worker processes; default: the number of CPUs; 1: one process.)")] = None,
) -> None:
    """Kör SOAP-producenten, öppna data-API:t och förhandsvisningen. (Serve the SOAP producer, the open-data API and the preview UI.)"""
    from . import demo as demo_mod
    from .context import AppContext
    from .server import TLSOptions, run
    from .store import db as store_db

    settings = get_settings(db, config)
    if demo_data and db is None and "INDIKERA_DATABASE_URL" not in os.environ:
        settings = settings.with_overrides(database_url=DEMO_DB_URL)
    store_db.upgrade(settings.database_url)
    ctx = AppContext.from_settings(settings)
    if demo_data and not store_db.has_demo(ctx.engine):
        with _progress() as progress:
            task = progress.add_task("Bygger demoregistret", total=None)
            demo_mod.build(ctx.engine, progress=lambda k: progress.advance(task, k))
    if (tls_cert is None) != (tls_key is None):
        console.print("[red]--tls-cert och --tls-key måste anges tillsammans.[/red]")
        raise typer.Exit(2)
    if client_ca is not None and tls_cert is None:
        console.print("[red]--client-ca kräver --tls-cert och --tls-key.[/red]")
        raise typer.Exit(2)
    if crl is not None and client_ca is None:
        console.print("[red]--crl kräver --client-ca. (--crl needs --client-ca.)[/red]")
        raise typer.Exit(2)
    tls = TLSOptions(tls_cert, tls_key, client_ca, crl) if tls_cert and tls_key else None
    scheme = "https" if tls else "http"
    n = workers or os.cpu_count() or 1
    console.print(f"indikera på {scheme}://{host}:{port}/ ({redact_url(settings.database_url)}, {n} process(er))")
    from .server import TLSSetupError

    try:
        if n == 1:
            run(ctx, host, port, tls)
        else:
            from .workers import run_workers

            ctx.dispose()  # each worker opens its own pool
            status = run_workers(settings, host, port, tls, n)
            if status:
                raise typer.Exit(status)
    except TLSSetupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _build_tree() -> None:
    """Every group and command under ``indikera``; the one place the tree is put together."""
    app.add_typer(db_app, name="db")
    app.add_typer(import_app, name="import")
    import_app.command("approve")(publish_cli.approve_batch_cmd)
    import_app.command("depublish")(publish_cli.depublish_batch_cmd)
    app.add_typer(catalog_app, name="catalog")
    for name, command in (("publish", publish_cli.publish_cmd), ("depublish", publish_cli.depublish_cmd),
                          ("list", publish_cli.list_cmd), ("show", publish_cli.show_cmd), ("log", publish_cli.log_cmd)):
        catalog_app.command(name)(command)
    app.add_typer(agreements_app, name="agreements")
    app.add_typer(audit_app, name="audit")
    app.add_typer(admin_app, name="admin")
    admin_app.add_typer(token_app, name="token")
    app.add_typer(certs_app, name="certs")
    certs_app.command("csr")(certs_cli.csr)
    certs_app.command("check")(certs_cli.check)
    app.add_typer(platform_app, name="platform")
    app.add_typer(connection_app, name="connection")
    app.add_typer(conformance_app, name="conformance")


_build_tree()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
