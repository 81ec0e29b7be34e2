"""``indikera catalog submit|approve|reject|release|history|diff|due``: the review of descriptions.

A transition and its audit row (channel ``cli``) are written in one transaction; a refusal is audited on its
own. ``catalog.cli`` adds these commands to the ``catalog`` group. Exit codes: 0 ok, 1 refused, 2 usage.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from ..cli_support import ByOption as ByOpt
from ..cli_support import ConfigOption as ConfigOpt
from ..cli_support import DbOption as DbOpt
from ..cli_support import actor_of, fail, migrated_engine
from ..domain.errors import IndikeraError
from ..store.repositories import iso_utc
from .review_states import Action, ReviewError

err = Console(stderr=True)

MeasureIdArg = Annotated[str, typer.Argument(help="Indikatorns KIK-id. (The indicator's KIK id.)")]
VersionArg = Annotated[str, typer.Argument(help="Beskrivningens version, t.ex. 1.2. (The description version, e.g. 1.2.)")]
ReasonOpt = Annotated[Optional[str], typer.Option("--reason", help="Varför (sparas i granskningsloggen). (Why; recorded in the review log.)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata (JSON). (Machine-readable output.)")]


def _version(text: str) -> tuple[int, int]:
    from .review import parse_version

    try:
        return parse_version(text)
    except ReviewError as exc:
        raise fail(exc, 2) from None


def _transition(measure_id: str, version: str, action: Action, by: str | None, db: str | None, config: Path | None,
                reason: str | None = None, *, then_release: bool = False, **kw: Any) -> None:
    from ..access import audit
    from ..store.db import writer
    from . import review

    v = _version(version)
    settings, engine = migrated_engine(db, config)
    actor = actor_of(by)
    requested = {"measure_id": measure_id, "version": version, **({"reason": reason} if reason else {})}
    operation = f"catalog.{action.value}"
    try:
        with writer(engine).begin() as conn:
            m = review.transition(conn, measure_id, v, action, actor=actor, reason=reason,
                                  self_approval=settings.catalog_self_approval,
                                  interval_days=settings.catalog_review_interval_days, **kw)
            audit.record(conn, channel="cli", operation=operation, outcome="ok", actor=actor, requested=requested,
                         detail=f"{m.before.value} -> {m.after.value}")
            if then_release:
                m = review.transition(conn, measure_id, v, Action.PUBLISH, actor=actor, reason=reason)
                audit.record(conn, channel="cli", operation="catalog.release", outcome="ok", actor=actor, requested=requested,
                             detail=f"{m.before.value} -> {m.after.value}")
    except ReviewError as exc:  # rolled back: the refusal gets its own row
        audit.record(engine, channel="cli", operation=operation, outcome="rejected", actor=actor, requested=requested, detail=exc.code)
        raise fail(exc) from None
    err.print(f"{measure_id} {version}: {m.before.value} → {m.after.value}. (Changed.)")


def submit_cmd(measure_id: MeasureIdArg, version: VersionArg, by: ByOpt = None, reason: ReasonOpt = None,
               db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Skicka en utkastversion till granskning. (Submit a draft version for review.)"""
    _transition(measure_id, version, Action.SUBMIT, by, db, config, reason)


def approve_cmd(
    measure_id: MeasureIdArg,
    version: VersionArg,
    by: ByOpt = None,
    reason: ReasonOpt = None,
    next_review: Annotated[Optional[str], typer.Option("--next-review", help="Nästa granskning (ÅÅÅÅ-MM-DD); standard: om "
                                                       "catalog_review_interval_days dagar. (Next review date; default: after "
                                                       "catalog_review_interval_days days.)")] = None,
    publish: Annotated[bool, typer.Option("--release", help="Släpp versionen direkt efter godkännandet. "
                                          "(Release the version right after approval.)")] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Godkänn en version i granskning (en annan person än författaren). (Approve a version in review; not its author.)"""
    when = None
    if next_review is not None:
        try:
            when = date.fromisoformat(next_review)
        except ValueError:
            raise fail(IndikeraError("REVIEW_DATE", f"--next-review: {next_review[:20]!r} är inget datum (ÅÅÅÅ-MM-DD).",
                                     f"--next-review: {next_review[:20]!r} is not a date (YYYY-MM-DD)."), 2) from None
    _transition(measure_id, version, Action.APPROVE, by, db, config, reason, then_release=publish, next_review=when)


def reject_cmd(measure_id: MeasureIdArg, version: VersionArg,
               reason: Annotated[str, typer.Option("--reason", help="Varför versionen avvisas (krävs). (Why; required.)")],
               by: ByOpt = None, db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Avvisa en version; rättelsen kommer som en ny version. (Reject a version; the fix comes as a new version.)"""
    _transition(measure_id, version, Action.REJECT, by, db, config, reason)


def release_cmd(measure_id: MeasureIdArg, version: VersionArg, by: ByOpt = None, reason: ReasonOpt = None,
                db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Släpp en godkänd version till alla kanaler (ersätter den publicerade). (Release an approved version to every channel.)"""
    _transition(measure_id, version, Action.PUBLISH, by, db, config, reason)


def history_cmd(measure_id: MeasureIdArg, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Beskrivningens versioner med status och granskningslogg: vem, när, varför. (Versions, status and review log.)"""
    from . import review

    _, engine = migrated_engine(db, config)
    with engine.connect() as conn:
        versions = review.versions(conn, measure_id)
        log = review.log_entries(conn, measure_id)
    if as_json:
        typer.echo(json.dumps({"versions": versions, "log": log}, ensure_ascii=False, indent=2, default=_iso))
        return
    if not versions:
        err.print(f"Indikatorn {measure_id} har ingen beskrivning. (No description.)")
        raise typer.Exit(1)
    for v in versions:
        typer.echo(f"{v['version']:>7}  {v['status']:<10}  skapad {_iso(v['createdAt'])} av {v['createdBy']}"
                   + (f", godkänd av {v['reviewedBy']}" if v["reviewedBy"] else "")
                   + (f", nästa granskning {v['nextReviewDate']}" if v["nextReviewDate"] else ""))
    for e in log:
        typer.echo(f"{_iso(e['at'])[:19]}  {e['actor']}  {e['action']}  {e['version']}  {e['before'] or '-'} -> {e['after']}"
                   f"  {e['reason'] or ''}".rstrip())


def diff_cmd(
    measure_id: MeasureIdArg,
    old: Annotated[Optional[str], typer.Argument(help="Äldre version; standard: den publicerade. (Older version; default: the published one.)")] = None,
    new: Annotated[Optional[str], typer.Argument(help="Nyare version; standard: den senaste i granskningsflödet. "
                                                 "(Newer version; default: the newest one in the review workflow.)")] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Skillnaden fält för fält mellan två versioner. (Field-by-field difference between two versions.)"""
    from . import review

    if old is not None and new is None:
        err.print("Ange båda versionerna eller ingen. (Give both versions or none.)")
        raise typer.Exit(2)
    pair = (_version(old), _version(new)) if old and new else (None, None)
    _, engine = migrated_engine(db, config)
    try:
        with engine.connect() as conn:
            before, after, changes = review.diff(conn, measure_id, *pair)
    except ReviewError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"measureId": measure_id, "from": before, "to": after,
                               "changes": [c.as_dict() for c in changes]}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{measure_id}: {before or '(ingen)'} → {after}, {len(changes)} ändrade fält (changed fields)")
    for c in changes:
        typer.echo(f"{c.field}\n  - {_short(c.before)}\n  + {_short(c.after)}")


def due_cmd(
    within: Annotated[str, typer.Option("--within", help="Visa också de som ska granskas inom så många dagar, t.ex. 30d. "
                                        "(Also those due within this many days, e.g. 30d.)")] = "0d",
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Publicerade beskrivningar som ska granskas igen (eller aldrig granskats). (Descriptions due for review.)"""
    from . import review

    days = within.strip().removesuffix("d")
    if not days.isdigit() or int(days) > 36500:
        raise fail(IndikeraError("REVIEW_WITHIN", f"--within: {within[:20]!r} ska vara ett antal dagar, t.ex. 30d.",
                                 f"--within: {within[:20]!r} must be a number of days, e.g. 30d."), 2)
    _, engine = migrated_engine(db, config)
    with engine.connect() as conn:
        rows = review.due(conn, int(days))
    if as_json:
        typer.echo(json.dumps([{"measureId": r.measure_id, "version": r.version, "nextReviewDate": r.next_review_date,
                                "reviewedBy": r.reviewed_by, "reviewedAt": r.reviewed_at} for r in rows],
                              ensure_ascii=False, indent=2, default=_iso))
        return
    for r in rows:
        when = r.next_review_date.isoformat() if r.next_review_date else "aldrig granskad (never reviewed)"
        typer.echo(f"{r.measure_id}\t{r.version}\t{when}\t{r.reviewed_by or ''}")
    err.print(f"{len(rows)} beskrivningar att granska. ({len(rows)} descriptions due.)")


def _iso(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value.isoformat()
    return iso_utc(value) if hasattr(value, "hour") else str(value)


def _short(value: Any) -> str:
    text = "(saknas)" if value is None else json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 300 else text[:300] + "…"


COMMANDS = (("submit", submit_cmd), ("approve", approve_cmd), ("reject", reject_cmd), ("release", release_cmd),
            ("history", history_cmd), ("diff", diff_cmd), ("due", due_cmd))

__all__ = ["COMMANDS"]
