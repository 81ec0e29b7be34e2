"""Benchmark: what the local VP stand-in adds to a call (mTLS on both hops, as NTjP).

    .venv/bin/python bench/bench_platform.py [--runs 30]

For the same producer and the same request, in the same run:
  * the FLOOR: the consumer calls the producer directly over mTLS (median of ``--runs``);
  * via the stand-in: consumer → `indikera platform` → producer (median), and its ratio to the floor;
  * the stand-in's pipeline alone on a call that faults before forwarding (VP004), per call.
The producer is a canned-answer ASGI double on uvicorn, so the numbers are the platform's own cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from indikera.platform import standin  # noqa: E402
from indikera.platform.settings import PlatformSettings  # noqa: E402
from indikera.platform.tak import export_document  # noqa: E402
from tests.support.connection_kit import NS, Capture, SithsTestCA, client_context, envelope, mtls_uvicorn_kwargs  # noqa: E402
from tests.support.server import running  # noqa: E402


def timed(client: httpx.Client, url: str, body: bytes, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.post(url, content=body, headers={"content-type": "text/xml"})
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code in (200, 500), r.text
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    ca = SithsTestCA(tmp / "pki")
    producer, consumer = ca.issue("producer", "SE-P", cn="localhost"), ca.issue("consumer", "CONS")
    platform_client, platform_server = ca.issue("vp", "VP"), ca.issue("vp-server", "VP", cn="localhost")
    with running(Capture(), **mtls_uvicorn_kwargs(producer, ca)) as purl:
        tak = tmp / "tak.json"
        tak.write_text(json.dumps(export_document(
            [{"logiskAdress": "SE1", "tjanstekontrakt": NS, "adress": purl + "/x", "rivtaprofil": "RIVTABP21", "tjanstekomponent": "P"}],
            [{"logiskAdress": "SE1", "tjanstekontrakt": NS, "tjanstekonsument": "CONS"}])))
        s = PlatformSettings(tak_file=tak, port=0, tls_cert=platform_server.cert, tls_key=platform_server.key, client_ca=ca.ca_file,
                             producer_cert=platform_client.cert, producer_key=platform_client.key, producer_ca=ca.ca_file)
        with standin.running(s) as (vp, _), httpx.Client(verify=client_context(ca, consumer)) as c:
            body = envelope("SE1")
            timed(c, purl + "/x", body, 3), timed(c, vp + "/vp", body, 3)  # warm up
            floor = statistics.median(timed(c, purl + "/x", body, args.runs))
            via = statistics.median(timed(c, vp + "/vp", body, args.runs))
            fault = statistics.median(timed(c, vp + "/vp", envelope("SE-NOWHERE"), args.runs))
    print(f"floor (direct mTLS call)        median {floor:7.2f} ms")
    print(f"via the stand-in (mTLS × 2)     median {via:7.2f} ms   ratio {via / floor:5.2f}× floor")
    print(f"stand-in alone, VP004 fault     median {fault:7.2f} ms   ratio {fault / floor:5.2f}× floor")


if __name__ == "__main__":
    main()
