"""``indikera catalog validate|import|export|schema``: the descriptions themselves.

The publication commands of the same group (publish, depublish, list, show, log) live in ``publish.cli``,
which depends on the catalogue, not the reverse; ``cli.py`` puts both in the ``catalog`` group.
Exit codes: 0 ok, 1 rejected (findings with errors), 2 usage.
"""

from __future__ import annotations

import json
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
from .review_cli import COMMANDS as REVIEW_COMMANDS

err = Console(stderr=True)

catalog_app = typer.Typer(
    help="Indikatorkatalogen: beskrivningar, validering, import/export och publicering. "
    "(Indicator catalogue: descriptions, validation, import/export, publication.)",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata (JSON). (Machine-readable output.)")]


def engine_for(db: str | None, config: Path | None, *, required: bool = True):
    """The migrated database's engine; None (when not ``required``) if it is not set up."""
    return migrated_engine(db, config, required=required)[1]


def _read(path: Path) -> bytes:
    from .jsonformat import MAX_BYTES

    if str(path) == "-":  # standard input: ``catalog export --all-versions | catalog import -``
        data = typer.get_binary_stream("stdin").read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            err.print(f"[red]Indata är större än {MAX_BYTES // 1_000_000} MB.[/red] (Input too large.)")
            raise typer.Exit(1)
        return data
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
    if not err.is_terminal:
        # Piped or redirected: one finding per line, tab-separated, never wrapped (a table folds at 80
        # columns and splits field paths), so grep and cut work: severity, code, field, message, fix.
        for f in findings:
            cols = (f.severity.value, f.code, f.field, f.message, f.fix)
            typer.echo("\t".join(" ".join(c.split()) for c in cols), err=True)
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
    file: Annotated[Optional[Path], typer.Argument(help="Katalogfil (JSON); utan fil granskas den lagrade katalogen. "
                                                        "(Catalogue file; without one the stored catalogue is checked.)")] = None,
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
    file: Annotated[Path, typer.Argument(help="Katalogfil (JSON, format indikera-catalogue/1); - läser standard in. "
                                              "(Catalogue file, JSON; - reads standard input.)")],
    db: DbOpt = None,
    config: ConfigOpt = None,
    by: ByOpt = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Varför versionerna skrivs (sparas med dem). "
                                                  "(Why these versions are written; recorded with them.)")] = None,
    approve_as: Annotated[Optional[str], typer.Option("--approve-as", help="Granska, godkänn och släpp direkt som denna person "
                                                      "(inte författaren, om inte catalog_self_approval). (Review, approve and "
                                                      "release at once as this person; not the author unless catalog_self_approval.)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Läs in beskrivningar som utkast: allt eller inget. (Import descriptions as drafts, all or nothing.)"""
    from ..access import audit
    from ..cli_support import fail
    from . import store
    from .review_states import ReviewError

    text = _read(file)
    settings, engine = migrated_engine(db, config)
    actor = actor_of(by)

    def record(target, result: store.ImportResult) -> None:
        errors, warnings = _summary(result.findings)
        audit.record(target, channel="cli", operation="catalog.import", outcome="ok" if result.ok else "rejected", actor=actor,
                     requested={"file": file.name, "added": result.added[:200]}, detail=f"{errors} errors, {warnings} warnings")

    try:
        result = store.import_text(engine, text, actor, on_written=record,  # audited in the import's transaction
                                   reason=reason, approve_as=approve_as, self_approval=settings.catalog_self_approval,
                                   interval_days=settings.catalog_review_interval_days)
    except ReviewError as exc:  # --approve-as refused (four-eyes rule): nothing was written
        audit.record(engine, channel="cli", operation="catalog.import", outcome="rejected", actor=actor,
                     requested={"file": file.name}, detail=exc.code)
        raise fail(exc) from None
    if not result.written:
        record(engine, result)  # nothing was written: the refusal gets its own row
    print_findings(result.findings, as_json)
    errors, warnings = _summary(result.findings)
    if not result.ok:
        err.print(f"[red]Inget lästes in: {errors} fel.[/red] (Nothing imported: {errors} errors.)")
        raise typer.Exit(1)
    err.print(f"Inläst: {len(result.added)} nya versioner, {len(result.unchanged)} oförändrade, {warnings} varningar. "
              f"(Imported {len(result.added)} new versions, {len(result.unchanged)} unchanged.)")
    if result.added and approve_as is None:
        err.print("Nya versioner är utkast tills de granskats: catalog submit, approve, release. "
                  "(New versions are drafts until reviewed.)")


@catalog_app.command("export")
def export_cmd(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Skriv till fil i stället för standard ut. "
                                                                          "(Write to a file instead of stdout.)")] = None,
    measure_id: Annotated[Optional[list[str]], typer.Option("--measure-id", help="Bara dessa indikatorer (kan upprepas). "
                                                                                 "(Only these indicators; repeatable.)")] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions", help="Alla versioner, inte bara den senaste. "
                                                                      "(Every version, not only the latest.)")] = False,
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
    from .jsonformat import SCHEMA

    typer.echo(SCHEMA.read_text(encoding="utf-8"), nl=False)


for _name, _command in REVIEW_COMMANDS:  # the review of descriptions (review_cli.py)
    catalog_app.command(_name)(_command)
