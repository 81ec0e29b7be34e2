"""The database side of one import: one connection, one transaction, from the lock to the commit.

It runs in the database writer process (``write_process``) while the importer prepares rows in its own
(or in the importer's process when there can be no second process, e.g. an in-memory database). Either way
nothing is committed unless :meth:`WriteTransaction.finish` is reached; a failure, an abort or a dead
importer rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, text, update

from ..domain.measurements import SourceSystem
from ..domain.organisations import Organisation
from ..store.db import writer
from ..store.repositories import OrganisationRepository, create_batch, ensure_source_system
from ..store.tables import batches, organisations
from . import deferred_checks
from .writes import Job, JobWriter, batch_stamp, rehash, restore_row_triggers, suspend_row_triggers

IMPORT_LOCK_KEY = 0x696E_646B  # "indk": PostgreSQL advisory lock serialising imports


@dataclass(frozen=True)
class Begun:
    source_id: int
    batch_id: int
    stamp: object  # the batch's time, as the driver stores it
    org_ids: dict[str, int]  # the file's organisations, by key
    stored_keys: dict[int, str]  # every stored organisation: id → key, id → parent id
    stored_parents: dict[int, int | None]


@dataclass(frozen=True)
class Finished:
    renamed_organisations: int
    committed: bool


class WriteTransaction:
    def __init__(self, engine: Engine, *, set_based_checks: bool = True) -> None:
        self.conn = writer(engine).connect()
        self._set_based = set_based_checks
        self._floor: dict[str, int] | None = None  # set when the COPYs skip per-row checks (deferred_checks)
        self.tx = self.conn.begin()  # SQLite: BEGIN IMMEDIATE, the write lock is ours from here
        self._jobs: JobWriter | None = None
        self._triggers: list[tuple[str, str]] = []
        self._orgs: OrganisationRepository | None = None

    def begin(self, source: SourceSystem, file_name: str, sha256: str, fmt: str, actor: str,
              file_organisations: dict[str, Organisation]) -> Begun:
        conn = self.conn
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK_KEY})
        source_id = ensure_source_system(conn, source)
        batch_id = create_batch(conn, registry=source.extension, file_name=file_name, sha256=sha256, fmt=fmt, actor=actor)
        self._orgs = OrganisationRepository(conn, preload=True)
        ids = self._orgs.ensure_all(file_organisations.values())
        org_ids = {key: ids[o.key] for key, o in file_organisations.items()}
        stored_keys: dict[int, str] = {}
        stored_parents: dict[int, int | None] = {}
        for r in conn.execute(select(organisations.c.id, organisations.c.key, organisations.c.parent_id)):
            stored_keys[r.id] = r.key
            stored_parents[r.id] = r.parent_id
        stamp = batch_stamp(conn.dialect.name == "sqlite")
        if self._set_based and deferred_checks.possible(conn):
            self._floor = deferred_checks.id_floor(conn)
        self._jobs = JobWriter(conn, batch_id, stamp, unchecked=self._floor is not None)
        self._triggers = suspend_row_triggers(conn)
        self.batch_id = batch_id
        self._who = (actor, file_name)  # for the audit row written with the commit
        return Begun(source_id, batch_id, stamp, org_ids, stored_keys, stored_parents)

    def write(self, job: Job) -> None:
        assert self._jobs is not None
        self._jobs.write(job)

    def finish(self, added: int, changed: int, removed: int, unchanged: int, dry_run: bool) -> Finished:
        """Restore the triggers, refresh hashes under renamed organisations, record the counts, and commit
        — or roll back for a dry run or an import that changes nothing."""
        assert self._orgs is not None
        conn = self.conn
        touched = self._jobs.touched if self._jobs else set()
        restore_row_triggers(conn, self._triggers, touched)
        if self._floor is not None:
            deferred_checks.check_new_rows(conn, self._floor, touched)
        renamed = self._orgs.changed
        if renamed:
            rehash(conn, renamed)
        conn.execute(update(batches).where(batches.c.id == self.batch_id).values(
            added=added, changed=changed, removed=removed, unchanged=unchanged))
        commit = not dry_run and (added + changed + removed > 0 or bool(renamed))
        if commit:
            # The audit row joins this transaction: an import is never committed unrecorded (issue #16).
            from ..access import audit

            actor, file_name = self._who
            rows = added + changed + unchanged  # the file's rows (removed ones were not in it)
            audit.record(conn, channel="cli", operation="import.results", outcome="ok", actor=actor, returned=rows,
                         requested={"batchId": self.batch_id, "file": file_name, "rows": rows},
                         detail=f"batch {self.batch_id}: {added} added, {changed} changed, {removed} removed, {unchanged} unchanged")
            self.tx.commit()
        else:
            self.tx.rollback()
        self.conn.close()
        return Finished(len(renamed), commit)

    def abort(self) -> None:
        try:
            if self.tx.is_active:
                self.tx.rollback()
        finally:
            self.conn.close()
