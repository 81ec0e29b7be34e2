"""A server with an admin token on a private demo copy, and a waiting batch, for the staff preview's tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.demo import SOURCE
from indikera.domain.measurements import ConfidenceInterval, Measurement, Proportion
from indikera.domain.organisations import riket
from indikera.domain.periods import Period
from indikera.store.repositories import (
    OrganisationRepository, create_batch, ensure_source_system, insert_measurements, measurement_row,
)
from indikera.store.tables import indicators

from .server import running

TOKEN = "staff-test-token-7f3a9c2e1b"
TOKENS = (f"anna:{TOKEN}",)
PERIOD = Period(date(2026, 1, 1), date(2026, 12, 31))
PERIOD_PARAM = "20260101-20261231"


@contextmanager
def staff_server(demo_template, directory) -> Iterator[tuple[AppContext, str]]:
    path = directory / "demo.db"
    shutil.copy(demo_template, path)
    ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{path}", admin_tokens=TOKENS))
    try:
        with running(create_app(ctx=ctx)) as url:
            yield ctx, url
    finally:
        ctx.engine.dispose()


def waiting_batch(ctx: AppContext, measure_id: str = "10001", rate: tuple[int, int] = (873, 1000)) -> int:
    """An applied (not approved) batch with Riket's value of ``measure_id`` for 2026."""
    with ctx.engine.begin() as conn:
        iid = conn.execute(select(indicators.c.id).where(indicators.c.measure_id == measure_id)).scalar_one()
        batch = create_batch(conn, registry="SE2321000000-DEMOREG", file_name="2026.csv", sha256="1" * 64, fmt="csv", actor="importer")
        m = Measurement(measure_id, 1, PERIOD, riket(), Proportion(*rate), SOURCE, ci=ConfidenceInterval(0.85, 0.89))
        insert_measurements(conn, [measurement_row(m, indicator_id=iid, organisation_id=OrganisationRepository(conn).ensure(riket()),
                                                   source_system_id=ensure_source_system(conn, SOURCE), batch_id=batch)])
    return batch
