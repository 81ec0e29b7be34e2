"""A small registry driven through the real importer and publication control, read through every channel
(open-data JSON over HTTP, the SOAP producer's query, the preview UI's query) and mirrored by a syncing
consumer that follows the recipe in docs/opendata.md ("Keeping a copy in sync")."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from indikera import demo
from indikera.catalog import jsonformat
from indikera.catalog import store as cs
from indikera.catalog.demo_descriptions import description_for
from indikera.contracts.qualityreporting_v2 import store_query
from indikera.contracts.qualityreporting_v2.request import Query
from indikera.domain import oids
from indikera.domain.measurements import Measurement, Proportion
from indikera.ingest.export import write_csv
from indikera.ingest.pending import CorrectionWaiting
from indikera.publish import control
from indikera.publish.visibility import PUBLIC
from indikera.store.db import writer
from indikera.store.tables import organisations
from indikera.web import queries

from .ingest_files import REG, Y2023, Y2024, import_file, organisations as orgs, seed_indicators

MID = "10001"
ORGS = ("riket", "01", "24", "u1")
PERIODS = (Y2023, Y2024)
KEYS = [(MID, p.start.isoformat(), p.end.isoformat(), orgs()[o].key, None) for p in PERIODS for o in ORGS]
Value = tuple[int, int]  # (numerator, denominator): large counts, nothing is masked


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class World:
    def __init__(self, engine: Engine, client, tmp: Path) -> None:
        self.engine, self.client, self.tmp = engine, client, tmp
        self.files = itertools.count()
        self.batches: list[int] = []
        seed_indicators(engine)
        spec = next(s for s in demo.INDICATORS if s.indicator.measure_id == MID)
        assert cs.import_text(engine, jsonformat.dumps([description_for(spec.indicator)]), "redaktör", approve_as="granskare").ok
        self.act(control.set_level, MID, "open", actor="anna", reason="Öppna data")

    def act(self, fn, *args, **kw):
        with writer(self.engine).begin() as conn:
            return fn(conn, *args, **kw)

    # -------- actions
    def import_(self, values: dict[tuple, Value], replace: bool = False) -> int | None:
        """Import one file with these values (``replace``: the registry's other values are removed); the batch,
        or None when the importer refused it because another batch's correction is waiting."""
        o = orgs()
        items = [Measurement(MID, 1, next(p for p in PERIODS if p.start.isoformat() == k[1]),
                             next(x for x in o.values() if x.key == k[3]), Proportion(*v), REG) for k, v in sorted(values.items())]
        path = self.tmp / f"f{next(self.files)}.csv"
        write_csv(path, items, directive=f"DELETE_EXISTING_DATA_FOR_REGISTER_HSAID:{REG.extension}" if replace else "KEEP_")
        try:
            out = import_file(self.engine, path)
        except CorrectionWaiting:
            return None
        if out.batch_id is not None:
            self.batches.append(out.batch_id)
        return out.batch_id

    def approve(self, batch: int) -> None:
        self.act(control.approve_batch, batch, actor="bertil", reason="Granskad")

    def depublish_batch(self, batch: int) -> None:
        self.act(control.depublish_batch, batch, actor="bertil", reason="Fel i filen")

    def level(self, level: str) -> None:
        self.act(control.set_level, MID, level, actor="anna", reason="Beslut")

    def depublish_indicator(self) -> None:
        self.act(control.depublish_indicator, MID, actor="anna", reason="Fel i beskrivningen")

    # -------- channels: key → value
    def _all(self, url: str) -> list[dict]:
        items = []
        while url:
            r = self.client.get(url)
            assert r.status_code == 200, r.text
            body = r.json()
            items += body["items"]
            url = body["next"] and body["next"].replace("http://testserver", "")
        return items

    def export(self) -> dict[tuple, tuple[Value, datetime]]:
        """The full open-data export: key → (value, updatedAt)."""
        return {_key(i): (_value(i), _ts(i["updatedAt"])) for i in self._all("/api/v1/results?limit=3")}

    def opendata(self) -> dict[tuple, Value]:
        return {k: v for k, (v, _) in self.export().items()}

    def soap(self) -> dict[tuple, Value]:
        with self.engine.connect() as conn:
            sel = store_query.select_for(conn, Query(((oids.MEASURE_ID_ROOT, MID),), "20230101", "20241231"), PUBLIC)
            keys = dict(conn.execute(select(organisations.c.id, organisations.c.key)).all())
            return {(MID, str(r.period_start)[:10], str(r.period_end)[:10], keys[r.organisation_id], None):
                    (int(r.numerator), int(r.denominator)) for r in store_query.answer_rows(conn, sel)}

    def ui(self) -> dict[tuple, Value]:
        with self.engine.connect() as conn:
            info = queries.visible_indicator(conn, PUBLIC, MID)
            if info is None:
                return {}
            rows = queries.results(conn, PUBLIC, info, None, [k[3] for k in KEYS])
        return {(MID, r.period_start.isoformat(), r.period_end.isoformat(), r.org_key, r.stratum or None):
                (int(r.numerator), int(r.denominator)) for r in rows}

    def channels(self) -> dict[str, dict[tuple, Value]]:
        return {"opendata": self.opendata(), "soap": self.soap(), "ui": self.ui()}

    # -------- the feed
    def changed_since(self, since: datetime) -> list[dict]:
        return self._all(f"/api/v1/results?limit=2&updatedSince={since.isoformat().replace('+00:00', 'Z')}")

    def removed_since(self, since: datetime) -> list[dict]:
        return self._all(f"/api/v1/results/removed?limit=2&since={since.isoformat().replace('+00:00', 'Z')}")


def _key(item: dict) -> tuple:
    return (item["measureId"], item["periodStart"], item["periodEnd"], item["organisation"]["id"], item["stratum"])


def _value(item: dict) -> Value:
    return (int(item["numerator"]), int(item["denominator"]))


EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class Consumer:
    """A 1177-style app's copy, kept by the documented recipe: upsert what ``/results?updatedSince=W`` returns,
    then drop each key ``/results/removed?since=W`` names unless what it holds is newer than the removal;
    the next W is the newest ``updatedAt`` seen (removals after it are read again, harmlessly)."""

    def __init__(self, held: dict[tuple, tuple[Value, datetime]] | None = None, since: datetime = EPOCH) -> None:
        self.held = dict(held or {})
        self.since = since

    def sync(self, world: World) -> None:
        changed = world.changed_since(self.since)
        removed = world.removed_since(self.since)
        for item in changed:
            self.held[_key(item)] = (_value(item), _ts(item["updatedAt"]))
        for r in removed:
            key = (r["measureId"], r["periodStart"], r["periodEnd"], r["organisationId"], r["stratum"])
            held = self.held.get(key)
            if held is not None and held[1] < _ts(r["removedAt"]):
                del self.held[key]
        if changed:
            self.since = max(self.since, max(_ts(i["updatedAt"]) for i in changed))

    def values(self) -> dict[tuple, Value]:
        return {k: v for k, (v, _) in self.held.items()}
