"""Benchmark the GetQualityIndicators v2 producer end to end over HTTP.

    .venv/bin/python bench/bench_soap.py [--db postgresql+psycopg://…] [--runs 7] [--seconds 10]

* answers of 100, 1 500 and 9 000 measurements: median of ``--runs`` HTTP calls against a real uvicorn
  server (separate process), each as a ratio to the FLOOR measured in the same run: building the very
  same answer document with bare lxml (``etree.SubElement`` + ``tostring``) from data already in memory;
* the checksum-only answer over the same 9 000 measurements;
* throughput and p99 latency with 32 concurrent clients (1 500-measurement answers, then checksum-only).

A 9 000-measurement answer with full organisation chains is ~15.3 MB, just above the default 15 MB
limit (``soap_max_response_bytes``), so the benchmark server raises the limit to 64 MB.

Goals (issue 3): ≤ 2× the floor (stretch 1.3×); checksum-only ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from lxml import etree
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from indikera.domain import oids  # noqa: E402
from indikera.domain.indicators import Indicator, UnitType  # noqa: E402
from indikera.domain.measurements import ConfidenceInterval, Measurement, Missing, Proportion, ReasonCode, SourceSystem  # noqa: E402
from indikera.domain.periods import Period  # noqa: E402
from indikera.domain.statistics import wilson_interval  # noqa: E402
from indikera.store import db as store_db  # noqa: E402
from indikera.store.catalog_tables import publication_rules  # noqa: E402
from indikera.store.repositories import (  # noqa: E402
    OrganisationRepository,
    create_batch,
    ensure_source_system,
    insert_measurements,
    measurement_row,
    upsert_indicator,
)
from indikera.store.tables import batches  # noqa: E402

SIZES = (100, 1500, 9000)
ADDRESS = "SE2321000000-INDIKERA"
PATH = "/qualityreporting/GetQualityIndicators/2/rivtabp21"
HEADERS = {"content-type": "text/xml; charset=UTF-8"}
SOURCE = SourceSystem(oids.SOURCE_SYSTEM_HSA_ROOT, "SE2321000000-BENCH", "Benchregistret")


def months(n: int) -> list[Period]:
    out = []
    for k in range(n):
        y, m = 2000 + k // 12, k % 12 + 1
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        out.append(Period(date(y, m, 1), date.fromordinal(nxt.toordinal() - 1)))
    return out


def build(url: str) -> None:
    """One indicator per size: ``size`` measurements over the demo's 362 organisations and monthly periods."""
    import random

    from indikera.demo import build_organisations

    store_db.upgrade(url)
    engine = store_db.make_engine(url)
    rng = random.Random(7)
    land, lans, hospitals, units = build_organisations(random.Random(1))
    orgs = [land, *lans.values(), *hospitals, *(u.org for u in units)]
    with store_db.writer(engine).begin() as conn:
        repo = OrganisationRepository(conn)
        source = ensure_source_system(conn, SOURCE)
        batch = create_batch(conn, registry="SE2321000000-BENCH", file_name="bench", sha256="0" * 64, fmt="bench", actor="bench")
        for size in SIZES:
            ind = upsert_indicator(conn, Indicator(f"B{size}", 1, f"Bench {size}", UnitType.ANDEL))
            conn.execute(insert(publication_rules).values(indicator_id=ind, level="open", changed_by="bench", changed_at=datetime.now(UTC), reason="bench"))
            rows = []
            for k, period in enumerate(months(math.ceil(size / len(orgs)))):
                for org in orgs[: size - k * len(orgs)]:
                    den = rng.randint(0, 400)
                    num = rng.randint(0, den)
                    if den < 5:
                        result, ci = Missing(ReasonCode.MSK if den else ReasonCode.INV), None
                    else:
                        result, ci = Proportion(num, den), ConfidenceInterval(*wilson_interval(num, den))
                    m = Measurement(f"B{size}", 1, period, org, result, SOURCE, ci=ci, coverage=round(rng.uniform(0.6, 1), 3) if ci else None)
                    rows.append(measurement_row(m, indicator_id=ind, organisation_id=repo.ensure(org), source_system_id=source, batch_id=batch))
            insert_measurements(conn, rows)
        conn.execute(batches.update().values(status="approved", approved_by="bench"))
    engine.dispose()


def request(size: int, include: bool) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:itr="urn:riv:itintegration:registry:1" xmlns:g="urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2" '
        'xmlns:q="urn:riv:followup:groupoutcomes:qualityreporting:2">'
        f"<s:Header><itr:LogicalAddress>{ADDRESS}</itr:LogicalAddress></s:Header><s:Body><g:GetQualityIndicators>"
        f"<g:measureId><q:root>{oids.MEASURE_ID_ROOT}</q:root><q:extension>B{size}</q:extension></g:measureId>"
        "<g:reportingPeriod><q:start>19990101</q:start><q:end>20251231</q:end></g:reportingPeriod>"
        f"<g:includeMeasurements>{'true' if include else 'false'}</g:includeMeasurements></g:GetQualityIndicators></s:Body></s:Envelope>"
    ).encode()


# ---------------------------------------------------------------- the floor: bare lxml, same document


def _tree_data(el):
    return (el.tag, el.text, el.nsmap if el.getparent() is None else None, [_tree_data(c) for c in el])


def lxml_floor(data) -> bytes:
    """Build the answer document from in-memory data with lxml alone, as a floor for the producer."""
    tag, text, nsmap, children = data
    root = etree.Element(tag, nsmap=nsmap)
    root.text = text
    stack = [(root, children)]
    while stack:
        parent, kids = stack.pop()
        for ktag, ktext, _, kkids in kids:
            child = etree.SubElement(parent, ktag)
            if ktext is not None:
                child.text = ktext
            if kkids:
                stack.append((child, kkids))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# ---------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen:
    code = (
        "import logging, uvicorn;"
        "from indikera.app import create_app;from indikera.config import Settings;from indikera.context import AppContext;"
        f"ctx=AppContext.from_settings(Settings(database_url={url!r}, soap_max_response_bytes=64_000_000));"
        f"uvicorn.run(create_app(ctx=ctx), host='127.0.0.1', port={port}, log_level='warning', access_log=False)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}{PATH}?wsdl", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


async def load(base: str, body: bytes, clients: int, seconds: float) -> tuple[float, float, float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            t = time.perf_counter()
            r = await client.post(PATH, content=body, headers=HEADERS)
            assert r.status_code == 200, r.text[:300]
            latencies.append((time.perf_counter() - t) * 1000)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies), p99


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--clients", type=int, default=32)
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    t = time.perf_counter()
    build(url)
    print(f"data: {sum(SIZES)} measurements in {time.perf_counter() - t:.1f} s ({url.split('://')[0]})")
    port = free_port()
    proc = start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            print(f"{'answer':<22}{'HTTP median':>13}{'lxml floor':>13}{'ratio':>8}{'bytes':>12}")
            for size in SIZES:
                body = request(size, True)
                response = http.post(PATH, content=body, headers=HEADERS)
                assert response.status_code == 200, response.text[:500]
                doc = etree.fromstring(response.content)
                count = len(doc.findall(".//{urn:riv:followup:groupoutcomes:qualityreporting:2}measurement"))
                assert count == size, (count, size)
                data = _tree_data(doc)
                floor = median_ms(lambda: lxml_floor(data), args.runs)
                e2e = median_ms(lambda: http.post(PATH, content=body, headers=HEADERS), args.runs)
                print(f"{size:>6} measurements   {e2e:>10.1f} ms{floor:>10.1f} ms{e2e / floor:>8.2f}{len(response.content):>12}")
            only = request(9000, False)
            r = http.post(PATH, content=only, headers=HEADERS)
            assert r.status_code == 200 and b"measurement>" not in r.content.replace(b"measurementChecksum>", b"")
            e2e = median_ms(lambda: http.post(PATH, content=only, headers=HEADERS), max(args.runs, 21))
            print(f"checksum-only, 9000    {e2e:>10.2f} ms  (goal ≤ 5 ms)")
        for label, body in (("1500-measurement answers", request(1500, True)), ("checksum-only (9000)", request(9000, False))):
            rps, med, p99 = asyncio.run(load(base, body, args.clients, args.seconds))
            print(f"{args.clients} clients, {label}: {rps:.1f} req/s, median {med:.1f} ms, p99 {p99:.1f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        tmp.cleanup()


if __name__ == "__main__":
    main()
