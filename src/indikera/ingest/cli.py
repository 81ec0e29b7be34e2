"""``indikera import …``: load registry results (VIS CSV/XLSX, JSON), list batches, show what a batch changed.

Exit codes: 0 done (or nothing to change), 1 file rejected (nothing written), 2 usage.
Other areas attach commands to :data:`import_app` (e.g. ``import approve`` from the publication area).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ..cli_support import ByOption, ConfigOption, DbOption, actor_of, fail, migrated_engine

import_app = typer.Typer(
    help="Importera registerresultat (VIS-filer CSV/XLSX, JSON) och visa importhistorik. "
    "(Import registry results and show import history.)",
    no_args_is_help=True,
)
console = Console(stderr=True, emoji=False)  # "fil.csv:100:" must not become an emoji
out = Console(emoji=False)


def _engine(db: str | None, config: Path | None):
    return migrated_engine(db, config)


@import_app.command("results")
def results(
    file: Annotated[Path, typer.Argument(help="VIS-fil (.csv, .xlsx) eller JSON (.json). (VIS flat file or JSON.)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Granska och visa vad som skulle ändras; skriv inget. "
                                                            "(Validate and show what would change; write nothing.)")] = False,
    registry: Annotated[Optional[str], typer.Option("--registry", help="Förväntat RegisterHSAID; andra filer avvisas. "
                                                                        "(Expected RegisterHSAID; other files are rejected.)")] = None,
    by: ByOption = None,
    actor: Annotated[Optional[str], typer.Option("--actor", hidden=True, help="Föråldrat namn på --by. "
                                                                               "(Deprecated name of --by.)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Validera hela filen och skriv allt eller inget. (Validate the whole file, then write all or nothing.)"""
    if actor is not None:
        console.print("[yellow]--actor är föråldrat; använd --by.[/yellow] (--actor is deprecated; use --by.)")
    from sqlalchemy.exc import DBAPIError

    from .importer import apply, validate
    from .problems import SHOWN
    from .write_process import ImportWriteError

    if not file.is_file():
        console.print(f"[red]Filen {file} finns inte.[/red] (No such file.)")
        raise typer.Exit(2)
    settings, engine = _engine(db, config)
    size = file.stat().st_size
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("Läser och kontrollerar", total=size if file.suffix.lower() == ".csv" else None)
        plan = validate(engine, file, settings, registry=registry, progress=lambda _s, n: progress.advance(task, n))
    problems = plan.problems
    if problems:
        for p in sorted(problems.shown, key=lambda p: (p.line or 0)):
            console.print(p.render(), markup=False, highlight=False, soft_wrap=True)
        more = f" (visar de första {SHOWN})" if problems.total > SHOWN else ""
        console.print(f"[red]Filen avvisades: {problems.total} fel{more}. Inget har skrivits.[/red] "
                      f"(File rejected: {problems.total} problems. Nothing was written.)")
        plan.spool.close()
        raise typer.Exit(1)
    console.print(f"{plan.rows} rader kontrollerade utan fel ({plan.fmt}"
                  f"{f' i {plan.parts} processer' if plan.parts > 1 else ''}, register {plan.registry}, "
                  f"{'ersätter registrets övriga värden' if plan.directive.mode == 'replace' else 'behåller övriga värden'}).")
    console.print("Skriver till databasen …" if not dry_run else "Provkörning: beräknar ändringar …")
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("Skriver", total=plan.rows)
            result = apply(engine, plan, settings, actor=actor_of(by or actor), dry_run=dry_run,
                           progress=lambda _s, n: progress.advance(task, n))
    except (ImportWriteError, DBAPIError) as exc:  # the transaction was rolled back
        raise fail(exc if isinstance(exc, ImportWriteError) else ImportWriteError(exc.orig or exc)) from None
    finally:
        plan.spool.close()
    summary = (f"tillagda {result.added}, ändrade {result.changed}, borttagna {result.removed}, oförändrade {result.unchanged}; "
               f"maskerade {result.masked_primary} (små tal) + {result.masked_secondary} (sekundärt skydd)")
    if dry_run:
        out.print(f"Provkörning – inget skrevs: {summary}.")
    elif result.batch_id is None:
        out.print(f"Inga ändringar – filen är redan inläst ({summary}). Ingen ny importomgång skapades.")
    else:
        out.print(f"Importomgång {result.batch_id} skapad: {summary}. "
                  "Värdena syns först när omgången har godkänts. (Values are shown once the batch is approved.)")


@import_app.command("history")
def history(
    registry: Annotated[Optional[str], typer.Option("--registry", help="Bara detta RegisterHSAID. (Only this RegisterHSAID.)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="De N senaste omgångarna. (The newest N batches.)")] = 50,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Lista importomgångar. (List import batches, newest first.)"""
    from .history import list_batches

    _, engine = _engine(db, config)
    with engine.connect() as conn:
        rows = list_batches(conn, registry, limit)
    table = Table("Omgång", "Register", "Fil", "Format", "Av", "Tid (UTC)", "Status", "+", "~", "−", "=")
    for b in rows:
        table.add_row(str(b.id), b.registry_hsa_id, b.file_name, b.format, b.created_by,
                      f"{b.created_at:%Y-%m-%d %H:%M}", b.status, str(b.added), str(b.changed), str(b.removed), str(b.unchanged))
    out.print(table)
    if not rows:
        out.print("Inga importomgångar. (No batches.)")


@import_app.command("diff")
def diff(
    batch: Annotated[int, typer.Argument(help="Omgångens nummer (se indikera import history). (Batch id; see indikera import history.)")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="Visa högst N ändringar. (Show at most N changes.)")] = 200,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Visa vad en importomgång ändrade. (Show what a batch added, changed and removed.)"""
    from .history import changes, get_batch

    _, engine = _engine(db, config)
    with engine.connect() as conn:
        b = get_batch(conn, batch)
        if b is None:
            console.print(f"[red]Importomgång {batch} finns inte.[/red] (No such batch.)")
            raise typer.Exit(1)
        items = changes(conn, batch, limit)
    out.print(f"Omgång {b.id}: {b.file_name} (sha256 {b.sha256[:12]}…), {b.created_by}, {b.created_at:%Y-%m-%d %H:%M} UTC, "
              f"status {b.status}: +{b.added} ~{b.changed} −{b.removed} ={b.unchanged}")
    label = {"added": "+ tillagd", "changed": "~ ändrad", "removed": "− borttagen"}
    for c in items:
        where = f"{c.measure_id} {c.period} {c.organisation}" + (f" [{c.stratum}]" if c.stratum else "")
        if c.operation == "changed":
            detail = ", ".join(f"{f}: {_fmt(bv)} → {_fmt(av)}" for f, bv, av in c.fields()) or "(organisationens namn)"
        else:
            snap = c.after if c.operation == "added" else c.before
            detail = _value_text(snap or {})
        out.print(f"{label[c.operation]}  {where}: {detail}", markup=False, highlight=False, soft_wrap=True)
    if b.added + b.changed + b.removed > len(items):
        out.print(f"… visar {len(items)} av {b.added + b.changed + b.removed} ändringar (--limit).")


@import_app.command("audit")
def audit_cmd(
    batch: Annotated[int, typer.Argument(help="Omgångens nummer (se indikera import history). (Batch id; see indikera import history.)")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="Visa de N snävaste intervallen. (Show the N tightest intervals.)")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Skriv JSON. (Print JSON.)")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Röjandekontroll: intervallen för maskade värden mot det som publiceras om omgången godkänns; slutstatus 1 om något är för snävt. (Disclosure audit: intervals of the masked values given what is published if the batch is approved; exit 1 when one is too narrow.)"""
    import json

    from ..domain.disclosure import describe
    from .batch_audit import audit_batch
    from .history import get_batch

    settings, engine = _engine(db, config)
    with engine.connect() as conn:
        if get_batch(conn, batch) is None:
            console.print(f"[red]Importomgång {batch} finns inte.[/red] (No such batch.)")
            raise typer.Exit(1)
        result = audit_batch(conn, batch, settings.default_display_threshold)
    tight = result.tightest(limit)
    if as_json:
        def num(x: float):
            return None if x != x or x == float("inf") else x

        out.print_json(json.dumps({"batch": batch, "ok": result.ok, "masked_quantities": len(result.intervals),
                                   "failures": len(result.failures), "intervals": [
                                       {"measure_id": i.key[0], "cell": describe(i), "quantity": i.quantity, "low": num(i.low),
                                        "high": num(i.high), "exact": i.exact, "required": i.required, "ok": i.ok}
                                       for i in tight]}))
    else:
        table = Table("Värde (cell)", "Storhet", "Intervall", "Bredd", "Krävs", "OK")
        for i in tight:
            interval = "motsägelse" if i.infeasible else f"[{i.low:g}, {i.high:g}]" + ("" if i.exact else " ⊆")
            table.add_row(describe(i).split(" ", 3)[0] + " " + " ".join(describe(i).split(" ")[1:3]), i.quantity, interval,
                          "–" if i.infeasible else f"{i.width:g}", str(i.required), "ja" if i.ok else "[red]NEJ[/red]")
        out.print(table)
        verdict = "godkänd (passes)" if result.ok else f"{len(result.failures)} för snäva (too narrow)"
        out.print(f"Omgång {batch}: {len(result.intervals)} maskade storheter granskade, {verdict}.")
        if any(not i.exact for i in tight):
            out.print("⊆: ett delintervall som två möjliga tabeller visar; det verkliga är minst så brett. "
                      "(A sub-interval shown by two consistent tables; the true one is at least as wide.)")
    if not result.ok:
        raise typer.Exit(1)


def _fmt(v: object) -> str:
    return "–" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def _value_text(s: dict) -> str:
    kind = s.get("kind")
    if kind == "proportion":
        return f"{_fmt(s.get('numerator'))}/{_fmt(s.get('denominator'))} = {_fmt(s.get('rate'))}"
    if kind == "continuous":
        return f"{_fmt(s.get('value'))} (n={_fmt(s.get('population'))})"
    if kind == "cohort":
        return f"antal {_fmt(s.get('cohort'))}"
    return f"saknas ({s.get('reason_code')})"
