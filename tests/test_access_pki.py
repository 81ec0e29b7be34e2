"""`indikera certs test-pki`: a SITHS-like chain whose function certificates carry serialNumber=<HSA-id>."""

from __future__ import annotations

import ssl
import stat
import subprocess

from cryptography import x509
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from indikera.cli import app as cli_app

runner = CliRunner()


def test_test_pki_writes_a_chain_that_openssl_verifies(tmp_path):
    out = tmp_path / "pki"
    result = runner.invoke(cli_app, ["certs", "test-pki", str(out), "--cert", "vis=se2321000016-vis1", "--server-name", "indikera.local"])
    assert result.exit_code == 0, result.output
    assert "vis" in result.stdout and "SE2321000016-VIS1" in result.stdout
    for stem in ("root-ca", "function-ca", "server", "consumer", "platform", "admin", "vis"):
        assert (out / f"{stem}.pem").is_file()
        assert stat.S_IMODE((out / f"{stem}.key").stat().st_mode) == 0o600
    leaf = x509.load_pem_x509_certificate((out / "vis.pem").read_bytes())
    assert leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "SE2321000016-VIS1"
    assert "Function CA" in leaf.issuer.rfc4514_string()
    server = x509.load_pem_x509_certificate((out / "server.pem").read_bytes())
    assert "indikera.local" in server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(out / "client-ca.pem"), "-purpose", "sslclient", str(out / "vis.pem")], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stderr
    ctx = ssl.create_default_context(cafile=str(out / "client-ca.pem"))
    ctx.load_cert_chain(str(out / "consumer.pem"), str(out / "consumer.key"))  # the pair loads as a client identity
    assert "ENDAST" in (out / "README.txt").read_text(encoding="utf-8")


def test_test_pki_never_overwrites_keys_silently(tmp_path):
    assert runner.invoke(cli_app, ["certs", "test-pki", str(tmp_path)]).exit_code == 0
    before = (tmp_path / "root-ca.key").read_bytes()
    again = runner.invoke(cli_app, ["certs", "test-pki", str(tmp_path)])
    assert again.exit_code == 1 and "--force" in again.output
    assert (tmp_path / "root-ca.key").read_bytes() == before
    assert runner.invoke(cli_app, ["certs", "test-pki", str(tmp_path), "--force"]).exit_code == 0
    assert (tmp_path / "root-ca.key").read_bytes() != before


def test_test_pki_refuses_a_malformed_certificate_request(tmp_path):
    for bad in ["vis", "vis=", "v is=SE1-A", "vis=not an hsa id"]:
        result = runner.invoke(cli_app, ["certs", "test-pki", str(tmp_path / "x"), "--cert", bad])
        assert result.exit_code == 2, bad
        assert "NAMN=HSA-ID" in result.output
