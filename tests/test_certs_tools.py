"""`indikera certs csr` and `indikera certs check`: real keys, real chains (root → function CA → leaf), real TLS."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from indikera.access import pki
from indikera.cli import app as cli_app
from indikera.platform import certs

from .support.connection_kit import Capture, SithsTestCA, mtls_uvicorn_kwargs
from .support.server import free_port, running

HSA = "SE2321000016-INDK"
runner = CliRunner()


def write(issued: pki.Issued, directory: Path, stem: str, *, with_chain: bool = True) -> tuple[Path, Path]:
    cert = directory / f"{stem}.pem"
    pems = [issued.cert] + (issued.chain if with_chain else [])
    cert.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in pems))
    key = directory / f"{stem}.key"
    key.write_bytes(issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert, key


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    root = pki.new_root()
    ca = pki.new_ca(root)
    (d / "root.pem").write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
    other_root = pki.new_root("Another root")
    (d / "other-root.pem").write_bytes(other_root.cert.public_bytes(serialization.Encoding.PEM))
    leaf = pki.new_function_cert(ca, hsa_id=HSA, common_name="indikera", dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    return {"dir": d, "root": root, "ca": ca, "leaf": write(leaf, d, "leaf"), "bundle": d / "root.pem", "other": d / "other-root.pem"}


def levels(findings):
    return {f.check: f.level for f in findings}


# --- csr ---------------------------------------------------------------------------------------------------

def test_csr_has_the_siths_subject_and_a_private_key_only_the_owner_reads(tmp_path):
    key, csr = tmp_path / "k.pem", tmp_path / "r.csr"
    res = runner.invoke(cli_app, ["certs", "csr", "--hsa-id", HSA.lower(), "--cn", "indikera producent", "--org", "Registercentrum",
                                  "--key-out", str(key), "--csr-out", str(csr), "--dns", "indikera.example.se"])
    assert res.exit_code == 0, res.output
    req = x509.load_pem_x509_csr(csr.read_bytes())
    assert req.is_signature_valid
    attrs = {a.oid: a.value for a in req.subject}
    assert attrs == {NameOID.SERIAL_NUMBER: HSA, NameOID.COMMON_NAME: "indikera producent",
                     NameOID.ORGANIZATION_NAME: "Registercentrum", NameOID.COUNTRY_NAME: "SE"}
    assert req.public_key().key_size == 2048  # RSA by default
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    private = serialization.load_pem_private_key(key.read_bytes(), None)
    assert private.public_key().public_numbers() == req.public_key().public_numbers()
    san = req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["indikera.example.se"]


def test_csr_never_overwrites_a_key_silently(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("precious")
    args = ["certs", "csr", "--hsa-id", HSA, "--cn", "x", "--org", "y", "--key-out", str(key), "--csr-out", str(tmp_path / "r.csr"), "--ec"]
    res = runner.invoke(cli_app, args)
    assert res.exit_code == 1 and key.read_text() == "precious"
    assert runner.invoke(cli_app, args + ["--force"]).exit_code == 0
    assert b"PRIVATE KEY" in key.read_bytes()


def test_csr_requires_an_hsa_id(tmp_path):
    res = runner.invoke(cli_app, ["certs", "csr", "--hsa-id", " ", "--cn", "x", "--org", "y", "--key-out", str(tmp_path / "k"), "--csr-out", str(tmp_path / "c")])
    assert res.exit_code == 1 and not (tmp_path / "k").exists()


# --- check -------------------------------------------------------------------------------------------------

def test_check_passes_a_good_certificate(chain):
    cert, key = chain["leaf"]
    found = certs.check(cert, key_path=key, ca_bundle=chain["bundle"], hsa_id=HSA.lower())
    assert levels(found) == {"chain": "ok", "expiry": "ok", "hsa-id": "ok", "key": "ok"}
    assert "TEST SITHS e-id Function CA v1 (indikera)" in found[0].text


def test_chain_must_reach_the_bundle(chain):
    cert, _ = chain["leaf"]
    assert levels(certs.check(cert, ca_bundle=chain["other"]))["chain"] == "error"
    bare, _ = write(pki.new_function_cert(chain["ca"], hsa_id=HSA, common_name="x"), chain["dir"], "bare", with_chain=False)
    assert levels(certs.check(bare, ca_bundle=chain["bundle"]))["chain"] == "error"  # intermediate missing
    intermediate_in_bundle = chain["dir"] / "both.pem"
    intermediate_in_bundle.write_bytes(chain["bundle"].read_bytes() + chain["ca"].cert.public_bytes(serialization.Encoding.PEM))
    assert levels(certs.check(bare, ca_bundle=intermediate_in_bundle))["chain"] == "ok"


def test_a_forged_issuer_name_is_not_enough(chain):
    impostor = pki.new_ca(pki.new_root(), common_name="TEST SITHS e-id Function CA v1 (indikera)")
    forged, _ = write(pki.new_function_cert(impostor, hsa_id=HSA, common_name="x"), chain["dir"], "forged", with_chain=False)
    bundle = chain["dir"] / "root-and-real-ca.pem"
    bundle.write_bytes(chain["bundle"].read_bytes() + chain["ca"].cert.public_bytes(serialization.Encoding.PEM))
    assert levels(certs.check(forged, ca_bundle=bundle))["chain"] == "error"


@pytest.mark.parametrize("days_left, level, words", [(90, "ok", "Giltigt"), (45, "warning", "inom 60"), (20, "warning", "inom 30"),
                                                      (5, "error", "beställ ett nytt"), (-1, "error", "gick ut")])
def test_expiry_warnings_at_60_30_7_days(chain, days_left, level, words):
    now = datetime.now(timezone.utc)
    leaf = pki.new_function_cert(chain["ca"], hsa_id=HSA, common_name="x", not_before=now - timedelta(days=400),
                                 not_after=now + timedelta(days=days_left, hours=1))
    f = certs.check_expiry(leaf.cert, now)
    assert (f.level, words in f.text) == (level, True)


def test_hsa_id_and_key_mismatches_are_errors(chain):
    cert, _ = chain["leaf"]
    other = pki.new_function_cert(chain["ca"], hsa_id=None, common_name="no hsa")
    _, other_key = write(other, chain["dir"], "other")
    found = levels(certs.check(cert, key_path=other_key, hsa_id="SE-SOMEONE-ELSE"))
    assert found["hsa-id"] == "error" and found["key"] == "error"
    assert certs.check_hsa_id(other.cert, HSA).level == "error"


def test_tls_handshake_with_a_server_that_requires_the_certificate(chain, tmp_path):
    cert, key = chain["leaf"]
    ca = SithsTestCA(tmp_path / "server-pki")
    server = ca.issue("server", "SE-SERVER", cn="localhost")
    bundle = tmp_path / "trust.pem"
    bundle.write_bytes(ca.ca_file.read_bytes() + chain["bundle"].read_bytes() + chain["ca"].cert.public_bytes(serialization.Encoding.PEM))
    kwargs = {**mtls_uvicorn_kwargs(server, ca), "ssl_ca_certs": str(bundle)}
    with running(Capture(), **kwargs) as url:
        ok = certs.check_tls(url + "/", cert, key, ca.ca_file)
        assert ok.level == "ok" and "TLSv1." in ok.text and "SE-SERVER" in ok.text
    strict = {**mtls_uvicorn_kwargs(server, ca)}  # trusts only its own CA: our certificate is refused
    with running(Capture(), **strict) as url:
        refused = certs.check_tls(url + "/", cert, key, ca.ca_file)
        assert refused.level == "error", refused.text
    assert certs.check_tls(f"https://127.0.0.1:{free_port()}/", cert, key, ca.ca_file).level == "error"
    assert certs.check_tls("http://example.se/", cert, key, None).level == "error"


def test_check_cli_exit_codes_and_json(chain):
    cert, key = chain["leaf"]
    ok = runner.invoke(cli_app, ["certs", "check", str(cert), "--key", str(key), "--ca-bundle", str(chain["bundle"]), "--hsa-id", HSA, "--json"])
    assert ok.exit_code == 0, ok.output
    assert {f["check"]: f["level"] for f in json.loads(ok.stdout)} == {"chain": "ok", "expiry": "ok", "hsa-id": "ok", "key": "ok"}
    bad = runner.invoke(cli_app, ["certs", "check", str(cert), "--hsa-id", "SE-WRONG"])
    assert bad.exit_code == 1 and "SE-WRONG" in bad.output
    garbage = chain["dir"] / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    assert runner.invoke(cli_app, ["certs", "check", str(garbage)]).exit_code == 1
    assert runner.invoke(cli_app, ["certs", "check", str(chain["dir"] / "missing.pem")]).exit_code != 0


# --- the environment's SITHS chain (docs/connection.md, "SITHS CA chain files") -----------------------------------

@pytest.fixture(scope="module")
def siths(tmp_path_factory):
    from indikera.platform.environments import SITHS_PROD, SITHS_TEST

    d = tmp_path_factory.mktemp("siths")
    out = {"dir": d}
    for label, (root_name, ca_name) in (("test", SITHS_TEST), ("prod", SITHS_PROD)):
        root = pki.new_root(root_name)
        ca = pki.new_ca(root, ca_name)
        bundle = d / f"{label}-bundle.pem"  # root + function CA, as the guide says to assemble it
        bundle.write_bytes(b"".join(c.cert.public_bytes(serialization.Encoding.PEM) for c in (root, ca)))
        (d / f"{label}-root-only.pem").write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
        leaf = pki.new_function_cert(ca, hsa_id=HSA, common_name="indikera")
        out[label] = {"bundle": bundle, "root_only": d / f"{label}-root-only.pem", "leaf": write(leaf, d, f"{label}-leaf")}
    return out


def _siths(monkeypatch, tmp_path, cert, bundle, env="sit"):
    monkeypatch.setenv("INDIKERA_CONNECTION_PROFILES", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    res = runner.invoke(cli_app, ["certs", "check", str(cert), "--env", env, "--ca-bundle", str(bundle), "--json"])
    return res.exit_code, [f for f in json.loads(res.stdout) if f["check"] == "siths-ca"] if res.stdout.startswith("[") else res.output


def test_certs_check_env_accepts_the_environments_siths_chain(siths, monkeypatch, tmp_path):
    code, found = _siths(monkeypatch, tmp_path, siths["test"]["leaf"][0], siths["test"]["bundle"])
    assert code == 0 and [f["level"] for f in found] == ["ok"], found
    assert "TEST SITHS e-id Root CA v2 → TEST SITHS e-id Function CA v1" in found[0]["text"]
    code, found = _siths(monkeypatch, tmp_path, siths["prod"]["leaf"][0], siths["prod"]["bundle"], env="production")
    assert code == 0 and [f["level"] for f in found] == ["ok"], found


def test_certs_check_env_refuses_the_other_environments_chain(siths, monkeypatch, tmp_path):
    code, found = _siths(monkeypatch, tmp_path, siths["prod"]["leaf"][0], siths["prod"]["bundle"], env="sit")
    assert code == 1
    texts = " ".join(f["text"] for f in found)
    assert "saknar 'TEST SITHS e-id Root CA v2', 'TEST SITHS e-id Function CA v1'" in texts
    assert "utfärdat av 'SITHS e-id Function CA v1', inte 'TEST SITHS e-id Function CA v1'" in texts


def test_certs_check_env_wants_root_and_function_ca_in_the_bundle(siths, monkeypatch, tmp_path):
    code, found = _siths(monkeypatch, tmp_path, siths["test"]["leaf"][0], siths["test"]["root_only"])
    assert code == 1 and any("saknar 'TEST SITHS e-id Function CA v1'" in f["text"] for f in found), found
    monkeypatch.setenv("INDIKERA_CONNECTION_PROFILES", str(tmp_path / "none.toml"))
    no_bundle = runner.invoke(cli_app, ["certs", "check", str(siths["test"]["leaf"][0]), "--env", "sit"])
    assert no_bundle.exit_code == 1 and "TEST SITHS e-id Root CA v2" in no_bundle.output
