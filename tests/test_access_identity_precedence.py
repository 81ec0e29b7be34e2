"""Identity precedence over real sockets (issue #14, defect 1): the connection's own certificate always wins.

The matrix: connection (direct TLS with a consumer or platform certificate, or plain HTTP without one) ×
``Client-Cert`` header (none, the admin's, the platform's) × original-consumer header (none, set) × the
server trusting the caller's address as a proxy or not. Every cell is checked against a small oracle of the
documented rule, and the escalation from the issue (a consumer sending the admin's public certificate as
``Client-Cert`` to a mutual-TLS server whose ``trusted_proxies`` covers it) is tried against the admin API.
"""

from __future__ import annotations

import itertools

import httpx
import pytest
from typer.testing import CliRunner

from indikera.access.certs import client_cert_header
from indikera.access.tls_protocol import TLSPeerProtocol
from indikera.cli import app as cli_app
from indikera.store import db as store_db

from .support.access import ADMIN, CONSUMER, PLATFORM, SeedMeasurement, app_for, client_context, make_access_pki, seed_registry, tls_server
from .support.server import running

VIS = "SE2321000016-VIS1"
HSA = {"consumer": CONSUMER, "platform": PLATFORM, "admin": ADMIN}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_access_pki(tmp_path_factory.mktemp("precedence-pki"))


@pytest.fixture(scope="module")
def servers(pki, tmp_path_factory):
    """Four servers on one database: {TLS with client CA, plain HTTP} × {127.0.0.1 trusted as proxy, not}."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'precedence.db'}"
    store_db.upgrade(url)
    contexts, out = [], {}
    app0, ctx0 = app_for(url)
    contexts.append(ctx0)
    seed_registry(ctx0.engine, indicator_ids=["20001"], batch_statuses=["approved"], rules=[("20001", None, None, "restricted")],
                  rows=[SeedMeasurement("20001", "2024-01-01", "2024-12-31", 0, 30, 60)], agreement_rows=[])
    stack = []
    try:
        for tls, trusted in itertools.product((True, False), (True, False)):
            app, ctx = app_for(url, trusted_platform_hsa_ids=(PLATFORM,), admin_hsa_ids=(ADMIN,),
                               trusted_proxies=("127.0.0.1",) if trusted else ())
            contexts.append(ctx)
            cm = tls_server(app, pki) if tls else running(app, http=TLSPeerProtocol)
            out[(tls, trusted)] = cm.__enter__()
            stack.append(cm)
        yield out
    finally:
        for cm in reversed(stack):
            cm.__exit__(None, None, None)
        for ctx in contexts:
            ctx.engine.dispose()


def _client(pki, base: str, stem: str | None) -> httpx.Client:
    if base.startswith("https"):
        return httpx.Client(verify=client_context(pki, stem), base_url=base.replace("127.0.0.1", "localhost"), timeout=10)
    return httpx.Client(base_url=base, timeout=10)


def expected(conn_cert: str | None, header_cert: str | None, original: str | None, trusted: bool) -> tuple[str | None, str]:
    """The documented rule, written independently of ``access.resolve``: (consumer, channel)."""
    if conn_cert is not None:
        cert, channel = conn_cert, "direct"
    elif header_cert is not None and trusted:
        cert, channel = header_cert, "proxy"
    else:
        return None, "anonymous"
    if cert == "platform":
        return (original or PLATFORM), "platform"
    return HSA[cert], channel


CASES = [
    (tls, trusted, conn, header, original)
    for tls, trusted in itertools.product((True, False), (True, False))
    for conn in (("consumer", "platform") if tls else (None,))
    for header in (None, "admin", "platform")
    for original in (None, VIS)
]


@pytest.mark.parametrize("tls, trusted, conn, header, original", CASES,
                         ids=[f"{'tls' if t else 'http'}-{'trusted' if tr else 'untrusted'}-conn={c}-hdr={h}-orig={'set' if o else 'no'}"
                              for t, tr, c, h, o in CASES])
def test_identity_precedence_matrix(servers, pki, tls, trusted, conn, header, original):
    headers = {}
    if header is not None:
        headers["Client-Cert"] = client_cert_header(pki.pki.certs[header].der)
    if original is not None:
        headers["x-rivta-original-serviceconsumer-hsaid"] = original
    with _client(pki, servers[(tls, trusted)], conn) as client:
        who = client.get("/access/whoami", headers=headers).json()
    assert (who["consumer_hsa_id"], who["channel"]) == expected(conn, header, original, trusted), who["reason"]


def test_a_consumer_cannot_become_admin_by_sending_the_admins_certificate(servers, pki):
    """The issue's escalation: mutual TLS, trusted_proxies covering the caller, admin's public certificate as header."""
    admin_header = {"Client-Cert": client_cert_header(pki.pki.certs["admin"].der)}
    body = {"level": "open", "reason": "eskalering"}
    with _client(pki, servers[(True, True)], "consumer") as client:
        who = client.get("/access/whoami", headers=admin_header).json()
        refused = client.put("/admin/api/v1/indicators/20001/publication", json=body, headers=admin_header)
    assert who["consumer_hsa_id"] == CONSUMER and "Client-Cert header ignored" in who["reason"]
    assert refused.status_code == 401, refused.text
    # The same header from a trusted proxy on a connection without a certificate is the proxy's job: it works.
    with _client(pki, servers[(False, True)], None) as client:
        allowed = client.put("/admin/api/v1/indicators/20001/publication", json={**body, "level": "unpublished"}, headers=admin_header)
    assert allowed.status_code == 200, allowed.text


def test_serve_refuses_client_ca_together_with_trusted_proxies(tmp_path, pki):
    db = f"sqlite:///{tmp_path / 's.db'}"
    args = ["serve", "--db", db, "--port", "1", "--tls-cert", str(pki.pki.server_cert), "--tls-key", str(pki.pki.server_key),
            "--client-ca", str(pki.pki.client_ca)]
    result = CliRunner().invoke(cli_app, args, env={"INDIKERA_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert result.exit_code == 2, result.output
    assert "trusted_proxies" in result.output and "--client-ca" in result.output
