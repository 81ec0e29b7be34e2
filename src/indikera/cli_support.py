"""What every command group shares: the common options, settings, the migrated engine, the actor.

Kept out of ``cli.py`` so that area command modules can import it while ``cli.py`` imports them.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from .config import Settings, load_settings
from .domain.errors import IndikeraError

err = Console(stderr=True, emoji=False)

DbOption = Annotated[Optional[str], typer.Option("--db", help="Databasens URL (standard: INDIKERA_DATABASE_URL eller sqlite:///indikera.db). "
                                                          "(Database URL; default INDIKERA_DATABASE_URL or sqlite:///indikera.db.)")]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="Konfigurationsfil i TOML (standard: ./indikera.toml). "
                                                               "(TOML configuration file; default ./indikera.toml.)")]
ByOption = Annotated[
    Optional[str],
    typer.Option("--by", help="Vem som gör ändringen (standard: OS-användaren). (Who makes the change; recorded in the logs.)"),
]


def get_settings(db: str | None = None, config: Path | None = None) -> Settings:
    """Settings with ``--db`` applied; a bad configuration is a usage error (exit 2)."""
    try:
        settings = load_settings(config)
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]Fel i konfigurationen:[/red] {exc}")
        raise typer.Exit(2) from None
    return settings.with_overrides(database_url=db)


def migrated_engine(db: str | None, config: Path | None, *, required: bool = True) -> tuple[Settings, Engine | None]:
    """(settings, engine of the migrated database). Not migrated: exit 1, or engine None when not ``required``."""
    from .store import db as store_db

    settings = get_settings(db, config)
    url = make_url(settings.database_url)
    if not required and url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return settings, None  # reading must not create an empty database as a side effect
    engine = store_db.make_engine(settings.database_url)
    try:
        ready = store_db.has_tables(engine) and store_db.is_up_to_date(engine)
    except Exception:  # an unreachable server is "not ready" too; the message below says what to do
        ready = False
    if ready:
        return settings, engine
    engine.dispose()
    if not required:
        return settings, None
    err.print("[red]Databasen saknar tabeller eller är inte uppdaterad; kör `indikera db upgrade`.[/red] (Database not migrated.)")
    raise typer.Exit(1)


def render_error(error: IndikeraError) -> str:
    """How the command line shows any of our errors: the Swedish text, the English in brackets, the code."""
    text = f"[red]{escape(error.sv)}[/red]"
    if error.en != error.sv:
        text += f" ({escape(error.en)})"
    return f"{text} [dim]{error.code}[/dim]"


def fail(error: IndikeraError, exit_code: int = 1) -> typer.Exit:
    """Print ``error`` the one way errors are printed and return the ``typer.Exit`` to raise."""
    err.print(render_error(error), highlight=False)
    return typer.Exit(exit_code)


def actor_of(by: str | None) -> str:
    """``--by``, or the OS user (as ``cli:<user>``): who a change is recorded as."""
    if by and by.strip():
        return by.strip()[:200]
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli:okänd"
