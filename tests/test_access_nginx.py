"""A real nginx (Debian package) with the shipped deploy/nginx/indikera.conf in front of the app.

nginx ends mutual TLS and forwards the verified certificate as RFC 9440 ``Client-Cert``; the app trusts
that header only from the proxy address. The config file under test is the production file, with only
its ``# site`` values (ports, paths) replaced.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from indikera.access.certs import client_cert_header
from indikera.access.pki import new_function_cert
from indikera.access.tls_protocol import TLSPeerProtocol
from indikera.store import db as store_db

from .support.access import CONSUMER, PLATFORM, app_for, client_context, make_access_pki, raw_request
from .support.server import free_port, running

pytestmark = pytest.mark.slow  # starts a real nginx

CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "indikera.conf"


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI requires nginx (Debian package nginx-light; .ci/run installs it)", pytrace=False)
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    return found


def render(conf: str, *, listen: int, upstream: int, pki_dir: Path) -> str:
    """The production file with its site values replaced; each must be found exactly once."""
    replacements = {
        "listen 443 ssl;": f"listen 127.0.0.1:{listen} ssl;",
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream};",
        "ssl_certificate /etc/indikera/tls/server.pem;": f"ssl_certificate {pki_dir / 'server.pem'};",
        "ssl_certificate_key /etc/indikera/tls/server.key;": f"ssl_certificate_key {pki_dir / 'server.key'};",
        "ssl_client_certificate /etc/indikera/tls/siths-function-ca.pem;": f"ssl_client_certificate {pki_dir / 'client-ca.pem'};",
    }
    for old, new in replacements.items():
        assert conf.count(old) == 1, f"deploy/nginx/indikera.conf no longer contains {old!r} once"
        conf = conf.replace(old, new)
    return conf


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"nginx exited with {proc.returncode}:\n{log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port}:\n{log.read_text() if log.exists() else ''}")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_access_pki(tmp_path_factory.mktemp("nginx-pki"))


@pytest.fixture(scope="module")
def proxied(pki, tmp_path_factory):
    """(nginx https URL, app http URL): the app trusts 127.0.0.1 as its proxy."""
    nginx = _nginx()
    work = tmp_path_factory.mktemp("nginx")
    db = f"sqlite:///{work / 'app.db'}"
    store_db.upgrade(db)
    app, ctx = app_for(db, trusted_proxies=("127.0.0.1",), trusted_platform_hsa_ids=(PLATFORM,))
    with running(app, http=TLSPeerProtocol) as app_url:
        listen = free_port()
        (work / "indikera.conf").write_text(render(CONF.read_text(), listen=listen, upstream=int(app_url.rsplit(":", 1)[1]), pki_dir=pki.dir))
        temp = "\n".join(f"    {kind}_temp_path {work / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (work / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {work / 'nginx.pid'};\nerror_log {work / 'error.log'} info;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n    access_log {work / 'access.log'};\n{temp}\n    include {work / 'indikera.conf'};\n}}\n"
        )
        log = work / "error.log"
        test = subprocess.run([nginx, "-t", "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(log)], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        proc = subprocess.Popen([nginx, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for_port(listen, proc, log)
            yield f"https://127.0.0.1:{listen}", app_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    ctx.engine.dispose()


def test_consumer_certificate_reaches_the_app_through_nginx(proxied, pki):
    status, who = raw_request(proxied[0], client_context(pki, "consumer"))
    assert status == 200
    assert (who["consumer_hsa_id"], who["channel"]) == (CONSUMER, "proxy")


def test_platform_through_nginx_speaks_for_the_original_consumer(proxied, pki):
    status, who = raw_request(proxied[0], client_context(pki, "platform"), headers={"x-rivta-original-serviceconsumer-hsaid": "SE2321000016-VIS1"})
    assert status == 200
    assert (who["consumer_hsa_id"], who["channel"], who["platform_id"]) == ("SE2321000016-VIS1", "platform", PLATFORM)


def test_a_forged_client_cert_header_is_replaced_by_nginx(proxied, pki):
    forged = client_cert_header(pki.pki.certs["platform"].der)
    status, who = raw_request(
        proxied[0], client_context(pki, "consumer"), headers={"Client-Cert": forged, "x-rivta-original-serviceconsumer-hsaid": "SE2321000016-VIS1"}
    )
    assert status == 200
    assert (who["consumer_hsa_id"], who["channel"]) == (CONSUMER, "proxy")


def test_rsa_certificate_of_siths_size_survives_the_pem_to_der_maps(proxied, pki, tmp_path):
    """A 4096-bit RSA certificate (larger than SITHS's 2048-bit ones) gives a ~30-line PEM."""
    big = new_function_cert(pki.pki.ca, hsa_id="TSTRSA4096-0001", common_name="RSA 4096 " + "x" * 40, key=rsa.generate_private_key(65537, 4096))
    big.write(pki.dir, "rsa4096", with_chain=True)
    status, who = raw_request(proxied[0], client_context(pki, "rsa4096"))
    assert (status, who["consumer_hsa_id"], who["channel"]) == (200, "TSTRSA4096-0001", "proxy")


def test_certificate_without_serial_number_is_anonymous_through_nginx(proxied, pki):
    status, who = raw_request(proxied[0], client_context(pki, "no-serial"))
    assert (status, who["consumer_hsa_id"]) == (200, None)
    assert "serialNumber" in who["reason"]


@pytest.mark.parametrize("stem", [None, "expired", "wrong-ca"])
def test_nginx_refuses_without_a_valid_client_certificate(proxied, pki, stem):
    """nginx answers 400 itself (ssl_verify_client on); the request never reaches the app."""
    status, body = raw_request(proxied[0], client_context(pki, stem))
    assert status == 400
    assert "consumer_hsa_id" not in body


def test_nginx_refuses_tls_11(proxied, pki):
    ctx = client_context(pki, "consumer")
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    from .support.access import Refused

    with pytest.raises(Refused):
        raw_request(proxied[0], ctx)


def test_client_cert_header_from_an_untrusted_address_is_ignored(pki, tmp_path):
    """The same app configured with another proxy address ignores the header from 127.0.0.1."""
    db = f"sqlite:///{tmp_path / 'u.db'}"
    store_db.upgrade(db)
    app, ctx = app_for(db, trusted_proxies=("10.9.8.7",))
    import httpx

    with running(app, http=TLSPeerProtocol) as url:
        who = httpx.get(f"{url}/access/whoami", headers={"Client-Cert": client_cert_header(pki.pki.certs["consumer"].der)}).json()
    ctx.engine.dispose()
    assert who["consumer_hsa_id"] is None and "not a trusted proxy" in who["reason"]


def test_open_data_through_nginx_links_to_nginx_and_is_gzipped(proxied, pki):
    """Issue #15: with base_url empty the links follow the forwarded host and scheme (nginx is a trusted
    proxy), and nginx compresses the open data itself (the app is asked without Accept-Encoding)."""
    import httpx

    port = proxied[0].rsplit(":", 1)[1]
    status, index = raw_request(proxied[0], client_context(pki, "consumer"), path="/api/v1/")
    assert status == 200 and index["links"]["results"] == f"https://localhost:{port}/api/v1/results"
    with httpx.Client(verify=client_context(pki, "consumer"), timeout=10) as client:
        with client.stream("GET", f"https://localhost:{port}/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"}) as r:
            assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
            assert "accept-encoding" in r.headers["vary"].lower()
            wire = b"".join(r.iter_raw())
        plain = client.get(f"https://localhost:{port}/api/v1/openapi.json", headers={"Accept-Encoding": "identity"})
        assert plain.headers.get("content-encoding") is None and len(wire) * 3 < len(plain.content)
