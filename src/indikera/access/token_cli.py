"""``indikera admin token create|list|revoke``: admin API tokens that expire and can be revoked.

The token is printed once, on stdout, when it is made (everything else goes to stderr), so that
``indikera admin token create … > file`` captures only the secret. Each change is audited (channel ``cli``)
with the token's name, never the token.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_support import ByOption, ConfigOption, DbOption, actor_of, fail, migrated_engine
from ..domain.errors import IndikeraError
from ..store.repositories import iso_utc
from . import admin_tokens, audit

err = Console(stderr=True)

admin_app = typer.Typer(help="Administration av admin-API:t. (Administration of the admin API.)", no_args_is_help=True)
token_app = typer.Typer(help="Admin-tokens som går ut och kan återkallas. (Admin tokens that expire and can be revoked.)",
                        no_args_is_help=True)  # ``admin token``: put together in indikera.cli

RELATIVE = re.compile(r"^(\d{1,5})\s*([hd])$")
NameOption = Annotated[str, typer.Option("--name", help="Tokens namn, det som granskningsloggen visar. "
                                                        "(The token's name, what the audit log shows.)")]


def _expiry(text: str) -> datetime:
    """``90d``, ``12h`` (from now) or an ISO date/time (naive: UTC; a date: its midnight UTC)."""
    value = text.strip()
    m = RELATIVE.match(value)
    if m:
        unit = {"h": "hours", "d": "days"}[m.group(2)]
        return datetime.now(timezone.utc) + timedelta(**{unit: int(m.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(IndikeraError("TOKEN_EXPIRY", f"--expires: {text[:40]!r} är ingen tidpunkt (ÅÅÅÅ-MM-DD[THH:MM], 90d eller 12h)",
                                 f"--expires: {text[:40]!r} is not a time (YYYY-MM-DD[THH:MM], 90d or 12h)"), 2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@token_app.command("create")
def create_cmd(
    name: NameOption,
    expires: Annotated[str, typer.Option("--expires", help="När tokenen slutar gälla: 90d, 12h eller ÅÅÅÅ-MM-DD[THH:MM] (UTC). "
                                                           "(When the token stops working: 90d, 12h or YYYY-MM-DD[THH:MM], UTC.)")],
    by: ByOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Skapa en admin-token och skriv ut den en gång. (Create an admin token and print it once.)"""
    _, engine = migrated_engine(db, config)
    actor = actor_of(by)
    when = _expiry(expires)
    try:
        token = admin_tokens.create(engine, name, when, actor)
    except IndikeraError as exc:
        raise fail(exc) from None
    audit.record(engine, channel="cli", operation="admin.token.create", outcome="ok", actor=actor,
                 requested={"name": name, "expires": when.isoformat()})
    err.print(f"Token {name!r} gäller till {when.isoformat()}. Den visas bara nu; spara den säkert. "
              "(Shown only now; store it safely.)")
    typer.echo(token)


@token_app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata (JSON-rader). (Machine-readable output, JSON lines.)")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Lista admin-tokens med status (aldrig själva tokens). (List admin tokens with their status, never the tokens.)"""
    _, engine = migrated_engine(db, config)
    tokens = admin_tokens.list_all(engine)
    if as_json:
        for t in tokens:
            typer.echo(json.dumps({"name": t.name, "status": t.status(), "createdBy": t.created_by,
                                   "createdAt": iso_utc(t.created_at), "expiresAt": iso_utc(t.expires_at),
                                   "revokedBy": t.revoked_by, "revokedAt": iso_utc(t.revoked_at)}))
        return
    table = Table("namn", "status", "skapad av", "skapad", "går ut", "återkallad")
    for t in tokens:
        table.add_row(t.name, t.status(), t.created_by, f"{t.created_at:%Y-%m-%d %H:%M}", f"{t.expires_at:%Y-%m-%d %H:%M}",
                      f"{t.revoked_at:%Y-%m-%d %H:%M} ({t.revoked_by})" if t.revoked_at else "")
    Console().print(table)


@token_app.command("revoke")
def revoke_cmd(
    name: Annotated[str, typer.Argument(help="Namnet på tokenen som ska återkallas. (The name of the token to revoke.)")],
    by: ByOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Återkalla en admin-token; den nekas från nästa anrop. (Revoke an admin token; refused from the next call.)"""
    _, engine = migrated_engine(db, config)
    actor = actor_of(by)
    if not admin_tokens.revoke(engine, name, actor):
        audit.record(engine, channel="cli", operation="admin.token.revoke", outcome="rejected", actor=actor, requested={"name": name})
        raise fail(IndikeraError("TOKEN_NOT_FOUND", f"ingen giltig token heter {name[:100]!r}",
                                 f"no unrevoked token is named {name[:100]!r}"))
    audit.record(engine, channel="cli", operation="admin.token.revoke", outcome="ok", actor=actor, requested={"name": name})
    err.print(f"Token {name!r} är återkallad. (Revoked.)")


__all__ = ["admin_app", "token_app"]
