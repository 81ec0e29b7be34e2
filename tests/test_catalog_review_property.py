"""Issue #16 item 1: the description review state machine under random action sequences (SQLite and PostgreSQL).

Random people import new versions, submit, approve, reject and release them. A model predicts which actions
are allowed; after every step the store must agree with it, and nothing unreviewed may be visible outside the
staff preview: the channels' reader (``latest_stored``/``description_versions``), the visibility rule's
``visible_descriptions`` and the identity row the SOAP answers use show only the published version, and the
approver of every published version is not its author. At the end of each sequence the real app's open data,
DCAT and UI pages are read too: no text of a version that was never published appears in them.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from indikera import demo
from indikera.app import create_app
from indikera.catalog import jsonformat, review
from indikera.catalog import store as cs
from indikera.catalog.demo_descriptions import description_for
from indikera.catalog.review_states import Action, ReviewError, Status
from indikera.config import Settings
from indikera.context import AppContext
from indikera.publish import control
from indikera.publish.visibility import PUBLIC, visible_descriptions
from indikera.store import db as store_db
from indikera.store.catalog_tables import indicator_descriptions as D
from indikera.store.tables import indicators

PEOPLE = ("anna", "bertil", "cecilia")
BASE = description_for(next(s.indicator for s in demo.INDICATORS if s.indicator.measure_id == "10001"))
_ids = itertools.count(1)

step = st.one_of(
    st.tuples(st.just("import"), st.sampled_from(PEOPLE), st.just(0)),
    st.tuples(st.sampled_from(["submit", "approve", "reject", "release"]), st.sampled_from(PEOPLE), st.integers(0, 7)),
)


def marker(mid: str, v: tuple[int, int]) -> str:
    return f"Markör{mid}v{v[0]}x{v[1]}"


def version_of(mid: str, v: tuple[int, int]):
    m = marker(mid, v)
    return replace(BASE, measure_id=mid, version_major=v[0], version_minor=v[1], title=f"Strokeenhet {m}",
                   purpose=f"{BASE.purpose} {m}.")


class Model:
    """What the rules say: status, author and approver per version."""

    def __init__(self) -> None:
        self.status: dict[tuple[int, int], Status] = {}
        self.author: dict[tuple[int, int], str] = {}
        self.approver: dict[tuple[int, int], str] = {}
        self.ever_published: set[tuple[int, int]] = set()

    def published(self) -> tuple[int, int] | None:
        return next((v for v, s in self.status.items() if s is Status.PUBLISHED), None)

    def allowed(self, action: str, v: tuple[int, int], who: str) -> bool:
        s = self.status[v]
        if action == "submit":
            return s is Status.DRAFT
        if action == "approve":
            return s is Status.IN_REVIEW and who != self.author[v]
        if action == "reject":
            return s in (Status.DRAFT, Status.IN_REVIEW, Status.APPROVED)
        current = self.published()
        return s is Status.APPROVED and (current is None or current < v)

    def apply(self, action: str, v: tuple[int, int], who: str) -> None:
        after = {"submit": Status.IN_REVIEW, "approve": Status.APPROVED, "reject": Status.REJECTED, "release": Status.PUBLISHED}[action]
        if action == "release":
            current = self.published()
            if current is not None:
                self.status[current] = Status.SUPERSEDED
            self.ever_published.add(v)
        if action == "approve":
            self.approver[v] = who
        self.status[v] = after


def check_channels(conn, mid: str, model: Model) -> None:
    published = model.published()
    rows = {(r.version_major, r.version_minor): r for r in conn.execute(select(D).where(D.c.measure_id == mid))}
    assert {v: Status(r.status) for v, r in rows.items()} == model.status
    for v, r in rows.items():
        if r.status in ("published", "superseded"):
            assert r.reviewed_by and r.reviewed_by != r.created_by  # four eyes on everything that went live
    latest = cs.latest_stored(conn, [mid]).get(mid)
    assert (latest.description.version if latest else None) == published
    shown = {s.description.version for s in cs.description_versions(conn, [mid]).get(mid, [])}
    assert shown <= model.ever_published
    visible = visible_descriptions(conn, PUBLIC).get(mid)
    assert (visible.version if visible else None) == published
    ident = conn.execute(select(indicators.c.title).where(indicators.c.measure_id == mid)).scalar_one()
    assert ident == version_of(mid, published).title  # what SOAP answers name the indicator


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=14))
def run_sequence(engine, client: TestClient, steps) -> None:
    mid = f"8{next(_ids):04d}"
    model = Model()
    first = (1, 0)
    assert cs.import_text(engine, jsonformat.dumps([version_of(mid, first)]), "anna", approve_as="bertil").ok
    model.status[first], model.author[first], model.approver[first] = Status.PUBLISHED, "anna", "bertil"
    model.ever_published.add(first)
    with store_db.writer(engine).begin() as conn:
        control.set_level(conn, mid, "open", actor="anna", reason="Öppna data")
    for action, who, pick in steps:
        versions = sorted(model.status)
        if action == "import":
            v = (1, versions[-1][1] + 1)
            assert cs.import_text(engine, jsonformat.dumps([version_of(mid, v)]), who, reason="ny text").ok
            model.status[v], model.author[v] = Status.DRAFT, who
        else:
            v = versions[pick % len(versions)]
            act = {"submit": Action.SUBMIT, "approve": Action.APPROVE, "reject": Action.REJECT, "release": Action.PUBLISH}[action]
            try:
                with store_db.writer(engine).begin() as conn:
                    review.transition(conn, mid, v, act, actor=who, reason="granskat")
                done = True
            except ReviewError:
                done = False
            assert done == model.allowed(action, v, who), (action, v, who, model.status)
            if done:
                model.apply(action, v, who)
        with engine.connect() as conn:
            check_channels(conn, mid, model)
    # The real app: open data, DCAT and the UI never carry a text of a version that was never published.
    never = [marker(mid, v) for v in model.status if v not in model.ever_published]
    current = marker(mid, model.published())
    pages = [client.get(f"/api/v1/indicators/{mid}"), client.get("/datasets/dcat"), client.get(f"/indikatorer/{mid}")]
    assert all(p.status_code == 200 for p in pages), [p.status_code for p in pages]
    assert current in pages[0].text and current in pages[1].text
    for page in pages:
        assert not [m for m in never if m in page.text]


@pytest.mark.slow
def test_nothing_unreviewed_is_ever_visible_outside_the_preview(db_url, engine):
    ctx = AppContext.from_settings(Settings(database_url=db_url))
    try:
        with TestClient(create_app(ctx=ctx)) as client:
            run_sequence(engine, client)
    finally:
        ctx.engine.dispose()
