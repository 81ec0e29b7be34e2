"""Publication commands: ``indikera catalog publish|depublish|list|show|log`` and ``indikera import approve|depublish``.

They decide and show who sees what (``publish.control``); ``cli.py`` adds them to the ``catalog`` and
``import`` groups. A change and its audit row are written in one transaction.
Exit codes: 0 ok, 1 refused, 2 usage.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..catalog.cli import JsonOpt, engine_for, print_findings
from ..cli_support import ByOption as ByOpt
from ..cli_support import ConfigOption as ConfigOpt
from ..cli_support import DbOption as DbOpt
from ..cli_support import actor_of, fail, migrated_engine
from ..store.repositories import iso_utc

out = Console()
err = Console(stderr=True)

REASON_HELP = "Varför (sparas i publiceringsloggen). (Why; recorded in the publication log.)"
ReasonOpt = Annotated[str, typer.Option("--reason", help=REASON_HELP)]
MeasureIdArg = Annotated[str, typer.Argument(help="Indikatorns KIK-id. (The indicator's KIK id.)")]
BatchArg = Annotated[int, typer.Argument(help="Batchens nummer (från importen). (The batch id, from the import.)")]


class LevelChoice(str, Enum):
    open = "open"
    restricted = "restricted"
    unpublished = "unpublished"


def _change(engine, operation: str, actor: str, requested: dict, fn) -> None:
    """Run one publication change and its audit row in one write transaction; print the outcome; exit 1 if refused."""
    from ..access import audit
    from ..store.db import writer
    from .states import PublishError

    try:
        with writer(engine).begin() as conn:
            t = fn(conn)
            audit.record(conn, channel="cli", operation=operation, outcome="ok" if t.changed else "unchanged", actor=actor,
                         requested=requested, detail=f"{t.before} -> {t.after}")
    except PublishError as exc:  # the change rolled back: the refusal gets its own row
        audit.record(engine, channel="cli", operation=operation, outcome="rejected", actor=actor, requested=requested, detail=exc.code)
        print_findings(exc.details)
        raise fail(exc) from None
    if t.changed:
        err.print(f"Ändrat: {t.before} → {t.after}. (Changed.)")
    else:
        err.print(f"Oförändrat: redan {t.after}. (Unchanged.)")


def publish_cmd(
    measure_id: MeasureIdArg,
    level: Annotated[LevelChoice, typer.Option("--level", help="open: alla; restricted: avtalade mottagare; unpublished: ingen. "
                                                               "(open: everyone; restricted: consumers with an agreement; unpublished: nobody.)")],
    reason: ReasonOpt,
    period_from: Annotated[Optional[str], typer.Option("--from", help="Bara för perioder från detta datum (ÅÅÅÅ-MM-DD). "
                                                                      "(Only for periods from this date.)")] = None,
    period_to: Annotated[Optional[str], typer.Option("--to", help="Bara för perioder till och med detta datum (ÅÅÅÅ-MM-DD). "
                                                                  "(Only for periods up to and including this date.)")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
) -> None:
    """Bestäm vem som ser en indikator (öppen, begränsad, opublicerad). (Set the publication level.)"""
    from . import control
    from .states import PublishError

    try:
        period = control.parse_period(period_from, period_to)
    except PublishError as exc:
        raise fail(exc, 2) from None
    engine = engine_for(db, config)
    actor = actor_of(by)
    requested = {"measureId": measure_id, "level": level.value, "reason": reason,
                 "from": str(period.start) if period else None, "to": str(period.end) if period else None}
    _change(engine, "catalog.publish", actor, requested,
            lambda conn: control.set_level(conn, measure_id, level.value, actor=actor, reason=reason, period=period))


def depublish_cmd(
    measure_id: MeasureIdArg,
    reason: ReasonOpt,
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
) -> None:
    """Avpublicera: ta bort indikatorn från alla kanaler på en gång. (De-publish from every channel.)"""
    from . import control

    engine = engine_for(db, config)
    actor = actor_of(by)
    _change(engine, "catalog.depublish", actor, {"measureId": measure_id, "reason": reason},
            lambda conn: control.depublish_indicator(conn, measure_id, actor=actor, reason=reason))


def _status_dict(s) -> dict:
    return {
        "measureId": s.measure_id, "title": s.title, "state": s.state.value,
        "descriptionVersion": s.description_version, "descriptionErrors": s.description_errors,
        "rules": [{"periodStart": r.period_start.isoformat() if r.period_start else None,
                   "periodEnd": r.period_end.isoformat() if r.period_end else None, "level": r.level.value,
                   "changedBy": r.changed_by, "changedAt": iso_utc(r.changed_at), "reason": r.reason} for r in s.rules],
    }


def list_cmd(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Lista indikatorer med publiceringsläge och beskrivningens status. (List indicators.)"""
    from . import control

    engine = engine_for(db, config)
    with engine.connect() as conn:
        statuses = control.all_statuses(conn)
    if as_json:
        typer.echo(json.dumps([_status_dict(s) for s in statuses], ensure_ascii=False, indent=2))
        return
    table = Table()
    for col in ("KIK-id", "Titel", "Läge (state)", "Beskrivning", "Periodregler"):
        table.add_column(col, overflow="fold")
    for s in statuses:
        desc = "saknas" if s.description_version is None else (
            f"{s.description_version}" + (f" [red]({s.description_errors} fel)[/red]" if s.description_errors else ""))
        narrowed = sum(1 for r in s.rules if r.period_start is not None)
        table.add_row(s.measure_id, s.title, s.state.value, desc, str(narrowed) if narrowed else "")
    out.print(table)


def show_cmd(
    measure_id: MeasureIdArg,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Visa en indikators beskrivning, publiceringsläge och logg. (Show one indicator.)"""
    from . import control
    from .states import PublishError
    from ..catalog import jsonformat, store

    engine = engine_for(db, config)
    with engine.connect() as conn:
        try:
            status = control.indicator_status(conn, measure_id)
        except PublishError as exc:
            raise fail(exc) from None
        d, findings = store.check_stored(conn, measure_id)
        versions = store.history(conn, measure_id)
        log = control.log_entries(conn, measure_id=measure_id, limit=20)
    if as_json:
        typer.echo(json.dumps({
            **_status_dict(status), "description": jsonformat.to_dict(d) if d else None,
            "findings": [f.as_dict() for f in findings],
            "versions": [{"version": f"{v.version[0]}.{v.version[1]}", "createdBy": v.created_by, "createdAt": iso_utc(v.created_at)} for v in versions],
            "log": log,
        }, ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{status.measure_id} {status.title}[/bold]  läge: [bold]{status.state.value}[/bold]")
    if d is None:
        out.print("[yellow]Ingen beskrivning i katalogen; indikatorn kan inte publiceras.[/yellow]")
    else:
        out.print(f"Beskrivning version {d.version_text} ({d.unit_type.value}, {d.indicator_type.value}, "
                  f"eftersträvansvärt: {d.direction.value})")
        out.print(d.description)
        from ..catalog.model import OPTIONAL_TEXTS, REQUIRED_TEXTS

        for key, label in REQUIRED_TEXTS + OPTIONAL_TEXTS:
            if d.texts.get(key):
                out.print(f"[bold]{label.capitalize()}:[/bold] {d.texts[key]}")
    for r in status.rules:
        where = "hela indikatorn" if r.period_start is None else f"{r.period_start}–{r.period_end}"
        out.print(f"Regel {where}: {r.level.value} ({r.changed_by}, {r.changed_at:%Y-%m-%d %H:%M}: {r.reason})")
    for e in log:
        out.print(f"[dim]{e['at'][:19]} {e['actor']} {e['action']} {e['before']} → {e['after']}: {e['reason']}[/dim]")
    print_findings(findings)


def log_cmd(
    measure_id: Annotated[Optional[str], typer.Argument(help="Bara denna indikator (KIK-id). (Only this indicator.)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="De N senaste posterna. (The newest N entries.)")] = 50,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Publiceringsloggen: vem, när, vad och varför. (The publication log.)"""
    from . import control

    engine = engine_for(db, config)
    with engine.connect() as conn:
        entries = control.log_entries(conn, measure_id=measure_id, limit=limit)
    for e in entries:
        what = e["measureId"] or f"batch {e['batchId']}"
        period = f" {e['periodStart']}–{e['periodEnd']}" if e["periodStart"] else ""
        typer.echo(f"{e['at'][:19]}  {e['actor']}  {e['action']}  {what}{period}  {e['before']} -> {e['after']}  {e['reason']}")


def approve_batch_cmd(
    batch: BatchArg,
    reason: Annotated[str, typer.Option("--reason", help=REASON_HELP)] = "Granskad och godkänd för publicering",
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
) -> None:
    """Godkänn en inläst batch så att dess värden syns där indikatorn är publicerad. (Approve a batch.)"""
    from . import control

    settings, engine = migrated_engine(db, config)
    actor = actor_of(by)
    _change(engine, "import.approve", actor, {"batch": batch, "reason": reason},
            lambda conn: control.approve_batch(conn, batch, actor=actor, reason=reason,
                                               default_threshold=settings.default_display_threshold))


def depublish_batch_cmd(
    batch: BatchArg,
    reason: ReasonOpt,
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


__all__ = ["approve_batch_cmd", "depublish_batch_cmd", "depublish_cmd", "list_cmd", "log_cmd", "publish_cmd", "show_cmd"]
