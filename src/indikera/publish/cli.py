"""``indikera import approve BATCH`` and ``indikera import depublish BATCH``.

The ``import`` group belongs to the ingest area (``ingest.cli.import_app``); approval belongs here, so these
commands are added to that group. If the group does not exist, they go to a ``batches`` group instead.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..catalog.cli import ByOpt, ConfigOpt, DbOpt, JsonOpt, _change, actor_of, engine_for


def approve_cmd(
    batch: Annotated[int, typer.Argument(help="Batchens nummer (från importen).")],
    reason: Annotated[str, typer.Option("--reason", help="Varför (sparas i publiceringsloggen).")] = "Granskad och godkänd för publicering",
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
) -> None:
    """Godkänn en inläst batch så att dess värden syns där indikatorn är publicerad. (Approve a batch.)"""
    from . import control

    engine = engine_for(db, config)
    actor = actor_of(by)
    _change(engine, "import.approve", actor, {"batch": batch, "reason": reason},
            lambda conn: control.approve_batch(conn, batch, actor=actor, reason=reason))


def depublish_cmd(
    batch: Annotated[int, typer.Argument(help="Batchens nummer.")],
    reason: Annotated[str, typer.Option("--reason", help="Varför (sparas i publiceringsloggen).")],
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
) -> None:
    """Avpublicera en batch: alla dess värden försvinner från alla kanaler på en gång. (De-publish a batch.)"""
    from . import control

    engine = engine_for(db, config)
    actor = actor_of(by)
    _change(engine, "import.depublish", actor, {"batch": batch, "reason": reason},
            lambda conn: control.depublish_batch(conn, batch, actor=actor, reason=reason))


def batches_cmd(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lista batchar med status (applied, approved, depublished). (List batches.)"""
    import json

    from rich.console import Console
    from rich.table import Table

    from . import control

    engine = engine_for(db, config)
    with engine.connect() as conn:
        rows = control.batch_statuses(conn, limit)
    if as_json:
        typer.echo(json.dumps([{"id": b.id, "file": b.file_name, "status": b.status.value, "createdBy": b.created_by,
                                 "createdAt": b.created_at.isoformat(), "approvedBy": b.approved_by,
                                 "added": b.added, "changed": b.changed, "removed": b.removed} for b in rows],
                               ensure_ascii=False, indent=2))
        return
    table = Table()
    for col in ("Batch", "Fil", "Status", "Inläst av", "Godkänd av", "+/~/−"):
        table.add_column(col, overflow="fold")
    for b in rows:
        table.add_row(str(b.id), b.file_name, b.status.value, f"{b.created_by} {b.created_at:%Y-%m-%d %H:%M}",
                      b.approved_by or "", f"{b.added}/{b.changed}/{b.removed}")
    Console().print(table)


def _names(group: typer.Typer) -> set[str]:
    return {(c.name or (c.callback.__name__ if c.callback else "")).replace("_", "-") for c in group.registered_commands}


def register_import_commands(app: typer.Typer) -> None:
    try:
        from ..ingest.cli import import_app as group  # type: ignore[attr-defined]
    except ImportError:
        group = None
    if group is None:
        group = typer.Typer(help="Batchar: godkänn eller avpublicera inlästa resultat. (Approve or de-publish batches.)",
                            no_args_is_help=True)
        app.add_typer(group, name="batches")
    taken = _names(group)
    commands = [("approve", approve_cmd), ("depublish", depublish_cmd)]
    if "history" not in taken:  # the import group lists batches itself (``import history``)
        commands.append(("batches", batches_cmd))
    for name, fn in commands:
        if name not in taken:
            group.command(name)(fn)


__all__ = ["approve_cmd", "batches_cmd", "depublish_cmd", "register_import_commands"]
