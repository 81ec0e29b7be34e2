"""Revocation on direct mutual TLS (``serve --crl``): refused in the handshake, and a changed list applies
to the next handshake without a restart (issue #14)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from typer.testing import CliRunner

from indikera.access import crl as crl_mod
from indikera.cli import app as cli_app
from indikera.server import TLSOptions, TLSSetupError, ssl_context, uvicorn_options
from indikera.store import db as store_db

from .support.access import CONSUMER, PLATFORM, Refused, app_for, client_context, make_access_pki, raw_request
from .support.server import running


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_access_pki(tmp_path_factory.mktemp("crl-pki"))


def write_crl(path: Path, pki, revoked: list[str], *, age: timedelta = timedelta(0), valid: timedelta = timedelta(days=1)) -> None:
    """A CRL from the test function CA revoking the certificates named by stem; ``age`` moves lastUpdate back."""
    ca = pki.pki.ca
    now = datetime.now(timezone.utc) - age
    builder = x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject).last_update(now).next_update(now + valid)
    for stem in revoked:
        serial = pki.pki.certs[stem].cert.serial_number
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build())
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, path)  # as an operator's fetch script should: never a half-written list


@pytest.fixture
def server(pki, tmp_path, monkeypatch):
    monkeypatch.setattr(crl_mod, "CHECK_EVERY", 0.2)
    url = f"sqlite:///{tmp_path / 'crl.db'}"
    store_db.upgrade(url)
    crl_path = tmp_path / "crl.pem"
    write_crl(crl_path, pki, [], age=timedelta(minutes=10))
    app, ctx = app_for(url, trusted_platform_hsa_ids=(PLATFORM,))
    opts = uvicorn_options(TLSOptions(pki.pki.server_cert, pki.pki.server_key, pki.pki.client_ca, crl_path))
    with running(app, **opts) as base:
        yield base, crl_path
    ctx.engine.dispose()


def _who(base: str, pki, stem: str) -> str | None:
    return raw_request(base, client_context(pki, stem))[1]["consumer_hsa_id"]


def test_a_revoked_certificate_is_refused_after_the_list_changes_without_a_restart(server, pki):
    base, crl_path = server
    assert _who(base, pki, "consumer") == CONSUMER
    write_crl(crl_path, pki, ["consumer"], age=timedelta(minutes=5))
    time.sleep(0.3)
    _who(base, pki, "platform")  # the handshake that notices the new file
    with pytest.raises(Refused):
        _who(base, pki, "consumer")
    assert _who(base, pki, "platform") == PLATFORM  # others unaffected
    write_crl(crl_path, pki, [], age=timedelta(minutes=1))  # revocation lifted by a newer list
    time.sleep(0.3)
    _who(base, pki, "platform")
    assert _who(base, pki, "consumer") == CONSUMER


def test_an_unreadable_list_on_reload_keeps_the_previous_one(server, pki, caplog):
    base, crl_path = server
    write_crl(crl_path, pki, ["consumer"], age=timedelta(minutes=5))
    time.sleep(0.3)
    _who(base, pki, "platform")
    crl_path.write_bytes(b"-----BEGIN X509 CRL-----\nbroken\n-----END X509 CRL-----\n")
    time.sleep(0.3)
    assert _who(base, pki, "platform") == PLATFORM
    with pytest.raises(Refused):
        _who(base, pki, "consumer")
    assert any("not reloaded" in r.getMessage() for r in caplog.records)


def test_bad_crl_setups_are_reported_before_serving(pki, tmp_path):
    with pytest.raises(TLSSetupError, match="spärrlista"):
        (tmp_path / "empty.pem").write_text("nothing here")
        ssl_context(TLSOptions(pki.pki.server_cert, pki.pki.server_key, pki.pki.client_ca, tmp_path / "empty.pem"))
    with pytest.raises(TLSSetupError, match="--client-ca"):
        ssl_context(TLSOptions(pki.pki.server_cert, pki.pki.server_key, None, tmp_path / "empty.pem"))
    result = CliRunner().invoke(cli_app, ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", "--tls-cert", str(pki.pki.server_cert),
                                          "--tls-key", str(pki.pki.server_key), "--crl", str(tmp_path / "empty.pem")])
    assert result.exit_code == 2 and "--client-ca" in result.output
