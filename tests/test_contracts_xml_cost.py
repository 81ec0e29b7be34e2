"""What a SOAP request may cost, and what the parser (not a byte search) refuses (issue #14, defects 2 and 5).

Costs are compared as a ratio of times at 1× and 4× the input (linear work gives about 4, the quadratic
schema validation the issue found gave 15 or more), so the tests hold on any machine; an absolute bound,
generous for a busy CI runner, guards the size limit itself.
"""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from indikera.app import create_app
from indikera.config import Settings
from indikera.context import AppContext
from indikera.contracts import envelope, xmlsafe
from indikera.contracts.qualityreporting_v2 import request as gqi_request
from indikera.contracts.soap import SoapFault

from .support import soap_client as sc

BASE = sc.request()
ID = '<gqi:measureId{attrs}><qr:root>1.2.752.129.2.2.3.1</qr:root><qr:extension>10001</qr:extension></gqi:measureId>'
SIZE_LIMIT = Settings().soap_max_request_bytes


def _decls(prefix: str, n: int) -> str:
    return "".join(f' xmlns:{prefix}{i}="urn:x:{prefix}:{i}"' for i in range(n))


def _envelope_decls(unit: str, k: int) -> bytes:
    decls = "".join(unit.format(i=i) for i in range(k))  # distinct prefixes, like the issue's request
    return BASE.replace(b"<soapenv:Envelope", b"<soapenv:Envelope" + decls.encode(), 1)


def _before_first_id(unit: str, k: int) -> bytes:
    return BASE.replace(b"<gqi:measureId>", unit.encode() * k + b"<gqi:measureId>", 1)


def _in_header(unit: str, k: int) -> bytes:
    return BASE.replace(b"<soapenv:Header>", b"<soapenv:Header>" + unit.encode() * k, 1)


_NESTED = "".join(f"<h{i}{_decls(f'q{i}', 60)}>" for i in range(60)) + "".join(f"</h{i}>" for i in reversed(range(60)))
# Each shape: (where, repeated unit). Those within the limits are answered; the others are refused while parsing.
SHAPES = {
    "xmlns on the Envelope (the issue's request)": (_envelope_decls, ' xmlns:n{i}="u:{i}"'),
    "64 xmlns on every measureId": (_before_first_id, ID.format(attrs=_decls("p", 64))),
    "64 attributes on every measureId": (_before_first_id, ID.format(attrs="".join(f' a{i}="v"' for i in range(64)))),
    # Padded so that even at the size limit they stay under xmlsafe.MAX_ELEMENTS: these reach the schema.
    "many valid measureIds": (_before_first_id, ID.format(attrs=" " * 200)),
    "an error in every measureId": (_before_first_id, "<gqi:measureId><a>" + "x" * 200 + "</a></gqi:measureId>"),
    # Past the element limit: refused while parsing, before the schema could record an error per element.
    "an unknown element everywhere": (_before_first_id, "<gqi:foo/>"),
    "one measureId with many children": (_before_first_id, "<gqi:measureId>" + "<a/>" * 400 + "</gqi:measureId>"),
    "deep headers declaring namespaces": (_in_header, _NESTED),
}


def _sized(shape: str, times: int) -> bytes:
    """The shape at ``times``/4 of (nearly) the size limit."""
    where, unit = SHAPES[shape]
    k4 = (SIZE_LIMIT - 5_000 - len(BASE)) // (len(unit) + 4)
    return where(unit, k4 * times // 4)


def _pipeline(body: bytes) -> str:
    """What the endpoint does with a body before any database work: parse, split, read."""
    try:
        gqi_request.read(envelope.split(xmlsafe.parse(body, max_depth=64)).payload)
        return "ok"
    except SoapFault as fault:
        return fault.code


def _best_time(body: bytes, rounds: int = 5) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(rounds):  # CPU time of this thread: other jobs on a shared runner do not count
        t = time.thread_time()
        outcome = _pipeline(body)
        best = min(best, time.thread_time() - t)
    return best, outcome


@pytest.mark.parametrize("shape", list(SHAPES))
def test_cost_grows_linearly_and_stays_small_up_to_the_size_limit(shape):
    small, large = _sized(shape, 1), _sized(shape, 4)
    assert len(large) <= SIZE_LIMIT and len(large) > 3.5 * len(small)
    # Linear is about the size ratio (≈ 4); allow noise (2.5×), but the old quadratic cost (15–30× here)
    # fails. Times of a few milliseconds are mostly noise on a shared runner, hence the floor; and a runner
    # busy with other tests can slow one measurement 3×, so the pair is measured again (up to three times)
    # before it counts as a failure: a quadratic cost fails every time.
    ratio = len(large) / len(small)
    for _ in range(3):
        t1, out1 = _best_time(small)
        t4, out4 = _best_time(large)
        assert out1 == out4
        if t4 < max(2.5 * ratio * t1, 0.05):
            break
    assert t4 < max(2.5 * ratio * t1, 0.05), f"{shape}: {t1:.4f} s at {len(small)} B, {t4:.4f} s at {len(large)} B"
    # The goal is 0.1 s at the size limit (measured: ≤ 0.06 s of CPU); twice that leaves room for a slower
    # runner. The old code took 2–20 s here.
    assert t4 < 0.2, f"{shape}: {t4:.3f} s of CPU for {len(large)} bytes"


def test_the_issues_request_is_refused_while_parsing():
    body = BASE.replace(b"<soapenv:Envelope", b"<soapenv:Envelope" + "".join(f' xmlns:n{i}="u:{i}"' for i in range(44_000)).encode(), 1)
    assert 900_000 < len(body) < SIZE_LIMIT
    assert _best_time(body)[1] == "TOO_MANY_NAMESPACES"
    at_limit = BASE.replace(b"<soapenv:Envelope", b"<soapenv:Envelope" + _decls("n", xmlsafe.MAX_NAMESPACES_PER_ELEMENT - 4).encode(), 1)
    assert _pipeline(at_limit) == "ok"


# --- encoding and DTD: what the parser read, wherever it stands (defect 5) ------------------------------

PADDING = " " * 300  # whitespace inside the XML declaration: the old check only looked at the first 200 bytes
AFTER_DECLARATION = BASE.split(b"?>", 1)[1]


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"' + PADDING.encode() + b'encoding="UTF-7"?>' + AFTER_DECLARATION,
        b'<?xml version="1.0"' + PADDING.encode() + b'encoding="ISO-8859-1"?>' + AFTER_DECLARATION,
        b'<?xml version="1.0"' + PADDING.encode() + b'encoding="UTF-16"?>' + AFTER_DECLARATION,
        b"\xef\xbb\xbf" + BASE.decode().replace("UTF-8", "UTF-16").encode("utf-16"),  # UTF-8 BOM, then UTF-16 with its BOM
        b"\xef\xbb\xbf" + BASE.decode().replace("UTF-8", "UTF-16").encode("utf-16-le"),  # UTF-8 BOM, then UTF-16 without
        b"\xef\xbb\xbf" + BASE.decode().encode("utf-16-be"),
    ],
    ids=["utf-7 after 200 bytes", "latin-1 after 200 bytes", "utf-16 declared after 200 bytes", "bom+utf16 bom", "bom+utf16le", "bom+utf16be"],
)
def test_encoding_is_whatever_the_parser_read(body):
    assert _pipeline(body) == "ENCODING"


def test_utf8_with_bom_and_a_padded_utf8_declaration_are_fine():
    assert _pipeline(b"\xef\xbb\xbf" + BASE) == "ok"
    assert _pipeline(b'<?xml version="1.0"' + PADDING.encode() + b'encoding="utf-8"?>' + AFTER_DECLARATION) == "ok"


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE soapenv:Envelope [<!ENTITY x "y">]>',
        '<!--' + "x" * 300 + '--><!DOCTYPE soapenv:Envelope SYSTEM "http://example.invalid/x.dtd">',
        '<!DOCTYPE soapenv:Envelope [<!ENTITY % p "<!ENTITY q \'x\'>"> %p;]>',
    ],
)
def test_a_document_type_declaration_is_refused_by_the_parser(prolog):
    body = b'<?xml version="1.0" encoding="UTF-8"?>' + prolog.encode() + AFTER_DECLARATION
    assert _pipeline(body) == "DTD_FORBIDDEN"


def test_the_word_doctype_in_text_is_no_declaration():
    """A byte search refused this; the parser knows it is only text."""
    body = BASE.replace(b"<soapenv:Body>", b"<soapenv:Body><!-- <!DOCTYPE x> <!ENTITY y> -->", 1)
    assert _pipeline(body) == "ok"


def test_over_http_the_endpoint_answers_the_bypasses_with_an_encoding_fault(tmp_path):
    ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    try:
        client = TestClient(create_app(ctx=ctx), raise_server_exceptions=False)
        body = b'<?xml version="1.0"' + PADDING.encode() + b'encoding="UTF-7"?>' + AFTER_DECLARATION
        code, _ = sc.fault(sc.post(client, body), "Client")
        assert code == "ENCODING"
    finally:
        ctx.engine.dispose()
