"""``indikera catalog …``: validate, import, export, publish, depublish, show, list, log, schema.

Also adds ``indikera import approve|depublish BATCH`` to the import group (see ``publish.cli``).
Exit codes: 0 ok, 1 rejected (findings with errors, a refused change), 2 usage.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..cli_support import ByOption as ByOpt
from ..cli_support import ConfigOption as ConfigOpt
from ..cli_support import DbOption as DbOpt
from ..cli_support import actor_of, migrated_engine
from .findings import Finding

out = Console()
err = Console(stderr=True)

catalog_app = typer.Typer(
    help="Indikatorkatalogen: beskrivningar, validering, import/export och publicering. "
    "(Indicator catalogue: descriptions, validation, import/export, publication.)",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata (JSON). (Machine-readable output.)")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Varför (sparas i publiceringsloggen). (Why; recorded.)")]
SCHEMA = Path(__file__).with_name("schema") / "catalog.schema.json"


class LevelChoice(str, Enum):
    open = "open"
    restricted = "restricted"
    unpublished = "unpublished"


def engine_for(db: str | None, config: Path | None, *, required: bool = True):
    """The migrated database's engine; None (when not ``required``) if it is not set up."""
    return migrated_engine(db, config, required=required)[1]


def _read(path: Path) -> bytes:
    from .jsonformat import MAX_BYTES

    if not path.is_file():
        err.print(f"[red]Filen {path} finns inte.[/red] (File not found.)")
        raise typer.Exit(2)
    if path.stat().st_size > MAX_BYTES:
        err.print(f"[red]Filen {path} är större än {MAX_BYTES // 1_000_000} MB.[/red] (File too large.)")
        raise typer.Exit(1)
    return path.read_bytes()


def print_findings(findings: list[Finding], as_json: bool = False) -> None:
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=2))
        return
    if not findings:
        return
    table = Table(show_lines=False)
    for col in ("", "Fält (field)", "Problem", "Åtgärd (fix)"):
        table.add_column(col, overflow="fold")
    for f in findings:
        mark = "[red]fel[/red]" if f.is_error else "[yellow]varning[/yellow]"
        table.add_row(mark, f.field, f"{f.message} [dim]({f.code})[/dim]", f.fix)
    err.print(table)


def _summary(findings: list[Finding]) -> tuple[int, int]:
    errors = sum(1 for f in findings if f.is_error)
    return errors, len(findings) - errors


@catalog_app.command("validate")
def validate_cmd(
    file: Annotated[Optional[Path], typer.Argument(help="Katalogfil (JSON); utan fil granskas den lagrade katalogen.")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Granska beskrivningar enligt redaktionens regler (fel och varningar). (Editorial validation.)"""
    from . import store

    if file is not None:
        text = _read(file)
        engine = engine_for(db, config, required=False)
        if engine is None:
            err.print("[yellow]Ingen databas: filen granskas utan jämförelse med lagrade versioner och resultat.[/yellow]")
        findings = store.validate_text(engine, text)
    else:
        engine = engine_for(db, config)
        with engine.connect() as conn:
            findings = store.validate_stored(conn)
    print_findings(findings, as_json)
    errors, warnings = _summary(findings)
    err.print(f"{errors} fel, {warnings} varningar. ({errors} errors, {warnings} warnings.)")
    raise typer.Exit(1 if errors else 0)


@catalog_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="Katalogfil (JSON, format indikera-catalogue/1).")],
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Läs in beskrivningar: allt eller inget. (Import descriptions, all or nothing.)"""
    from ..access import audit
    from . import store

    text = _read(file)
    engine = engine_for(db, config)
    actor = actor_of(by)
    result = store.import_text(engine, text, actor)
    print_findings(result.findings, as_json)
    errors, warnings = _summary(result.findings)
    audit.record(engine, channel="cli", operation="catalog.import", outcome="ok" if result.ok else "rejected", actor=actor,
                 requested={"file": file.name, "added": result.added[:200]}, detail=f"{errors} errors, {warnings} warnings")
    if not result.ok:
        err.print(f"[red]Inget lästes in: {errors} fel.[/red] (Nothing imported: {errors} errors.)")
        raise typer.Exit(1)
    err.print(f"Inläst: {len(result.added)} nya versioner, {len(result.unchanged)} oförändrade, {warnings} varningar. "
              f"(Imported {len(result.added)} new versions, {len(result.unchanged)} unchanged.)")


@catalog_app.command("export")
def export_cmd(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Skriv till fil i stället för standard ut.")] = None,
    measure_id: Annotated[Optional[list[str]], typer.Option("--measure-id", help="Bara dessa indikatorer (kan upprepas).")] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions", help="Alla versioner, inte bara den senaste.")] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Skriv katalogen som JSON (samma format som import). (Export the catalogue.)"""
    from . import store

    engine = engine_for(db, config)
    with engine.connect() as conn:
        text = store.export_text(conn, measure_id or None, all_versions=all_versions)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"Katalogen skrevs till {output}.")


@catalog_app.command("schema")
def schema_cmd() -> None:
    """Skriv katalogformatets JSON Schema. (Print the catalogue format's JSON Schema.)"""
    typer.echo(SCHEMA.read_text(encoding="utf-8"), nl=False)


def _change(engine, operation: str, actor: str, requested: dict, fn) -> None:
    """Run one publication change in a write transaction; print the outcome; audit it; exit 1 if refused."""
    from ..access import audit
    from ..publish.states import PublishError
    from ..store.db import writer

    try:
        with writer(engine).begin() as conn:
            t = fn(conn)
    except PublishError as exc:
        audit.record(engine, channel="cli", operation=operation, outcome="rejected", actor=actor, requested=requested, detail=exc.code)
        print_findings(exc.details)
        err.print(f"[red]{exc.message}[/red] ({exc.message_en})")
        raise typer.Exit(1) from None
    audit.record(engine, channel="cli", operation=operation, outcome="ok" if t.changed else "unchanged", actor=actor,
                 requested=requested, detail=f"{t.before} -> {t.after}")
    if t.changed:
        err.print(f"Ändrat: {t.before} → {t.after}. (Changed.)")
    else:
        err.print(f"Oförändrat: redan {t.after}. (Unchanged.)")


@catalog_app.command("publish")
def publish_cmd(
    measure_id: Annotated[str, typer.Argument(help="Indikatorns KIK-id.")],
    level: Annotated[LevelChoice, typer.Option("--level", help="open: alla; restricted: avtalade mottagare; unpublished: ingen.")],
    reason: ReasonOpt,
    period_from: Annotated[Optional[str], typer.Option("--from", help="Bara för perioder från detta datum (ÅÅÅÅ-MM-DD).")] = None,
    period_to: Annotated[Optional[str], typer.Option("--to", help="… till och med detta datum.")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
) -> None:
    """Bestäm vem som ser en indikator (öppen, begränsad, opublicerad). (Set the publication level.)"""
    from ..publish import control
    from ..publish.states import PublishError

    try:
        period = control.parse_period(period_from, period_to)
    except PublishError as exc:
        err.print(f"[red]{exc.message}[/red] ({exc.message_en})")
        raise typer.Exit(2) from None
    engine = engine_for(db, config)
    actor = actor_of(by)
    requested = {"measureId": measure_id, "level": level.value, "reason": reason,
                 "from": str(period.start) if period else None, "to": str(period.end) if period else None}
    _change(engine, "catalog.publish", actor, requested,
            lambda conn: control.set_level(conn, measure_id, level.value, actor=actor, reason=reason, period=period))


@catalog_app.command("depublish")
def depublish_cmd(
    measure_id: Annotated[str, typer.Argument(help="Indikatorns KIK-id.")],
    reason: ReasonOpt,
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
) -> None:
    """Avpublicera: ta bort indikatorn från alla kanaler på en gång. (De-publish from every channel.)"""
    from ..publish import control

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
                   "changedBy": r.changed_by, "changedAt": r.changed_at.isoformat(), "reason": r.reason} for r in s.rules],
    }


@catalog_app.command("list")
def list_cmd(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Lista indikatorer med publiceringsläge och beskrivningens status. (List indicators.)"""
    from ..publish import control

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


@catalog_app.command("show")
def show_cmd(
    measure_id: Annotated[str, typer.Argument(help="Indikatorns KIK-id.")],
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Visa en indikators beskrivning, publiceringsläge och logg. (Show one indicator.)"""
    from ..publish import control
    from ..publish.states import PublishError
    from . import jsonformat, store

    engine = engine_for(db, config)
    with engine.connect() as conn:
        try:
            status = control.indicator_status(conn, measure_id)
        except PublishError as exc:
            err.print(f"[red]{exc.message}[/red] ({exc.message_en})")
            raise typer.Exit(1) from None
        d, findings = store.check_stored(conn, measure_id)
        versions = store.history(conn, measure_id)
        log = control.log_entries(conn, measure_id=measure_id, limit=20)
    if as_json:
        typer.echo(json.dumps({
            **_status_dict(status), "description": jsonformat.to_dict(d) if d else None,
            "findings": [f.as_dict() for f in findings],
            "versions": [{"version": f"{v.version[0]}.{v.version[1]}", "createdBy": v.created_by, "createdAt": v.created_at.isoformat()} for v in versions],
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
        from .model import OPTIONAL_TEXTS, REQUIRED_TEXTS

        for key, label in REQUIRED_TEXTS + OPTIONAL_TEXTS:
            if d.texts.get(key):
                out.print(f"[bold]{label.capitalize()}:[/bold] {d.texts[key]}")
    for r in status.rules:
        where = "hela indikatorn" if r.period_start is None else f"{r.period_start}–{r.period_end}"
        out.print(f"Regel {where}: {r.level.value} ({r.changed_by}, {r.changed_at:%Y-%m-%d %H:%M}: {r.reason})")
    for e in log:
        out.print(f"[dim]{e['at'][:19]} {e['actor']} {e['action']} {e['before']} → {e['after']}: {e['reason']}[/dim]")
    print_findings(findings)


@catalog_app.command("log")
def log_cmd(
    measure_id: Annotated[Optional[str], typer.Argument(help="Bara denna indikator.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Publiceringsloggen: vem, när, vad och varför. (The publication log.)"""
    from ..publish import control

    engine = engine_for(db, config)
    with engine.connect() as conn:
        entries = control.log_entries(conn, measure_id=measure_id, limit=limit)
    for e in entries:
        what = e["measureId"] or f"batch {e['batchId']}"
        period = f" {e['periodStart']}–{e['periodEnd']}" if e["periodStart"] else ""
        typer.echo(f"{e['at'][:19]}  {e['actor']}  {e['action']}  {what}{period}  {e['before']} -> {e['after']}  {e['reason']}")


def register(app: typer.Typer) -> None:
    """Add ``catalog`` and the batch approval commands of ``import``."""
    from ..publish.cli import register_import_commands

    app.add_typer(catalog_app, name="catalog")
    register_import_commands(app)
