"""The ``indikera`` command line (typer + rich). Each area adds its own command group."""

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

from .cli_support import get_settings
from .config import redact_url

console = Console(stderr=True)
app = typer.Typer(
    name="indikera",
    help="Publicera kvalitetsindikatorer till Vården i siffror, 1177.se och som öppna data. "
    "(Publish quality indicators to VIS, 1177.se and as open data.)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database: apply migrations, show the schema revision.", no_args_is_help=True)
app.add_typer(db_app, name="db")

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: INDIKERA_DATABASE_URL or sqlite:///indikera.db).")]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="TOML configuration file (default: ./indikera.toml).")]
DEMO_DB_URL = "sqlite:///indikera-demo.db"



@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, config: ConfigOption = None) -> None:
    """Apply all migrations (creates the database when it does not exist)."""
    from .store import db as store_db

    settings = get_settings(db, config)
    store_db.upgrade(settings.database_url)
    console.print(f"Databasen är uppdaterad ({redact_url(settings.database_url)}), revision {store_db.head_revision()}.")


@db_app.command("current")
def db_current(db: DbOption = None, config: ConfigOption = None) -> None:
    """Show the database's schema revision and whether it is up to date."""
    from .store import db as store_db

    settings = get_settings(db, config)
    engine = store_db.make_engine(settings.database_url)
    current = store_db.current_revision(engine)
    head = store_db.head_revision()
    typer.echo(f"current={current} head={head} {'up-to-date' if current == head else 'PENDING'}")
    if current != head:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)


@app.command()
def demo(db: DbOption = None, config: ConfigOption = None) -> None:
    """Build the deterministic synthetic demo registry (Demoregistret) in a new database."""
    from . import demo as demo_mod
    from .store import db as store_db

    settings = get_settings(db or DEMO_DB_URL, config)
    store_db.upgrade(settings.database_url)
    engine = store_db.make_engine(settings.database_url)
    with _progress() as progress:
        task = progress.add_task("Bygger demoregistret", total=None)
        try:
            n = demo_mod.build(engine, progress=lambda k: progress.advance(task, k))
        except RuntimeError as exc:
            console.print(f"[yellow]{exc}[/yellow]")
            raise typer.Exit(1) from None
    console.print(f"Demoregistret är klart: {n} mätvärden i {redact_url(settings.database_url)}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    db: DbOption = None,
    config: ConfigOption = None,
    demo_data: Annotated[bool, typer.Option("--demo", help="Use (and build if empty) the embedded demo database.")] = False,
    tls_cert: Annotated[Optional[Path], typer.Option("--tls-cert", help="Server certificate (PEM) for HTTPS.")] = None,
    tls_key: Annotated[Optional[Path], typer.Option("--tls-key", help="Server private key (PEM).")] = None,
    client_ca: Annotated[Optional[Path], typer.Option("--client-ca", help="CA bundle; requires verified client certificates.")] = None,
) -> None:
    """Serve the SOAP producer, the open-data API and the preview UI."""
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
    tls = TLSOptions(tls_cert, tls_key, client_ca) if tls_cert and tls_key else None
    scheme = "https" if tls else "http"
    console.print(f"indikera på {scheme}://{host}:{port}/ ({redact_url(settings.database_url)})")
    from .server import TLSSetupError

    try:
        run(ctx, host, port, tls)
    except TLSSetupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _register_groups() -> None:
    """Each area owns its command group in its own module."""
    from .access import cli as access_cli
    from .catalog import cli as catalog_cli
    from .conformance import cli as conformance_cli
    from .ingest import cli as ingest_cli
    from .platform import cli as platform_cli

    for module in (ingest_cli, catalog_cli, access_cli, platform_cli, conformance_cli):
        module.register(app)


_register_groups()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
