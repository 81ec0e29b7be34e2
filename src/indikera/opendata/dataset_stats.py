"""Per open indicator: what DCAT says about its data — the period range (``dcterms:temporal``), when the
visible data last changed (``dcterms:modified``) and when it was first made open (``dcterms:issued``).

One grouped query over the visible values (the one visibility rule) and one over the publication log; the
catalogue is built once per data version and ETag (a harvester's daily visit is a 304 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select

from ..publish.visibility import PUBLIC, visible_measurements
from ..store.catalog_tables import publication_log
from ..store.tables import batches, measurements
from .params import as_utc
from .state import View


@dataclass(frozen=True)
class DatasetStats:
    first_period: date | None = None
    last_period: date | None = None
    # The newest visible value's write, its batch's approval or the time it became public (visible_since),
    # whichever is latest: a batch approved today of values loaded last week changed the data today.
    data_changed: datetime | None = None
    first_opened: datetime | None = None  # the first time the publication log made it open


def dataset_stats(engine: Engine, view: View) -> dict[int, DatasetStats]:
    m = measurements.c
    out: dict[int, dict] = {}
    with engine.connect() as conn:
        visible = visible_measurements(conn, PUBLIC, view.open_ids)
        q = (select(m.indicator_id, func.min(m.period_start), func.max(m.period_end), func.max(m.updated_at),
                    func.max(batches.c.approved_at), func.max(m.visible_since))
             .select_from(measurements.join(batches, batches.c.id == m.batch_id))
             .where(visible).group_by(m.indicator_id))
        for ind, first, last, updated, approved, visible in conn.execute(q):
            stamps = [as_utc(t) for t in (updated, approved, visible) if isinstance(t, datetime)]
            out[ind] = dict(first_period=first, last_period=last, data_changed=max(stamps) if stamps else None)
        log = publication_log.c
        opened = (select(log.indicator_id, func.min(log.at)).where(log.level_after == "open", log.indicator_id.is_not(None))
                  .group_by(log.indicator_id))
        for ind, at in conn.execute(opened):
            if ind in view.open_ids and isinstance(at, datetime):
                out.setdefault(ind, {})["first_opened"] = as_utc(at)
    return {ind: DatasetStats(**values) for ind, values in out.items()}
