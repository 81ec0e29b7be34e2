"""Hostile and broken requests: each gives a defined SOAP 1.1 fault (or a defined answer), never a crash,
and the server keeps serving afterwards."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.domain.checksum import EMPTY_CHECKSUM

from .support import soap_client as sc
from .support.server import running

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, demo_template):
    import shutil

    path = tmp_path_factory.mktemp("hostile") / "demo.db"
    shutil.copy(demo_template, path)
    ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{path}", accepted_logical_addresses=(sc.ADDRESS, "SE2321000000-ROUTED")))
    yield ctx
    ctx.engine.dispose()


@pytest.fixture(scope="module")
def client(ctx):
    return TestClient(create_app(ctx=ctx), raise_server_exceptions=False)


def still_serving(client) -> None:
    r = sc.answer(sc.post(client, sc.request(("10005",), "20230101", "20231231", False)))
    assert r.checksum != EMPTY_CHECKSUM


def body_with(payload: str, header: str = f"<itr:LogicalAddress>{sc.ADDRESS}</itr:LogicalAddress>") -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{sc.SOAP}" xmlns:itr="urn:riv:itintegration:registry:1" '
        f'xmlns:gqi="{sc.GQI_NS}" xmlns:qr="{sc.CORE}"><soapenv:Header>{header}</soapenv:Header>'
        f"<soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    ).encode()


VALID_PAYLOAD = (
    sc.request()
    .split(b"<soapenv:Body>")[1]
    .split(b"</soapenv:Body>")[0]
    .decode()
    .replace("<gqi:GetQualityIndicators>", f'<gqi:GetQualityIndicators xmlns:gqi="{sc.GQI_NS}" xmlns:qr="{sc.CORE}">')
)

CASES = {
    "malformed XML": (sc.request()[:-30], "MALFORMED_XML"),
    "not XML at all": (b"hello", "MALFORMED_XML"),
    "empty body": (b"", "MALFORMED_XML"),
    "XXE external entity": (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + body_with("<gqi:x>&x;</gqi:x>"),
        "DTD_FORBIDDEN",
    ),
    "entity bomb": (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;&d;&d;</l>',
        "DTD_FORBIDDEN",
    ),
    "10 000-deep nesting": (body_with("<a>" * 10_000 + "</a>" * 10_000), "TOO_DEEP"),
    "SOAP 1.2 envelope": (
        f'<e:Envelope xmlns:e="{SOAP12}"><e:Body>{VALID_PAYLOAD}</e:Body></e:Envelope>'.encode(),
        "SOAP_VERSION",
    ),
    "not an envelope": (VALID_PAYLOAD.encode(), "NOT_AN_ENVELOPE"),
    "wrong body namespace": (body_with(VALID_PAYLOAD.replace(sc.GQI_NS, "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:1")), "WRONG_OPERATION"),
    "two body elements": (body_with(VALID_PAYLOAD + VALID_PAYLOAD), "BODY_STRUCTURE"),
    "missing LogicalAddress": (sc.request(address=None), "LOGICAL_ADDRESS_MISSING"),
    "empty LogicalAddress": (sc.request(address=""), "LOGICAL_ADDRESS_EMPTY"),
    "whitespace LogicalAddress": (sc.request(address=f" {sc.ADDRESS}\n"), "LOGICAL_ADDRESS_WHITESPACE"),
    "blank LogicalAddress": (sc.request(address="   "), "LOGICAL_ADDRESS_EMPTY"),
    "unknown LogicalAddress": (sc.request(address="SE2321000000-SOMEONE"), "LOGICAL_ADDRESS_UNKNOWN"),
    "repeated LogicalAddress": (
        body_with(VALID_PAYLOAD, f"<itr:LogicalAddress>{sc.ADDRESS}</itr:LogicalAddress>" * 2),
        "LOGICAL_ADDRESS_REPEATED",
    ),
    "non-UTF-8 declared encoding": (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>' + sc.request().split(b"?>", 1)[1],
        "ENCODING",
    ),
    "UTF-16 body": (sc.request().decode().replace("UTF-8", "UTF-16").encode("utf-16"), "ENCODING"),
    "invalid UTF-8 bytes": (sc.request().replace(b"10001", b"1\xff\xfe01"), "ENCODING"),
    "month 13": (sc.request(start="20231332"), "SCHEMA_INVALID"),
    "no measureId": (sc.request(ids=()), "SCHEMA_INVALID"),
    "includeMeasurements not a boolean": (sc.request().replace(b"</gqi:reportingPeriod>", b"</gqi:reportingPeriod><gqi:includeMeasurements>maybe</gqi:includeMeasurements>"), "SCHEMA_INVALID"),
    "mustUnderstand header": (
        body_with(VALID_PAYLOAD, f'<itr:LogicalAddress>{sc.ADDRESS}</itr:LogicalAddress><x:Sec xmlns:x="urn:x" soapenv:mustUnderstand="1"/>'),
        "MUST_UNDERSTAND",
    ),
}
FAULTCODES = {"SOAP_VERSION": "VersionMismatch", "MUST_UNDERSTAND": "MustUnderstand"}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_body_gives_a_defined_fault(client, name):
    body, expected = CASES[name]
    code, text = sc.fault(sc.post(client, body), FAULTCODES.get(expected, "Client"))
    assert code == expected, text
    if expected.startswith("LOGICAL_ADDRESS") and expected != "LOGICAL_ADDRESS_REPEATED":
        assert sc.ADDRESS in text and "SE2321000000-ROUTED" in text  # says which addresses are answered
    still_serving(client)


@pytest.mark.parametrize(
    "headers, expected, faultcode",
    [
        ({"content-type": "application/json"}, "CONTENT_TYPE", "Client"),
        ({}, "CONTENT_TYPE", "Client"),
        ({"content-type": "application/soap+xml; charset=UTF-8"}, "SOAP_VERSION", "VersionMismatch"),
        ({"content-type": "text/xml; charset=ISO-8859-1"}, "ENCODING", "Client"),
        ({"content-type": "text/xml", "soapaction": '"urn:something:else"'}, "SOAP_ACTION", "Client"),
    ],
)
def test_wrong_http_headers(client, headers, expected, faultcode):
    code, _ = sc.fault(client.post(sc.PATH, content=sc.request(), headers=headers), faultcode)
    assert code == expected


@pytest.mark.parametrize("action", [None, '""', "", sc.ACTION, f'"{sc.ACTION}"'])
def test_exact_or_no_soap_action_is_accepted(client, action):
    headers = {"content-type": "text/xml"}
    if action is not None:
        headers["soapaction"] = action
    sc.answer(client.post(sc.PATH, content=sc.request(("10005",), "20230101", "20231231", False), headers=headers))


def test_logical_address_is_case_insensitive_and_any_accepted_one_works(client):
    for address in (sc.ADDRESS.lower(), "se2321000000-routed"):
        sc.answer(sc.post(client, sc.request(("10005",), "20230101", "20231231", False, address=address)))


@pytest.mark.parametrize(
    "start, end",
    [("20231231", "20230101"), ("20230231", "20231231")],  # start after end; a date not in the calendar
)
def test_logically_impossible_period_gives_an_empty_answer(client, start, end):
    r = sc.answer(sc.post(client, sc.request(("10005",), start, end, True)))
    assert r.checksum == EMPTY_CHECKSUM and not r.measurements and r.period == (start, end)


def test_internal_error_is_a_server_fault_without_stack_trace(client, monkeypatch):
    from indikera.contracts.qualityreporting_v2 import service

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "answer_query", boom)
    r = sc.post(client, sc.request(), dict(sc.HEADERS, **{"x-skltp-correlation-id": "c-err"}))
    code, text = sc.fault(r, "Server")
    assert code == "INTERNAL_ERROR" and "c-err" in text and "secret" not in text


def test_unreachable_database_is_a_server_fault(tmp_path):
    ctx = AppContext.from_settings(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    client = TestClient(create_app(ctx=ctx), raise_server_exceptions=False)
    code, _ = sc.fault(sc.post(client, sc.request()), "Server")
    assert code == "DATABASE_UNAVAILABLE"
    ping = client.post(sc.PING_PATH, content=b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><p:PingForConfiguration xmlns:p="urn:riv:itintegration:monitoring:PingForConfigurationResponder:1"/></s:Body></s:Envelope>', headers={"content-type": "text/xml"})
    assert sc.fault(ping, "Server")[0] == "DATABASE_UNAVAILABLE"


def test_request_size_limit_is_configurable(ctx):
    small = AppContext(Settings(database_url=str(ctx.engine.url), soap_max_request_bytes=500), ctx.engine)
    client = TestClient(create_app(ctx=small))
    assert sc.fault(sc.post(client, sc.request()))[0] == "REQUEST_TOO_LARGE"


def test_get_without_wsdl_is_refused_politely(client):
    r = client.get(sc.PATH)
    assert r.status_code == 405 and "?wsdl" in r.text
    assert client.get(sc.PATH + "?xsd=../../etc/passwd").status_code == 404


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_arbitrary_bytes_never_crash(client, data):
    r = sc.post(client, data)
    assert r.status_code == 500
    sc.fault(r, "Client")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=len(sc.request()) - 1), st.integers(min_value=0, max_value=255))
def test_corrupted_valid_request_gives_answer_or_fault(client, at, byte):
    body = bytearray(sc.request(("10005",), "20230101", "20231231", False))
    body[at] = byte
    r = sc.post(client, bytes(body))
    if r.status_code == 200:
        sc.answer(r)
    else:
        assert r.status_code == 500
        env_text = r.text
        assert "<faultcode>soap:" in env_text and "Traceback" not in env_text


@pytest.mark.slow
def test_real_socket_50_mb_body_and_the_server_keeps_serving(ctx):
    with running(create_app(ctx=ctx)) as base:
        with httpx.Client(base_url=base, timeout=30) as http:
            big = b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>"
            try:
                r = http.post(sc.PATH, content=big, headers=sc.HEADERS)
                assert sc.fault(r)[0] == "REQUEST_TOO_LARGE"
            except httpx.TransportError:
                pass  # the server may close the connection before the client has sent everything
            # a chunked body without Content-Length is counted while read
            r = http.post(sc.PATH, content=iter([b"<a>" + b"x" * 600_000] * 3), headers=sc.HEADERS)
            assert sc.fault(r)[0] == "REQUEST_TOO_LARGE"
            deep = body_with("<a>" * 10_000 + "</a>" * 10_000)
            assert sc.fault(http.post(sc.PATH, content=deep, headers=sc.HEADERS))[0] == "TOO_DEEP"
        with httpx.Client(base_url=base, timeout=30) as http:
            still_serving(http)
