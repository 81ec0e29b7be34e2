"""Real TLS handshakes against `indikera serve`'s TLS setup: who gets in, and who the app thinks they are."""

from __future__ import annotations

import ssl
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indikera.access.certs import client_cert_header
from indikera.cli import app as cli_app
from indikera.server import TLSOptions, TLSSetupError, ssl_context
from indikera.store import db as store_db

from .support import soap_client as sc
from .support.access import CONSUMER, PLATFORM, Refused, SeedMeasurement, app_for, seed_registry, client_context, make_access_pki, raw_request, tls_server


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_access_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server(pki, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tls.db'}"
    store_db.upgrade(url)
    app, ctx = app_for(url, trusted_platform_hsa_ids=(PLATFORM,))
    seed_registry(  # one restricted indicator; CONSUMER and the VIS consumer behind NTjP have agreements
        ctx.engine, indicator_ids=["20001"], batch_statuses=["approved"], rules=[("20001", None, None, "restricted")],
        rows=[SeedMeasurement("20001", "2024-01-01", "2024-12-31", 0, 30, 60)],
        agreement_rows=[{"consumer_hsa_id": h, "measure_id": "20001", "valid_from": date(2020, 1, 1), "valid_to": None, "ended": False}
                        for h in (CONSUMER, "SE2321000016-VIS1")],
    )
    with tls_server(app, pki) as base:
        yield base
    ctx.engine.dispose()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_valid_consumer_certificate_is_the_consumer(server, pki, version):
    ctx = client_context(pki, "consumer")
    ctx.minimum_version = ctx.maximum_version = version
    status, who = raw_request(server, ctx)
    assert status == 200
    assert who["consumer_hsa_id"] == CONSUMER and who["channel"] == "direct" and who["platform_id"] is None


def test_trusted_platform_speaks_for_the_original_consumer(server, pki):
    status, who = raw_request(server, client_context(pki, "platform"), headers={"x-rivta-original-serviceconsumer-hsaid": "se2321000016-vis1"})
    assert status == 200
    assert who == {**who, "consumer_hsa_id": "SE2321000016-VIS1", "channel": "platform", "platform_id": PLATFORM}


def test_platform_header_that_is_not_an_hsa_id_gives_anonymous(server, pki):
    status, who = raw_request(server, client_context(pki, "platform"), headers={"x-rivta-original-serviceconsumer-hsaid": "x' OR 1=1 --"})
    assert (status, who["consumer_hsa_id"]) == (200, None)
    assert "malformed" in who["reason"]


def test_original_consumer_header_from_untrusted_peer_is_ignored(server, pki):
    status, who = raw_request(server, client_context(pki, "consumer"), headers={"x-rivta-original-serviceconsumer-hsaid": "SE2321000016-VIS1"})
    assert status == 200
    assert who["consumer_hsa_id"] == CONSUMER and who["channel"] == "direct"
    assert "ignored" in who["reason"]


def test_client_cert_header_over_direct_tls_is_ignored(server, pki):
    """Only a configured proxy may send Client-Cert; here the TLS certificate decides."""
    header = client_cert_header(pki.pki.certs["platform"].der)
    status, who = raw_request(server, client_context(pki, "consumer"), headers={"Client-Cert": header, "x-rivta-original-serviceconsumer-hsaid": "SE1-X"})
    assert (status, who["consumer_hsa_id"], who["channel"]) == (200, CONSUMER, "direct")


def test_certificate_without_serial_number_is_anonymous(server, pki):
    status, who = raw_request(server, client_context(pki, "no-serial"))
    assert status == 200
    assert who["consumer_hsa_id"] is None and not who["identified"]
    assert "serialNumber" in who["reason"]


@pytest.mark.parametrize(
    "stem, headers, expected",
    [
        ("consumer", {}, 1),  # direct SITHS consumer with an agreement
        ("platform", {"x-rivta-original-serviceconsumer-hsaid": "SE2321000016-VIS1"}, 1),  # VIS behind NTjP
        ("platform", {"x-rivta-original-serviceconsumer-hsaid": "SE2321000016-NONE"}, 0),  # behind NTjP, no agreement
        ("no-serial", {"x-rivta-original-serviceconsumer-hsaid": "SE2321000016-VIS1"}, 0),  # anonymous; header ignored
    ],
)
def test_restricted_results_over_soap_follow_the_tls_identity(server, pki, stem, headers, expected):
    import httpx

    with httpx.Client(verify=client_context(pki, stem), base_url=server.replace("127.0.0.1", "localhost")) as client:
        response = client.post(sc.PATH, content=sc.request(("20001",), "20240101", "20241231"), headers={**sc.HEADERS, **headers})
    assert len(sc.answer(response).measurements) == expected


def _refused(server: str, ctx: ssl.SSLContext) -> None:
    with pytest.raises(Refused):
        raw_request(server, ctx)


def test_certificate_from_another_ca_is_refused(server, pki):
    """Same HSA-id as the good consumer, but issued by a CA we do not trust."""
    _refused(server, client_context(pki, "wrong-ca"))


def test_expired_certificate_is_refused(server, pki):
    _refused(server, client_context(pki, "expired"))


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_no_client_certificate_is_refused(server, pki, version):
    ctx = client_context(pki, None)
    ctx.minimum_version = ctx.maximum_version = version
    _refused(server, ctx)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_older_than_12_is_refused(server, pki):
    ctx = client_context(pki, "consumer")
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer TLS 1.1, so the refusal is the server's
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    _refused(server, ctx)


def test_identity_holds_for_every_request_on_a_kept_alive_connection(server, pki):
    import httpx

    with httpx.Client(verify=client_context(pki, "consumer"), base_url=server.replace("127.0.0.1", "localhost")) as client:
        answers = [client.get("/access/whoami").json()["consumer_hsa_id"] for _ in range(3)]
    assert answers == [CONSUMER] * 3


def test_unusable_tls_files_are_reported_before_serving(tmp_path: Path, pki):
    with pytest.raises(TLSSetupError, match="servercertifikatet"):
        ssl_context(TLSOptions(tmp_path / "missing.pem", tmp_path / "missing.key"))
    with pytest.raises(TLSSetupError, match="klient-CA"):
        ssl_context(TLSOptions(pki.pki.server_cert, pki.pki.server_key, tmp_path / "nope.pem"))
    ctx = ssl_context(TLSOptions(pki.pki.server_cert, pki.pki.server_key, pki.pki.client_ca))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.minimum_version == ssl.TLSVersion.TLSv1_2


def test_serve_refuses_a_missing_certificate_with_exit_2(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(cli_app, ["serve", "--db", db, "--tls-cert", str(tmp_path / "x.pem"), "--tls-key", str(tmp_path / "x.key")])
    assert result.exit_code == 2
    assert "servercertifikatet" in result.output
