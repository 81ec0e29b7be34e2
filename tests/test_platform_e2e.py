"""End to end on loopback: consumer → `indikera platform` (VP stand-in) → producer, real mTLS on both hops.

The consumer is zeep built from the OFFICIAL WSDL (the own one without ../shared; or httpx for raw envelopes); the platform is the stand-in
with a TAK export file; producers are the indikera app and small test doubles, each on uvicorn REQUIRING a
client certificate, so every routed call also proves the platform presented its own certificate.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import httpx
import pytest
import requests
import zeep
from lxml import etree

from indikera.platform import standin
from indikera.platform.settings import PlatformSettings
from indikera.platform.tak import export_document

from .support import oracle
from .support.connection_kit import CANNED, NS, SOAP, Capture, SithsTestCA, client_context, envelope, mtls_uvicorn_kwargs
from .support.server import free_port, running

PRODUCER_LA = "SE2321000000-INDIKERA"  # the demo producer's reporting system HSA-id (default settings)
CONSUMER = "TSTNMT2321000156-B02"
STRANGER = "SE5565594230-STRANGER"
PLATFORM = "TSTNTJP0000000-VP01"
PATH = "/qualityreporting/GetQualityIndicators/2/rivtabp21"
VP_PATH = "/vp/followup/groupoutcomes/qualityreporting/GetQualityIndicators/2/rivtabp21"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = SithsTestCA(tmp_path_factory.mktemp("pki"))
    return {
        "ca": ca,
        "consumer": ca.issue("consumer", CONSUMER),
        "stranger": ca.issue("stranger", STRANGER),
        "anonymous": ca.issue("no-serial", None, cn="Utan HSA-id"),
        "platform": ca.issue("platform", PLATFORM, cn="NTjP VP (test)"),
        "platform-server": ca.issue("platform-server", PLATFORM, cn="localhost"),
        "producer": ca.issue("producer", PRODUCER_LA, cn="localhost"),
    }


@pytest.fixture(scope="module")
def world(pki, tmp_path_factory, demo_template):
    """The indikera producer, three doubles, a dead port, the TAK file and the running platform."""
    import shutil

    from indikera.app import create_app
    from indikera.config import Settings
    from indikera.context import AppContext

    tmp = tmp_path_factory.mktemp("world")
    shutil.copy(demo_template, tmp / "demo.db")
    ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{tmp / 'demo.db'}"))
    tls = mtls_uvicorn_kwargs(pki["producer"], pki["ca"])
    capture, slow = Capture(), Capture(delay=1.5)
    with running(create_app(ctx=ctx), **tls) as real_url, running(capture, **tls) as capture_url, \
            running(slow, **tls) as slow_url:
        dead_url = f"https://127.0.0.1:{free_port()}"
        routes = {PRODUCER_LA: real_url, "SE-CAPTURE": capture_url, "SE-SLOW": slow_url, "SE-DOWN": dead_url,
                  "SE-NOPERMISSION": capture_url}
        doc = export_document(
            [{"logiskAdress": la, "tjanstekontrakt": NS, "adress": url + PATH, "rivtaprofil": "RIVTABP21",
              "tjanstekomponent": PRODUCER_LA} for la, url in routes.items()],
            [{"logiskAdress": la, "tjanstekontrakt": NS, "tjanstekonsument": CONSUMER}
             for la in routes if la != "SE-NOPERMISSION"],
        )
        tak = tmp / "tak.json"
        tak.write_text(json.dumps(doc), encoding="utf-8")
        settings = PlatformSettings(
            tak_file=tak, port=0, tls_cert=pki["platform-server"].cert, tls_key=pki["platform-server"].key,
            client_ca=pki["ca"].ca_file, producer_cert=pki["platform"].cert, producer_key=pki["platform"].key,
            producer_ca=pki["ca"].ca_file, retry_delay=0.3,
        )
        # A second platform with a short read timeout, so "producer too slow" does not take 29 s.
        impatient = replace(settings, read_timeout=0.6)
        with standin.running(settings) as (vp_url, platform), standin.running(impatient) as (impatient_url, _):
            yield {"vp": vp_url + VP_PATH, "impatient": impatient_url + VP_PATH,
                   "capture": capture, "slow": slow, "routes": routes, "platform": platform}
    ctx.engine.dispose()


def post(world, pki, body: bytes, who: str = "consumer", headers: dict | None = None, vp: str = "vp") -> httpx.Response:
    with httpx.Client(verify=client_context(pki["ca"], pki[who]), timeout=20) as c:
        return c.post(world[vp], content=body, headers={"content-type": "text/xml; charset=UTF-8", **(headers or {})})


def fault_of(resp: httpx.Response) -> tuple[str, str, str]:
    assert resp.status_code == 500, resp.text
    assert resp.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(resp.content)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None, resp.text
    return fault.findtext("faultcode"), fault.findtext("faultstring"), fault.findtext("detail/detailString")


def zeep_client(world, pki, who: str = "consumer") -> tuple[zeep.Client, object]:
    session = requests.Session()
    session.cert = (str(pki[who].cert), str(pki[who].key))
    session.verify = str(pki["ca"].ca_file)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace our test CA
    client = zeep.Client(str(oracle.wsdl()), transport=zeep.Transport(session=session, timeout=20))
    binding = next(iter(client.wsdl.bindings))
    return client, client.create_service(binding, world["vp"])


def call_zeep(service, logical_address: str, measure: str = "10005", include: bool = True):
    return service.GetQualityIndicators(
        measureId=[{"root": "1.2.826.0.1.3680043.9.4672.7", "extension": measure}],
        reportingPeriod={"start": "20240101", "end": "20241231"}, includeMeasurements=include,
        _soapheaders={"LogicalAddress": logical_address},
    )


# --- a routed call succeeds ------------------------------------------------------------------------------

def test_zeep_consumer_through_platform_gets_the_producers_report(world, pki):
    client, service = zeep_client(world, pki)
    with client.settings(raw_response=True):
        raw = call_zeep(service, PRODUCER_LA)
    assert raw.status_code == 200, raw.text
    assert raw.headers.get("x-skltp-correlation-id")
    oracle.assert_conformant(raw.content)
    report = call_zeep(service, PRODUCER_LA).AggregatedQualityReport
    assert report.reportingSystem.hsaId == PRODUCER_LA
    assert len(report.measurement) > 0
    assert {m.measureId.extension for m in report.measurement} == {"10005"}


def test_logical_address_lookup_is_case_insensitive(world, pki):
    _, service = zeep_client(world, pki)
    report = call_zeep(service, PRODUCER_LA.lower(), include=False).AggregatedQualityReport
    assert report.measurementChecksum and not report.measurement


def test_forwards_the_unchanged_envelope_with_the_vp_headers(world, pki):
    body = envelope("SE-CAPTURE", measure="42")
    resp = post(world, pki, body, headers={"soapaction": '"urn:x"', "x-vp-sender-id": "FORGED", "x-forwarded-for": "6.6.6.6"})
    assert resp.status_code == 200 and resp.content == CANNED
    headers, received = world["capture"].calls[-1]
    assert received == body  # byte for byte
    assert headers["x-rivta-original-serviceconsumer-hsaid"] == CONSUMER
    assert headers["x-skltp-correlation-id"] == resp.headers["x-skltp-correlation-id"]
    assert headers["content-type"] == "text/xml;charset=UTF-8"
    assert headers["user-agent"].startswith("SKLTP VP/")
    assert headers["soapaction"] == '"urn:x"'  # other consumer headers pass through
    # https producers never see VP-internal headers, and a consumer cannot forge them
    assert "x-vp-sender-id" not in headers and "x-vp-instance-id" not in headers and "x-forwarded-for" not in headers
    assert int(resp.headers["x-skltp-prt"]) >= 0


def test_incoming_correlation_id_and_original_consumer_are_kept(world, pki):
    resp = post(world, pki, envelope("SE-CAPTURE"), headers={"x-skltp-correlation-id": "abc-123",
                                                             "x-rivta-original-serviceconsumer-hsaid": "SE-REAL-CONSUMER"})
    assert resp.headers["x-skltp-correlation-id"] == "abc-123"
    headers, _ = world["capture"].calls[-1]
    assert headers["x-skltp-correlation-id"] == "abc-123"
    assert headers["x-rivta-original-serviceconsumer-hsaid"] == "SE-REAL-CONSUMER"


def test_producer_soap_fault_passes_through_with_status_500(world, pki):
    resp = post(world, pki, envelope("SE-CAPTURE", measure="FAULT-PLEASE"))
    code, text, _ = fault_of_any(resp)
    assert (code, text) == ("s:Server", "producer says no")


def fault_of_any(resp):
    assert resp.status_code == 500
    fault = etree.fromstring(resp.content).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("faultstring"), fault.findtext("detail")


# --- every failure as VP gives it ------------------------------------------------------------------------

VP004_TEXT = ("VP004 [NTjP] Det finns inget vägval i tjänsteadresseringskatalogen som matchar anropets logiska adressat "
              "(ReceiverId) och tjänstekontrakt. Kontrollera uppgifterna i anropet och vid behov, beställ konfigurering "
              "i aktuell tjänsteplattform.")
VP007_TEXT = ("VP007 [NTjP] Tjänstekonsumenten saknar behörighet att anropa den logiska adressaten via detta "
              "tjänstekontrakt. Kontrollera uppgifterna och vid behov, tillse att det beställs konfiguration i aktuell "
              "tjänsteplattform.")


def test_vp004_no_route(world, pki):
    assert fault_of(post(world, pki, envelope("SE-UNKNOWN-PRODUCER"))) == (
        "SOAP-ENV:Client", VP004_TEXT,
        f"No receiverId (logical address) found for serviceNamespace: {NS}, receiverId: SE-UNKNOWN-PRODUCER")


def test_vp004_seen_by_zeep_as_a_soap_fault(world, pki):
    _, service = zeep_client(world, pki)
    with pytest.raises(zeep.exceptions.Fault) as err:
        call_zeep(service, "SE-UNKNOWN-PRODUCER")
    assert err.value.message == VP004_TEXT
    assert err.value.code.endswith("Client")


def test_vp004_hints_at_whitespace(world, pki):
    _, _, detail = fault_of(post(world, pki, envelope(f" {PRODUCER_LA}")))
    assert detail.endswith(". Whitespace detected in incoming request!")


def test_vp007_no_permission(world, pki):
    assert fault_of(post(world, pki, envelope("SE-NOPERMISSION"))) == (
        "SOAP-ENV:Server", VP007_TEXT,
        f"Authorization missing for serviceNamespace: {NS}, receiverId: SE-NOPERMISSION, senderId: {CONSUMER}")
    assert fault_of(post(world, pki, envelope(PRODUCER_LA), who="stranger"))[1] == VP007_TEXT


def test_vp007_seen_by_zeep(world, pki):
    _, service = zeep_client(world, pki, who="stranger")
    with pytest.raises(zeep.exceptions.Fault) as err:
        call_zeep(service, PRODUCER_LA)
    assert err.value.message == VP007_TEXT


def test_vp009_producer_down_after_one_retry(world, pki):
    started = time.monotonic()
    code, text, detail = fault_of(post(world, pki, envelope("SE-DOWN")))
    assert time.monotonic() - started >= 0.3  # one retry after retry_delay
    assert (code, text) == ("SOAP-ENV:Server", "VP009 [NTjP] Fel vid kontakt med tjänsteproducenten.")
    address = world["routes"]["SE-DOWN"] + PATH
    assert detail.startswith(f"Error connecting to service producer at address {address}. Exception Caught by Camel "
                             "when contacting producer. Exception information: (java.net.ConnectException: ")


def test_vp009_producer_too_slow(world, pki):
    started = time.monotonic()
    code, text, detail = fault_of(post(world, pki, envelope("SE-SLOW"), vp="impatient"))
    assert time.monotonic() - started < 2.5  # the read timeout (0.6 s here, 29 s by default) cut it off
    assert (code, text) == ("SOAP-ENV:Server", "VP009 [NTjP] Fel vid kontakt med tjänsteproducenten.")
    assert detail == (f"Error connecting to service producer at address {world['routes']['SE-SLOW'] + PATH}. Exception "
                      "Caught by Camel when contacting producer. Exception information: "
                      "(io.netty.handler.timeout.ReadTimeoutException: Timeout when waiting on response from producer.)")


def test_vp009_non_soap_error_status(world, pki):
    code, text, detail = fault_of(post(world, pki, envelope("SE-CAPTURE", measure="TEAPOT")))
    assert text.startswith("VP009 ") and "VP_PRODUCER_EXCEPTION_HTTP_STATUS=418" in detail


@pytest.mark.parametrize("header", [None, "<itr:LogicalAddress></itr:LogicalAddress>"])
def test_vp003_no_logical_address(world, pki, header):
    body = envelope(None) if header is None else envelope(header=header)
    assert fault_of(post(world, pki, body)) == (
        "SOAP-ENV:Client",
        "VP003 [NTjP] Logisk adressat (ReceiverId) saknas i RivHeadern i inkommande meddelande.",
        "No receiverId (logical address) found in message header. ")


@pytest.mark.parametrize("garbage", [b"this is not xml", b"<unclosed>", b"", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'])
def test_vp015_garbage(world, pki, garbage):
    code, text, detail = fault_of(post(world, pki, garbage))
    assert code == "SOAP-ENV:Client"
    assert text.startswith("VP015 [NTjP] ")
    assert detail.startswith("The request could not be read properly. ")


def test_vp002_certificate_without_hsa_id(world, pki):
    code, text, detail = fault_of(post(world, pki, envelope(), who="anonymous"))
    assert (code, text) == ("SOAP-ENV:Client", "VP002 [NTjP] Fel i klientcertifikat. Saknas, är av felaktig typ, eller är felaktigt utformad.")
    assert detail.startswith("No sender ID (SERIALNUMBER) found in certificate. ")


def test_no_client_certificate_no_tls_session(world, pki):
    with httpx.Client(verify=client_context(pki["ca"], None), timeout=10) as c:
        with pytest.raises(httpx.HTTPError):
            c.post(world["vp"], content=envelope())


def test_bp20_request_is_rewritten_for_a_bp21_producer(world, pki):
    body = envelope(header='<wsa:To xmlns:wsa="http://www.w3.org/2005/08/addressing">SE-CAPTURE</wsa:To>')
    assert post(world, pki, body).status_code == 200
    _, received = world["capture"].calls[-1]
    header = etree.fromstring(received).find(f"{{{SOAP}}}Header")
    assert [c.tag for c in header] == ["{urn:riv:itintegration:registry:1}LogicalAddress"]
    assert header[0].text == "SE-CAPTURE"
