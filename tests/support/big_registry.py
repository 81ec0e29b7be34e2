"""A registry with ``units`` vårdenheter for the preview UI's size tests and bench (issue #18, item 8).

A copy of the demo registry plus extra vårdenheter (under the 21 län) with results for indicator 10001 in
2025, written the way the demo writes them (domain measurements, the demo's approved batch), so every page
and download reads them through the same visibility rule as real data.
"""

from __future__ import annotations

import random
import shutil
from datetime import date
from pathlib import Path

from sqlalchemy import select

from indikera import demo, refdata
from indikera.domain.organisations import Organisation, OrgType, lan
from indikera.domain.periods import Period
from indikera.store.db import make_engine, writer
from indikera.store.repositories import OrganisationRepository, insert_measurements, measurement_row, utcnow
from indikera.store.tables import batches, indicators, measurements, source_systems

MEASURE = "10001"
PERIOD = Period(date(2025, 1, 1), date(2025, 12, 31))


def build(demo_template: Path, directory: Path, units: int = 1500) -> Path:
    """A copy of the demo registry in ``directory`` with vårdenheter added up to ``units`` for 10001 in 2025."""
    path = directory / f"big-{units}.db"
    shutil.copy(demo_template, path)
    engine = make_engine(f"sqlite:///{path}")
    rng = random.Random(18)
    lans = {code: lan(code, row.name) for code, row in refdata.lan().items()}
    spec = next(s for s in demo.INDICATORS if s.indicator.measure_id == MEASURE)
    try:
        with writer(engine).begin() as conn:
            indicator_id = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == MEASURE)).scalar_one()
            batch_id = conn.execute(select(batches.c.id).where(batches.c.status == "approved").order_by(batches.c.id)).scalars().first()
            source_id = conn.execute(select(source_systems.c.id)).scalars().first()
            existing = conn.execute(
                select(measurements.c.organisation_id).where(
                    measurements.c.indicator_id == indicator_id, measurements.c.period_start == PERIOD.start,
                    measurements.c.period_end == PERIOD.end,
                )
            ).scalars().all()
            have = len(existing) - 1 - 21 - 40  # the demo's vårdenheter: all rows less Riket, län and hospitals
            orgs = OrganisationRepository(conn)
            codes = sorted(lans)

            def rows():
                for i in range(max(0, units - have)):
                    code = codes[i % len(codes)]
                    org = Organisation(OrgType.VARDENHET, f"Enhet {i:04d} i {lans[code].name}", hsa_id=f"SE2321000000-B{i:05d}", parent=lans[code])
                    n = rng.randint(0, 400)
                    num = sum(1 for _ in range(n) if rng.random() < spec.base)
                    result, ci = demo._proportion(num, n, 5)
                    m = demo._m(spec.indicator, PERIOD, org, result, ci, coverage=round(rng.uniform(0.8, 1.0), 3))
                    row = measurement_row(m, indicator_id=indicator_id, organisation_id=orgs.ensure(org),
                                          source_system_id=source_id, batch_id=batch_id)
                    if "visible_since" in measurements.c:
                        row["visible_since"] = utcnow()
                    yield row

            insert_measurements(conn, rows())
    finally:
        engine.dispose()
    return path
