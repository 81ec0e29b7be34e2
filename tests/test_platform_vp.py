"""The VP pipeline's decisions (every fault it can give) and VP's HTTP route, on real sockets where it forwards."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from indikera.platform import message, standin
from indikera.platform.faults import MESSAGES, VPFault
from indikera.platform.settings import PlatformSettings
from indikera.platform.tak import export_document, load_export
from indikera.platform.vp import InboundCall, VirtualPlatform, sender_from_subject

from .support.connection_kit import CANNED, NS, SOAP, Capture, SithsTestCA, envelope
from .support.server import running

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    ca = SithsTestCA(tmp_path_factory.mktemp("vp-pki"))

    def der(label, hsa):
        issued = ca.issue(label, hsa)
        return x509.load_pem_x509_certificate(issued.cert.read_bytes()).public_bytes(serialization.Encoding.DER), issued

    return {"consumer": der("consumer", "CONS"), "nohsa": der("nohsa", None)}


def platform(routes=None, permissions=None, settings=None, tak=True):
    data = load_export(export_document(routes if routes is not None else [
        {"logiskAdress": "SE1", "tjanstekontrakt": NS, "adress": "https://127.0.0.1:9/x", "rivtaprofil": "RIVTABP21", "tjanstekomponent": "P"}],
        permissions if permissions is not None else [{"logiskAdress": "SE1", "tjanstekontrakt": NS, "tjanstekonsument": "CONS"}]))
    return VirtualPlatform(settings or PlatformSettings(instance_name="TEST-VP"), lambda: data if tak else None, clock=lambda: NOW)


def call(vp, certs, body, who="consumer", headers=None):
    return vp.process(InboundCall(body=body, headers=headers or {}, peer_ip="127.0.0.1", tls=True, peer_cert_der=certs[who][0]))


def code(reply):
    return reply.code


# --- parsing -----------------------------------------------------------------------------------------------

def test_parse_reads_logical_address_profile_and_namespace_without_trimming():
    info, _ = message.parse(envelope(" SE1 "))
    assert (info.receiver_id, info.riv_version, info.namespace) == (" SE1 ", "rivtabp21", NS)
    info, _ = message.parse(envelope(header='<a:To xmlns:a="http://www.w3.org/2005/08/addressing">SE2</a:To>'))
    assert (info.receiver_id, info.riv_version) == ("SE2", "rivtabp20")


def test_parse_without_body_child_has_no_namespace():
    info, _ = message.parse(f'<s:Envelope xmlns:s="{SOAP}"><s:Header/><s:Body/></s:Envelope>'.encode())
    assert info.namespace is None and info.receiver_id is None


@pytest.mark.parametrize("body", [b"", b"   ", b"\xff\xfe", b"<a><b></a>", b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'])
def test_unreadable_requests_are_vp015(body):
    with pytest.raises(VPFault) as err:
        message.parse(body)
    assert err.value.code == "VP015"


def test_latin1_request_is_forwarded_as_utf8():
    body = envelope("SE1").replace(b"<soapenv:Envelope", '<?xml version="1.0" encoding="ISO-8859-1"?>\n<soapenv:Envelope'.encode(), 1)
    body = body.replace(b"</soapenv:Header>", "<x:n xmlns:x='urn:x'>Åre</x:n></soapenv:Header>".encode("latin-1"))
    info, tree = message.parse(body)
    out = message.to_utf8(body, tree, info)
    assert out.startswith(b"<?xml version='1.0' encoding='UTF-8'?>") and "Åre".encode() in out


def test_sender_id_from_subject_like_vp():
    assert sender_from_subject("CN=x,2.5.4.5=SE123,O=y") == "SE123"
    assert sender_from_subject("SERIALNUMBER=SE9,CN=x") == "SE9"
    assert sender_from_subject("CN=x,O=y") is None
    assert sender_from_subject("2.5.4.5=#1306534531323334") == "SE1234"  # DER PrintableString, tag+length skipped


# --- every fault ---------------------------------------------------------------------------------------------

def test_fault_envelope_is_soap11_with_escaped_text():
    body = VPFault("VP004", "serviceNamespace: <&>, receiverId: x").envelope("NTjP")
    root = etree.fromstring(body)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultcode") == "SOAP-ENV:Client"
    assert fault.findtext("detail/detailString") == "No receiverId (logical address) found for serviceNamespace: <&>, receiverId: x"
    assert all(code.startswith("VP0") for code in MESSAGES) and len(MESSAGES) == 15


def test_vp008_without_tak(certs):
    reply = call(platform(tak=False), certs, envelope("SE1"))
    assert (reply.status, reply.code) == (500, "VP008")
    assert b"VP008 [TEST-VP] Internt fel i tj" in reply.body


def test_vp002_vp003_vp004_vp007(certs):
    vp = platform()
    assert code(call(vp, certs, envelope("SE1"), who="nohsa")) == "VP002"
    assert code(call(vp, certs, envelope(None))) == "VP003"
    assert code(call(vp, certs, envelope("SE-OTHER"))) == "VP004"
    assert code(call(platform(permissions=[]), certs, envelope("SE1"))) == "VP007"


def test_vp004_wins_over_vp007_because_routing_comes_first(certs):
    assert code(call(platform(permissions=[]), certs, envelope("SE-OTHER"))) == "VP004"


def test_vp006_two_producers_for_one_address(certs):
    r = {"logiskAdress": "SE1", "tjanstekontrakt": NS, "rivtaprofil": "RIVTABP21", "tjanstekomponent": "P"}
    vp = platform([{**r, "adress": "https://a/x"}, {**r, "adress": "https://b/x", "tjanstekomponent": "Q"}])
    reply = call(vp, certs, envelope("SE1"))
    assert reply.code == "VP006" and b"SOAP-ENV:Server" in reply.body


def test_vp010_empty_address(certs):
    r = {"logiskAdress": "SE1", "tjanstekontrakt": NS, "rivtaprofil": "RIVTABP21", "tjanstekomponent": "P", "adress": " "}
    assert code(call(platform([r]), certs, envelope("SE1"))) == "VP010"


def test_vp005_unsupported_profile(certs):
    r = {"logiskAdress": "SE1", "tjanstekontrakt": NS, "rivtaprofil": "RIVTABP30", "tjanstekomponent": "P", "adress": "https://a/x"}
    assert code(call(platform([r]), certs, envelope("SE1"))) == "VP005"


def test_vp013_only_when_configured_to_throw(certs):
    headers = {"x-rivta-original-serviceconsumer-hsaid": "SOMEONE"}
    strict = PlatformSettings(original_consumer_allowed_senders=("TRUSTED-AGGREGATOR",), throw_vp013=True)
    assert code(call(platform(settings=strict), certs, envelope("SE1"), headers=headers)) == "VP013"
    lenient = replace(strict, throw_vp013=False)  # VP's default: a warning, the call goes on (here to VP009)
    assert code(call(platform(settings=replace(lenient, connect_timeout=0.2, retry_attempts=0)), certs, envelope("SE1"), headers=headers)) == "VP009"


def test_vp015_too_large(certs):
    assert code(call(platform(settings=PlatformSettings(max_receive_bytes=100)), certs, envelope("SE1"))) == "VP015"


# --- VP's HTTP route (behind a TLS proxy), on real sockets ---------------------------------------------------

@pytest.fixture(scope="module")
def http_route(tmp_path_factory, certs):
    capture = Capture()
    with running(capture) as producer_url:  # an http:// producer: an internal component
        tak = tmp_path_factory.mktemp("http-route") / "tak.json"
        tak.write_text(json.dumps(export_document(
            [{"logiskAdress": "SE1", "tjanstekontrakt": NS, "adress": producer_url + "/x", "rivtaprofil": "RIVTABP21", "tjanstekomponent": "P"}],
            [{"logiskAdress": "SE1", "tjanstekontrakt": NS, "tjanstekonsument": c} for c in ("CONS", "INTERNAL")])), encoding="utf-8")
        s = PlatformSettings(tak_file=tak, port=0, http_port=0, instance_id="VP-TEST-1", ip_whitelist=("127.0.0.",))
        with standin.running(s) as (url, _):
            yield {"url": url, "capture": capture, "settings": s, "tak": tak, "pem": certs["consumer"][1].cert.read_text()}


def test_http_route_with_certificate_in_header_adds_vp_headers_for_http_producers(http_route):
    pem = quote(http_route["pem"])
    resp = httpx.post(http_route["url"] + "/vp", content=envelope("SE1"), headers={"x-vp-auth-cert": pem})
    assert resp.status_code == 200 and resp.content == CANNED
    headers, _ = http_route["capture"].calls[-1]
    assert headers["x-vp-sender-id"] == "CONS" and headers["x-vp-instance-id"] == "VP-TEST-1"
    assert headers["x-rivta-routing-history"] == "CONS#VP-TEST-1"
    assert "x-vp-auth-cert" not in headers


def test_http_route_trusts_sender_header_only_with_our_instance_id(http_route):
    ok = httpx.post(http_route["url"] + "/vp", content=envelope("SE1"), headers={"x-vp-sender-id": "INTERNAL", "x-vp-instance-id": "VP-TEST-1"})
    assert ok.status_code == 200
    forged = httpx.post(http_route["url"] + "/vp", content=envelope("SE1"), headers={"x-vp-sender-id": "INTERNAL", "x-vp-instance-id": "OTHER"})
    assert forged.status_code == 500 and b"VP002" in forged.content


def test_http_route_detects_loops(http_route):
    resp = httpx.post(http_route["url"] + "/vp", content=envelope("SE1"),
                      headers={"x-vp-auth-cert": quote(http_route["pem"]), "x-rivta-routing-history": "X#OTHER-VP,CONS#VP-TEST-1"})
    assert resp.status_code == 500 and b"VP014" in resp.content


def test_http_route_refuses_callers_off_the_whitelist(http_route):
    s = replace(http_route["settings"], ip_whitelist=("10.",))
    with standin.running(s) as (url, _):
        resp = httpx.post(url + "/vp", content=envelope("SE1"), headers={"x-vp-auth-cert": quote(http_route["pem"])})
    assert resp.status_code == 500 and b"VP011" in resp.content and b"SOAP-ENV:Client" in resp.content


def test_get_is_not_routed_and_chunked_posts_are_read(http_route):
    assert httpx.get(http_route["url"] + "/vp?wsdl").status_code == 404

    def chunks():
        body = envelope("SE1")
        yield body[:50]
        yield body[50:]

    resp = httpx.post(http_route["url"] + "/vp", content=chunks(), headers={"x-vp-auth-cert": quote(http_route["pem"])})
    assert resp.status_code == 200


_HOSTILE_VP: list[VirtualPlatform] = []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode),
                 st.sampled_from([b"<a/>", envelope(None), envelope("SE1")[:-20]])))
def test_hostile_bodies_always_get_a_vp_fault_never_a_crash(certs, body):
    if not _HOSTILE_VP:  # one platform for all examples (its TLS client context is costly to build)
        _HOSTILE_VP.append(platform(settings=PlatformSettings(instance_name="TEST-VP", connect_timeout=0.2, retry_attempts=0)))
    reply = call(_HOSTILE_VP[0], certs, body)
    assert reply.status == 500 and reply.code in {"VP003", "VP004", "VP009", "VP015"}
    fault = etree.fromstring(reply.body).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultstring").startswith(reply.code + " [TEST-VP] ")


def test_an_unexpected_error_is_vp009_not_a_stack_trace(certs):
    def broken_tak():
        raise RuntimeError("disk on fire")

    vp = VirtualPlatform(PlatformSettings(instance_name="TEST-VP"), broken_tak, clock=lambda: NOW)
    reply = call(vp, certs, envelope("SE1"))
    assert reply.code == "VP009" and b"disk on fire" not in reply.body and b"Traceback" not in reply.body


# --- edge cases against VP's own source (docs/connection.md, "The stand-in, edge for edge") -----------------------

def _fault(reply) -> tuple[str, str]:
    fault = etree.fromstring(reply.body).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    return fault.findtext("faultstring"), fault.findtext("detail/detailString")


@pytest.mark.parametrize("blank", ["   ", "\t", "\n  \n"])
def test_whitespace_only_logical_address_is_vp003_not_vp004(certs, blank):
    reply = call(platform(), certs, envelope(blank))
    assert reply.code == "VP003", _fault(reply)
    assert _fault(reply) == ("VP003 [TEST-VP] Logisk adressat (ReceiverId) saknas i RivHeadern i inkommande meddelande.",
                             "No receiverId (logical address) found in message header. ")


def test_two_logical_addresses_the_last_one_routes(http_route):
    pem = {"x-vp-auth-cert": quote(http_route["pem"])}
    two = '<itr:LogicalAddress>{}</itr:LogicalAddress><itr:LogicalAddress>{}</itr:LogicalAddress>'
    info, _ = message.parse(envelope(header=two.format("SE-FIRST", "SE1")))
    assert info.receiver_id == "SE1"
    routed = httpx.post(http_route["url"] + "/vp", content=envelope(header=two.format("SE-OTHER", "SE1")), headers=pem)
    assert routed.status_code == 200 and routed.content == CANNED
    refused = httpx.post(http_route["url"] + "/vp", content=envelope(header=two.format("SE1", "SE-OTHER")), headers=pem)
    assert refused.status_code == 500 and b"VP004" in refused.content and b"receiverId: SE-OTHER" in refused.content


@pytest.mark.parametrize("body", [b"this is not xml", b"<a><b></a>", b""])
def test_vp015_has_vps_wording(certs, body):
    text, detail = _fault(call(platform(), certs, body))
    assert text == "VP015 [TEST-VP] Anrop ej korrekt utformat och kan därför inte behandlas."
    assert detail.startswith("The request could not be read properly. ")


def test_vp002_on_the_tls_route_names_the_certificate_subject(certs):
    subject = x509.load_der_x509_certificate(certs["nohsa"][0]).subject.rfc4514_string()
    reply = call(platform(), certs, envelope("SE1"), who="nohsa")
    text, detail = _fault(reply)
    assert reply.code == "VP002" and text.startswith("VP002 [TEST-VP] Fel i klientcertifikat.")
    assert detail == f"No sender ID (SERIALNUMBER) found in certificate. No senderId found in Certificate: {subject}"


def test_vp002_on_the_http_route_without_the_certificate_header(http_route):
    resp = httpx.post(http_route["url"] + "/vp", content=envelope("SE1"))
    assert resp.status_code == 500
    fault = etree.fromstring(resp.content).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultstring").startswith("VP002 ")
    assert fault.findtext("detail/detailString") == ("No sender ID (SERIALNUMBER) found in certificate. "
                                                     "No certificate found in httpheader x-vp-auth-cert")
