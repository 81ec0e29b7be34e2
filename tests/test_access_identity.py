"""The identity rule itself, over many inputs: who may speak for whom, and what is ignored."""

from __future__ import annotations

import base64
import logging
import ssl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from indikera.access.certs import CertificateError, PeerCertificate, client_cert_header, normalise_hsa_id, parse_client_cert_header
from indikera.access.identity import ANONYMOUS
from indikera.access.pki import new_ca, new_function_cert, new_root
from indikera.access.resolve import decide, identity_of, trust_of
from indikera.config import Settings

ROOT = new_root()
CA = new_ca(ROOT)
CONSUMER = new_function_cert(CA, hsa_id="se2321000016-abcd", common_name="konsument")
PLATFORM = new_function_cert(CA, hsa_id="TSTNTJP0000000-VP01", common_name="plattform")
NO_SERIAL = new_function_cert(CA, hsa_id=None, common_name="utan")
PEM = {name: ssl.DER_cert_to_PEM_cert(c.der) for name, c in {"consumer": CONSUMER, "platform": PLATFORM, "none": NO_SERIAL}.items()}

SETTINGS = Settings(trusted_platform_hsa_ids=("tstntjp0000000-vp01",), trusted_proxies=("10.0.0.0/8", "::1"))
headers = st.one_of(st.none(), st.text(max_size=80), st.from_regex(r"[A-Za-z0-9-]{2,30}", fullmatch=True))


def test_subject_serial_number_is_the_hsa_id_upper_cased():
    cert = PeerCertificate.from_der(CONSUMER.der)
    assert cert.hsa_id == "SE2321000016-ABCD"
    assert PeerCertificate.from_der(NO_SERIAL.der).hsa_id is None
    assert len(cert.fingerprint) == 64


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(original=headers, host=st.sampled_from([None, "127.0.0.1", "10.1.2.3", "192.168.0.1"]))
def test_a_non_platform_certificate_is_always_its_own_consumer(original, host):
    ident = decide(SETTINGS, tls_pem=PEM["consumer"], client_host=host, client_cert_header=None, original_consumer=original)
    assert ident.consumer_hsa_id == "SE2321000016-ABCD"
    assert ident.channel == "direct" and ident.platform_id is None


@settings(max_examples=150, deadline=None)
@given(original=headers)
def test_a_platform_names_the_consumer_or_nobody(original):
    ident = decide(SETTINGS, tls_pem=PEM["platform"], client_host="127.0.0.1", client_cert_header=None, original_consumer=original)
    if original is None or not original.strip():
        assert ident.consumer_hsa_id == "TSTNTJP0000000-VP01"  # VP always sends the header; without it the platform is the caller
    else:
        assert ident.consumer_hsa_id == normalise_hsa_id(original[:200])
    if ident.is_identified:
        assert ident.channel == "platform" and ident.platform_id == "TSTNTJP0000000-VP01"


def test_platform_trusted_by_fingerprint_in_any_common_spelling():
    fp = PeerCertificate.from_der(PLATFORM.der).fingerprint
    spelled = ":".join(fp[i : i + 2] for i in range(0, 64, 2)).upper()
    s = Settings(trusted_platform_fingerprints=(spelled,))
    ident = decide(s, tls_pem=PEM["platform"], client_host=None, client_cert_header=None, original_consumer="SE1-VIS")
    assert (ident.consumer_hsa_id, ident.channel, ident.platform_id) == ("SE1-VIS", "platform", "TSTNTJP0000000-VP01")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(st.text(max_size=200), st.binary(max_size=300).map(lambda b: ":" + base64.b64encode(b).decode() + ":")))
def test_a_garbled_client_cert_header_from_the_proxy_gives_anonymous_never_an_error(value):
    ident = decide(SETTINGS, tls_pem=None, client_host="10.0.0.5", client_cert_header=value, original_consumer="SE1-X")
    assert ident.consumer_hsa_id is None


def test_client_cert_header_only_from_configured_proxies():
    header = client_cert_header(CONSUMER.der)
    from_proxy = decide(SETTINGS, tls_pem=None, client_host="10.20.30.40", client_cert_header=header, original_consumer=None)
    assert (from_proxy.consumer_hsa_id, from_proxy.channel) == ("SE2321000016-ABCD", "proxy")
    v6 = decide(SETTINGS, tls_pem=None, client_host="::1", client_cert_header=header, original_consumer=None)
    assert v6.consumer_hsa_id == "SE2321000016-ABCD"
    stranger = decide(SETTINGS, tls_pem=None, client_host="192.168.1.1", client_cert_header=header, original_consumer=None)
    assert stranger.consumer_hsa_id is None and "not a trusted proxy" in stranger.reason


def test_platform_behind_the_proxy_names_the_consumer():
    header = client_cert_header(PLATFORM.der)
    ident = decide(SETTINGS, tls_pem=None, client_host="10.0.0.1", client_cert_header=header, original_consumer="SE2321000016-VIS1")
    assert (ident.consumer_hsa_id, ident.channel) == ("SE2321000016-VIS1", "platform")


def test_rfc9440_header_parsing_is_strict():
    der = CONSUMER.der
    assert parse_client_cert_header(client_cert_header(der)) == der
    for bad in ["", "::", base64.b64encode(der).decode(), ":not base64!:", ":" + "A" * 20000 + ":"]:
        with pytest.raises(CertificateError):
            parse_client_cert_header(bad)


def test_anonymous_reasons_are_logged_without_secrets(caplog):
    caplog.set_level(logging.DEBUG, logger="indikera.access")
    decide(SETTINGS, tls_pem=PEM["none"], client_host=None, client_cert_header=None, original_consumer=None)
    decide(SETTINGS, tls_pem=None, client_host="192.168.1.1", client_cert_header=":abc:", original_consumer=None)
    text = caplog.text
    assert "without an HSA-id" in text and "not a trusted proxy" in text


def test_malformed_trusted_proxy_is_a_clear_configuration_error():
    with pytest.raises(ValueError, match="trusted_proxies"):
        trust_of(Settings(trusted_proxies=("not-an-address",)))


def test_identity_of_decides_even_without_the_middleware():
    """A component mounted outside the middleware still gets the same rule (and anonymous without a ctx)."""
    import httpx

    from .support.server import running

    class Ctx:
        settings = Settings(trusted_proxies=("127.0.0.1",))

    async def who(request: Request):
        return JSONResponse({"hsa": identity_of(request).consumer_hsa_id})

    app = Starlette(routes=[Route("/", who)])
    header = {"Client-Cert": client_cert_header(CONSUMER.der)}
    with running(app) as url:
        assert httpx.get(url, headers=header).json()["hsa"] is None  # no ctx: anonymous
        app.state.ctx = Ctx()
        assert httpx.get(url, headers=header).json()["hsa"] == "SE2321000016-ABCD"
    assert ANONYMOUS.consumer_hsa_id is None
