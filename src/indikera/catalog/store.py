"""The catalogue in the database: versioned descriptions, and importing a catalogue file all or nothing.

Importing writes *drafts* (``review_states``): no channel shows a version before it is reviewed and published
(``catalog.review``). Importing the first description of an indicator creates its identity row
(``indicators``) so that results can be loaded for it; publishing a version updates that row. A file with
any error writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from ..store.catalog_tables import description_review_log, indicator_descriptions, publication_rules
from ..store.db import writer
from ..store.repositories import load_indicators, upsert_indicator, utcnow
from ..store.tables import indicators, measurements
from . import jsonformat
from .findings import Finding, has_errors
from .model import Description
from .review import approve_and_publish
from .review_states import SHOWN, Status
from .validation import Context, validate, validate_one


@dataclass
class ImportResult:
    findings: list[Finding] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # "measureId version" of each new description version
    unchanged: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


@dataclass(frozen=True)
class VersionInfo:
    version: tuple[int, int]
    created_by: str
    created_at: datetime
    status: str = Status.PUBLISHED.value


def stored_versions(conn: Connection, measure_ids: Iterable[str] | None = None) -> dict[str, dict[tuple[int, int], dict]]:
    q = select(indicator_descriptions.c.measure_id, indicator_descriptions.c.version_major,
               indicator_descriptions.c.version_minor, indicator_descriptions.c.document)
    if measure_ids is not None:
        q = q.where(indicator_descriptions.c.measure_id.in_(sorted(set(measure_ids))))
    out: dict[str, dict[tuple[int, int], dict]] = defaultdict(dict)
    for r in conn.execute(q):
        out[r.measure_id][(r.version_major, r.version_minor)] = r.document
    return dict(out)


def loaded_kinds(conn: Connection, measure_ids: Iterable[str] | None = None) -> dict[str, set[str]]:
    """The kinds of results stored per indicator (to catch a unit type that contradicts loaded data)."""
    q = (
        select(indicators.c.measure_id, measurements.c.kind)
        .select_from(measurements.join(indicators, indicators.c.id == measurements.c.indicator_id))
        .distinct()
    )
    if measure_ids is not None:
        q = q.where(indicators.c.measure_id.in_(sorted(set(measure_ids))))
    out: dict[str, set[str]] = defaultdict(set)
    for r in conn.execute(q):
        out[r.measure_id].add(r.kind)
    return dict(out)


def published_ids(conn: Connection) -> set[str]:
    """Measure ids with any rule (indicator-wide or for a period) that lets someone see them."""
    q = (select(indicators.c.measure_id).select_from(publication_rules.join(indicators, indicators.c.id == publication_rules.c.indicator_id))
         .where(publication_rules.c.level != "unpublished").distinct())
    return set(conn.execute(q).scalars())


def context(conn: Connection, measure_ids: Iterable[str] | None = None) -> Context:
    ids = None if measure_ids is None else set(measure_ids)
    return Context(
        stored_versions=stored_versions(conn, ids),
        loaded_kinds=loaded_kinds(conn, ids),
        indicators={mid: ind for mid, (_, ind) in load_indicators(conn).items()},
        published=published_ids(conn),
    )


@dataclass(frozen=True)
class StoredDescription:
    """One stored description version: the model, when it was stored, and the document as stored (the
    open data serves it verbatim)."""

    description: Description
    # UTC. For the channels (published versions): when the version was published, i.e. when it appeared to
    # them, so "updated since" and Last-Modified follow publication, not the draft; with include_unreviewed:
    # when the version was stored.
    created_at: datetime
    document: dict[str, Any]
    complete: bool  # valid in the file format (as the catalogue writes it); else read leniently
    status: str = Status.PUBLISHED.value  # review status (``review_states.Status``)


def description_versions(conn: Connection, measure_ids: Iterable[str] | None = None, *,
                         include_unreviewed: bool = False) -> dict[str, list[StoredDescription]]:
    """Every published version (the current one and those it superseded) of each description, newest (highest
    major.minor) first, by measure id: the one reader of ``indicator_descriptions`` for everything that shows
    descriptions (web, open data, DCAT, publication). Drafts and versions in review are left out unless
    ``include_unreviewed`` (staff only: the preview, the catalogue's own tools). Documents are read leniently
    (``jsonformat.from_stored``), so an old or hand-written one still shows."""
    d = indicator_descriptions
    q = select(d.c.measure_id, d.c.version_major, d.c.version_minor, d.c.document, d.c.created_at, d.c.status,
               d.c.published_at)
    if not include_unreviewed:
        q = q.where(d.c.status.in_([s.value for s in SHOWN]))
    if measure_ids is not None:
        q = q.where(d.c.measure_id.in_(sorted(set(measure_ids))))
    out: dict[str, list[StoredDescription]] = defaultdict(list)
    for r in conn.execute(q.order_by(d.c.measure_id, d.c.version_major.desc(), d.c.version_minor.desc())):
        doc = r.document if isinstance(r.document, dict) else {}
        version = (r.version_major, r.version_minor)
        description, complete = jsonformat.from_stored(doc, r.measure_id, version)
        created = r.created_at if include_unreviewed or r.published_at is None else r.published_at
        created = created if created.tzinfo else created.replace(tzinfo=UTC)  # SQLite: naive UTC
        out[r.measure_id].append(StoredDescription(description, created.astimezone(UTC), doc, complete, r.status))
    return dict(out)


def latest_stored(conn: Connection, measure_ids: Iterable[str] | None = None, *,
                  include_unreviewed: bool = False) -> dict[str, StoredDescription]:
    """The newest published version of each description (with ``include_unreviewed``: the newest of any status)."""
    versions = description_versions(conn, measure_ids, include_unreviewed=include_unreviewed)
    return {mid: vs[0] for mid, vs in sorted(versions.items())}


def description_for_preview(conn: Connection, measure_id: str) -> StoredDescription | None:
    """What a staff preview shows: the newest version that may still go live (draft, in review, approved or
    published; not rejected or superseded), with its ``status``. Never for a public channel."""
    versions = description_versions(conn, [measure_id], include_unreviewed=True).get(measure_id, [])
    return next((v for v in versions if v.status not in (Status.REJECTED.value, Status.SUPERSEDED.value)), None)


def latest_descriptions(conn: Connection, measure_ids: Iterable[str] | None = None, *,
                        published: bool = False) -> dict[str, Description]:
    """The newest version of each description, by measure id, for the catalogue's own judging and export: the
    working copy (any review status), or with ``published`` the version the channels show. A stored document
    that is not complete is an error here (as it always was), not a partial model."""
    out = {}
    for mid, s in latest_stored(conn, measure_ids, include_unreviewed=not published).items():
        if not s.complete:
            raise ValueError(f"stored description {mid} {s.description.version_text} is not valid")
        out[mid] = s.description
    return out


def latest_description(conn: Connection, measure_id: str, *, published: bool = False) -> Description | None:
    return latest_descriptions(conn, [measure_id], published=published).get(measure_id)


def history(conn: Connection, measure_id: str) -> list[VersionInfo]:
    rows = conn.execute(
        select(indicator_descriptions.c.version_major, indicator_descriptions.c.version_minor,
               indicator_descriptions.c.created_by, indicator_descriptions.c.created_at, indicator_descriptions.c.status)
        .where(indicator_descriptions.c.measure_id == measure_id)
        .order_by(indicator_descriptions.c.version_major, indicator_descriptions.c.version_minor)
    )
    return [VersionInfo((r.version_major, r.version_minor), r.created_by, r.created_at, r.status) for r in rows]


def check_stored(conn: Connection, measure_id: str) -> tuple[Description | None, list[Finding]]:
    """The published description judged against what the store holds now (e.g. results loaded since import):
    what publication needs. An unreviewed draft does not count as a description here."""
    d = latest_description(conn, measure_id, published=True)
    if d is None:
        return None, []
    ctx = context(conn, [measure_id] + ([d.parent_measure_id] if d.parent_measure_id else []))
    ctx.stored_versions = {}  # the stored version is the one judged; it is not a competing version
    return d, validate_one(d, ctx, "indicator")


def save(conn: Connection, descriptions: list[Description], actor: str, *, reason: str | None = None,
         approve_as: str | None = None, self_approval: bool = False, interval_days: int = 365) -> ImportResult:
    """Validate ``descriptions`` against the store and write them as drafts, or write nothing (caller's
    transaction). ``approve_as``: the one-step path for scripts: each new version is submitted, approved by
    that person (four-eyes rule: not ``actor`` unless ``self_approval``) and published at once."""
    result = ImportResult()
    mids = {d.measure_id for d in descriptions} | {d.parent_measure_id for d in descriptions if d.parent_measure_id}
    ctx = context(conn, mids)
    result.findings = validate(descriptions, ctx)
    if has_errors(result.findings):
        return result
    now = utcnow()
    newest: dict[str, Description] = {}
    rows = []
    for d in sorted(descriptions, key=lambda d: (d.measure_id, d.version)):
        label = f"{d.measure_id} {d.version_text}"
        if d.version in ctx.stored_versions.get(d.measure_id, {}):
            result.unchanged.append(label)
        else:
            rows.append(dict(measure_id=d.measure_id, version_major=d.version_major, version_minor=d.version_minor,
                             document=jsonformat.to_dict(d), created_by=actor, created_at=now,
                             status=Status.DRAFT.value, reason=reason))
            result.added.append(label)
        newest[d.measure_id] = d
    if rows:
        conn.execute(insert(indicator_descriptions), rows)
        d_ = indicator_descriptions
        log: list[dict[str, Any]] = []
        new = {(r["measure_id"], r["version_major"], r["version_minor"]) for r in rows}
        for row in conn.execute(select(d_).where(d_.c.measure_id.in_(sorted({r["measure_id"] for r in rows})),
                                                 d_.c.status == Status.DRAFT.value)):
            if (row.measure_id, row.version_major, row.version_minor) in new:
                log.append(dict(description_id=row.id, measure_id=row.measure_id, version_major=row.version_major,
                                version_minor=row.version_minor, action="create", status_before=None,
                                status_after=Status.DRAFT.value, actor=actor, at=now, reason=reason))
        conn.execute(insert(description_review_log), log)  # one statement: a catalogue may hold thousands
    known = set(conn.execute(select(indicators.c.measure_id).where(indicators.c.measure_id.in_(sorted(newest)))).scalars())
    for d in newest.values():
        if d.measure_id not in known:  # results can be loaded for a new indicator; nothing shows it yet
            upsert_indicator(conn, d.to_indicator())
    if approve_as is not None:
        for d in sorted(descriptions, key=lambda d: (d.measure_id, d.version)):
            if f"{d.measure_id} {d.version_text}" in result.added:
                approve_and_publish(conn, d.measure_id, d.version, author=actor, approver=approve_as,
                                    self_approval=self_approval, interval_days=interval_days, reason=reason)
    result.written = True
    return result


def import_text(engine: Engine, text: str | bytes, actor: str,
                on_written: Callable[[Connection, ImportResult], None] | None = None, *,
                reason: str | None = None, approve_as: str | None = None, self_approval: bool = False,
                interval_days: int = 365) -> ImportResult:
    """Import a catalogue file: parse and judge everything, then write all of it (as drafts, or published
    through ``approve_as``; see ``save``) or nothing.

    ``on_written`` runs inside the import's transaction once the descriptions are written, so that what
    records the change (the audit row) commits or rolls back with it.
    """
    descriptions, findings = jsonformat.loads(text)
    if has_errors(findings):
        return ImportResult(findings=findings)
    with writer(engine).begin() as conn:
        result = save(conn, descriptions, actor, reason=reason, approve_as=approve_as, self_approval=self_approval,
                      interval_days=interval_days)  # writes nothing when it finds an error
        result.findings = findings + result.findings
        if result.written and on_written is not None:
            on_written(conn, result)
    return result


def validate_text(engine: Engine | None, text: str | bytes) -> list[Finding]:
    """Judge a file without writing; with an engine, against the stored catalogue and results too."""
    entries, findings = jsonformat.loads_entries(text)
    descriptions, paths = [d for _, d in entries], [p for p, _ in entries]  # paths: entries that failed are skipped
    if engine is None:
        return findings + validate(descriptions, paths=paths)
    with engine.connect() as conn:
        mids = {d.measure_id for d in descriptions} | {d.parent_measure_id for d in descriptions if d.parent_measure_id}
        return findings + validate(descriptions, context(conn, mids), paths=paths)


def validate_stored(conn: Connection, *, published: bool = False) -> list[Finding]:
    """Every finding for the stored catalogue (latest versions, or the published ones), as if it were one file."""
    latest = list(latest_descriptions(conn, published=published).values())
    ctx = context(conn)
    ctx.stored_versions = {}
    return validate(latest, ctx, paths=[f"{d.measure_id}" for d in latest])


def export_text(conn: Connection, measure_ids: Iterable[str] | None = None, *, all_versions: bool = False) -> str:
    if not all_versions:
        return jsonformat.dumps(list(latest_descriptions(conn, measure_ids).values()))
    docs = []
    for _mid, versions in sorted(stored_versions(conn, measure_ids).items()):
        docs += [jsonformat.from_dict(versions[v]) for v in sorted(versions)]
    return jsonformat.dumps(docs)


__all__ = [
    "ImportResult",
    "StoredDescription",
    "VersionInfo",
    "check_stored",
    "context",
    "description_for_preview",
    "description_versions",
    "export_text",
    "history",
    "import_text",
    "latest_description",
    "latest_descriptions",
    "latest_stored",
    "loaded_kinds",
    "save",
    "stored_versions",
    "validate_stored",
    "validate_text",
]
