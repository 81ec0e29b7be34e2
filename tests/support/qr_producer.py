"""A small, self-contained GetQualityIndicators v2 producer for the conformance runner's self-test.

It answers correctly from a fixed synthetic data set (no database), and ``/mode/<name>/…`` breaks one thing:
its data, the way it builds the answer, or the HTTP exchange. ``GOOD`` modes are correct variants (other
prefixes, pretty-printing, ``xs:any`` extensions, other checksum algorithms) that a runner must accept.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import re
from dataclasses import dataclass, field

from lxml import etree

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CORE = "urn:riv:followup:groupoutcomes:qualityreporting:2"
RESP = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2"
KIK = "1.2.826.0.1.3680043.9.4672.7"
LA = "SE2321000000-SJALVTEST"
ORG = "SE2321000000-REGCENTRUM"
MEASURES = ("10001", "10002", "10003")
PERIOD = ("20230101", "20251231")  # the period with values the self-test asks for


def org(kind, name, *, hsa=None, oid=None, parent=None):
    return {"hsa": hsa, "name": name, "type": kind, "oid": oid, "parent": parent}


RIKET = org("Land", "Riket", oid=("1.2.752.129.2.2.1.19", "SE"))
LAN = org("Lan", "Stockholm", oid=("1.2.752.129.2.2.1.18", "01"), parent=RIKET)
KOMMUN = org("Kommun", "Solna", oid=("1.2.752.129.2.2.1.17", "0184"), parent=LAN)
SJH = org("Sjukhus", "S:t Eriks sjukhus", oid=("1.2.826.0.1.3680043.9.4672.5", "10012"), parent=LAN)
VE1 = org("Vardenhet", "Ögonklinik 3", hsa="SE2321000016-11LT", parent=SJH)
VE2 = org("Vardenhet", "Vårdcentral Solna", hsa="SE2321000016-YYYY", parent=KOMMUN)
SOURCE = ("1.2.752.129.2.1.4.1", "SE2321000000-REGISTER", "Självtestregistret")
KINDS = {"10001": "proportionMeasure", "10002": "continuousVariableMeasure", "10003": "cohortMeasure"}


def values(mid: str, n: int) -> list[tuple[str, object]]:
    if KINDS[mid] == "proportionMeasure":
        return [("rate", 0.5), ("denominator", 20.0 + n), ("numerator", (20.0 + n) / 2),
                ("confidenceInterval95percent", [("low", 0.3), ("high", 0.7)]), ("coverage", 0.9)]
    if KINDS[mid] == "continuousVariableMeasure":
        return [("measurePopulation", 40.0 + n), ("value", 12.5 + n), ("confidenceInterval95percent", [("low", 10.0), ("high", 20.0 + n)])]
    return [("cohort", 7.0 + n), ("exclusions", 1.0)]


def dataset() -> list[dict]:
    out = []
    for mid in MEASURES:
        for y in ("2023", "2024"):
            for n, where in enumerate((RIKET, LAN, VE1, VE2)):
                out.append({"id": mid, "version": "1", "period": (f"{y}0101", f"{y}1231"), "first": None, "last": None,
                            "kind": KINDS[mid], "values": values(mid, n), "org": where, "source": SOURCE})
    out[-1] = {**out[-1], "kind": "missingMeasure", "values": [("reasonCode", "MSK")]}
    return out


@dataclass
class Answer:
    measurements: list[dict]
    period: tuple[str, str]
    checksum: str | None
    system: str = LA
    organisation: str | None = ORG
    extras: dict = field(default_factory=dict)


def digest(items: list[dict], alg: str = "sha256") -> str:
    text = "\n".join(json.dumps(m, sort_keys=True, ensure_ascii=False) for m in items).encode()
    if alg == "sha256-b64":
        return base64.b64encode(hashlib.sha256(text).digest()).decode()
    return hashlib.new(alg, text).hexdigest()


def parse(request: bytes) -> tuple[tuple[str, ...], tuple[str, str], bool | None]:
    root = etree.fromstring(request)
    body = root.find(f"{{{SOAP}}}Body")[0]
    ids = tuple(e.findtext(f"{{{CORE}}}extension") for e in body.findall(f"{{{RESP}}}measureId"))
    period = (body.findtext(f"{{{RESP}}}reportingPeriod/{{{CORE}}}start"), body.findtext(f"{{{RESP}}}reportingPeriod/{{{CORE}}}end"))
    inc = body.findtext(f"{{{RESP}}}includeMeasurements")
    return ids, period, None if inc is None else inc == "true"


def answer(mode: str, ids, period, include, *, alg="sha256") -> Answer:
    data = dataset()
    BREAK_DATA.get(mode, lambda d: None)(data)
    wanted = (lambda m: True) if mode == "unrequested" else (lambda m: m["id"] in ids)
    def inside(m):  # "force": a broken producer that also returns a value merely overlapping the period
        if m.get("force"):
            return min(m["period"]) <= period[1] and period[0] <= max(m["period"])
        return period[0] <= m["period"][0] and m["period"][1] <= period[1]

    matched = [m for m in data if wanted(m) and inside(m)]
    span = (min(m["period"][0] for m in matched), max(m["period"][1] for m in matched)) if matched else tuple(period)
    checksum = digest(matched, alg)
    if mode == "checksum_include" and include is False:
        checksum = digest(matched, "sha1")
    if mode == "checksum_constant":
        checksum = hashlib.sha256(b"alltid samma").hexdigest()
    if mode == "checksum_empty_text" and not matched:
        checksum = hashlib.sha256(b"tom").hexdigest()
    if mode == "checksum_empty_include" and not matched and include is False:
        checksum = hashlib.sha1(b"").hexdigest()
    if mode == "checksum_random":
        checksum = hashlib.sha256(str(next(_COUNTER)).encode()).hexdigest()
    if mode == "rp_echo":
        span = tuple(period)
    if mode == "rp_reversed":
        span = (span[1], span[0])
    if mode == "rp_empty_wrong" and not matched:
        span = ("20000101", "20001231")
    shown = matched if include is not False or mode == "include_ignored" else []
    if mode == "default_false" and include is None:
        shown = []
    return Answer(shown, span, checksum, system="SE2321000000-ANNAT" if mode == "wrong_system" else LA)


_COUNTER = iter(range(10**9))


# --- broken data: one rule of the TKB / information specification / test protocol each ---------------------------
def _each(pred, change):
    def apply(data):
        for m in data:
            if pred(m):
                change(m)
    return apply


def _first(change):
    def apply(data):
        change(data[0])
    return apply


def _set_org(o):
    return _first(lambda m: m.update(org=o))


def _values(**kv):
    return _first(lambda m: m.update(values=[(k, kv.get(k, v)) for k, v in m["values"]]))


BREAK_DATA = {
    "outside": lambda d: d.append({**copy.deepcopy(d[0]), "period": ("20221001", "20230930"), "force": True}),  # issue #17
    "mp_reversed": lambda d: d.append({**copy.deepcopy(d[0]), "period": ("20231231", "20230101"), "org": SJH, "force": True}),
    "bad_date": _first(lambda m: m.update(period=("20231301", "20231231"))),
    "encounters": _first(lambda m: m.update(first="20231120", last="20230310")),
    "land_oid": _set_org({**RIKET, "oid": ("1.2.752.129.2.2.1.19", "SV")}),
    "land_name": _set_org({**RIKET, "name": "Sverige"}),
    "ve_no_parent": _set_org({**VE1, "parent": None}),
    "kommun_wrong_lan": _set_org({**VE2, "parent": {**KOMMUN, "oid": ("1.2.752.129.2.2.1.17", "1280")}}),
    "lan_hsa": _set_org({**LAN, "hsa": "SE2321000016-LAN"}),
    "ve_oid": _set_org({**VE1, "oid": ("1.2.826.0.1.3680043.9.4672.5", "99")}),
    "sjh_both": _set_org({**VE1, "parent": {**SJH, "hsa": "SE2321000016-SJH"}}),
    "source_root": _first(lambda m: m.update(source=("1.2.3.4", "X", "Y"))),
    "duplicate": lambda d: d.append(copy.deepcopy(d[0])),
    "overlap": lambda d: d.append({**copy.deepcopy(d[0]), "period": ("20230701", "20240630")}),
    "two_measures": _first(lambda m: m.update(kind="proportionMeasure+missingMeasure")),
    "mixed_kinds": _first(lambda m: m.update(kind="cohortMeasure", values=[("cohort", 3.0)])),
    "coverage": _values(coverage=1.5),
    "rate": _values(rate=0.8),
    "negative": _first(lambda m: m.update(values=m["values"] + [("exclusions", -2.0)])),
    "ci": _values(confidenceInterval95percent=[("low", 0.6), ("high", 0.7)]),
    "zero_denominator": _values(denominator=0.0, numerator=0.0, rate=0.0),
    "reason_code": _each(lambda m: m["kind"] == "missingMeasure", lambda m: m.update(values=[("reasonCode", "XXX")])),
    "measure_root": _first(lambda m: m.update(root="1.2.826.0.1.3680043.9.4672.8")),
    "version": _first(lambda m: m.update(version="0")),
}


# --- rendering --------------------------------------------------------------------------------------------------
def _num(v) -> str:
    return repr(float(v))


def _org_xml(parent, q, o):
    el = etree.SubElement(parent, q("performingOrganization" if parent.tag.endswith("measurement") else "asOrganizationPartOf"))
    if o["hsa"]:
        etree.SubElement(el, q("hsaId")).text = o["hsa"]
    etree.SubElement(el, q("organizationName")).text = o["name"]
    etree.SubElement(el, q("organizationType")).text = o["type"]
    if o["oid"]:
        oid = etree.SubElement(el, q("organizationId"))
        etree.SubElement(oid, q("root")).text, etree.SubElement(oid, q("extension")).text = o["oid"]
    if o["parent"]:
        _org_xml(el, q, o["parent"])


def _values_xml(parent, q, items):
    for name, value in items:
        if isinstance(value, list):
            _values_xml(etree.SubElement(parent, q(name)), q, value)
        else:
            etree.SubElement(parent, q(name)).text = value if isinstance(value, str) else _num(value)


def render(ans: Answer, mode: str) -> bytes:
    core_prefix = {"good_prefixes": "kvalitet", "good_default_ns": None}.get(mode, "urn1")
    env_ns = SOAP12 if mode == "soap12" else SOAP
    resp_ns = RESP.replace(":2", ":1") if mode == "responder_ns" else RESP
    core_ns = CORE.replace(":2", ":1") if mode == "core_ns" else CORE
    nsmap = {"S" if mode == "good_prefixes" else "soapenv": env_ns, "r" if mode == "good_prefixes" else "urn": resp_ns}
    nsmap[core_prefix] = core_ns
    env = etree.Element(f"{{{env_ns}}}Envelope", nsmap=nsmap)
    etree.SubElement(env, f"{{{env_ns}}}Header")
    body = etree.SubElement(env, f"{{{env_ns}}}Body")
    rep = etree.SubElement(etree.SubElement(body, f"{{{resp_ns}}}GetQualityIndicatorsResponse"), f"{{{resp_ns}}}AggregatedQualityReport")

    def q(name):
        return f"{{{core_ns}}}{name}"

    head = []
    if ans.checksum is not None and mode != "no_checksum":
        cs = etree.Element(q("measurementChecksum"))
        cs.text = "" if mode == "empty_checksum" else ans.checksum
        head.append(cs)
    rp = etree.Element(q("reportingPeriod"))
    etree.SubElement(rp, q("start")).text, etree.SubElement(rp, q("end")).text = ans.period
    head.append(rp)
    if mode == "order":
        head.reverse()
    rep.extend(head)
    rs = etree.SubElement(rep, q("reportingSystem"))
    etree.SubElement(rs, q("hsaId")).text = ans.system
    etree.SubElement(rs, q("name")).text = "Självtest"
    if mode != "no_organisation":
        ro = etree.SubElement(rep, q("reportingOrganization"))
        etree.SubElement(ro, q("hsaId")).text = ans.organisation
    for m in ans.measurements:
        el = etree.SubElement(rep, q("measurement"))
        mid = etree.SubElement(el, q("measureId"))
        etree.SubElement(mid, q("root")).text = m.get("root", KIK)
        etree.SubElement(mid, q("extension")).text = m["id"]
        etree.SubElement(el, q("measureIdVersionNumber")).text = m["version"]
        mp = etree.SubElement(el, q("measurePeriod"))
        etree.SubElement(mp, q("start")).text, etree.SubElement(mp, q("end")).text = m["period"]
        for name in ("first", "last"):
            if m[name]:
                etree.SubElement(el, q(f"{name}ServiceEncounter")).text = m[name]
        for kind in m["kind"].split("+"):
            _values_xml(etree.SubElement(el, q(kind)), q, m["values"] if kind == m["kind"].split("+")[0] else [("reasonCode", "NI")])
        _org_xml(el, q, m["org"])
        src = etree.SubElement(el, q("sourceSystem"))
        sid = etree.SubElement(src, q("systemId"))
        etree.SubElement(sid, q("root")).text, etree.SubElement(sid, q("extension")).text = m["source"][:2]
        etree.SubElement(src, q("name")).text = m["source"][2]
        if mode == "good_extension":  # xs:any namespace="##other": a producer may add its own elements
            etree.SubElement(el, "{urn:example:registry:extra}note").text = "extra"
    if mode == "good_extension":
        etree.SubElement(rep, "{urn:example:registry:extra}generated").text = "2025-01-01T00:00:00"
    text = etree.tostring(env, xml_declaration=True, encoding="UTF-8", pretty_print=mode == "good_pretty")
    if mode == "comment":
        text = re.sub(rb"(<[^>]*AggregatedQualityReport>)", rb"\1<!--You may enter ANY elements at this point-->", text, count=1)
    if mode == "pi":
        text = text.replace(b"<soapenv:Body>", b"<soapenv:Body><?producer debug?>")
    if mode == "doctype":
        text = text.replace(b"?>\n", b'?>\n<!DOCTYPE soapenv:Envelope [<!ENTITY x "y">]>\n', 1)
    return text


def fault(code: str, text: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body><soapenv:Fault>'
            f"<faultcode>soapenv:{code}</faultcode><faultstring>{text}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>").encode()


ALGS = {"good_md5": "md5", "good_sha512": "sha512", "good_base64": "sha256-b64"}


async def app(scope, receive, send):
    """ASGI: ``/mode/<name>/anything`` answers in that mode; any other path answers correctly."""
    assert scope["type"] == "http"
    m = re.match(r"^/mode/([a-z0-9_]+)/", scope["path"])
    mode = m.group(1) if m else "good"
    request = b""
    while True:
        msg = await receive()
        request += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    ids, period, include = parse(request)
    status, ctype = 200, b"text/xml; charset=UTF-8"
    if mode == "slow" and include is True and len(ids) == 1:
        await asyncio.sleep(1.5)  # longer than the runner's timeout in the self-test
    if mode == "fault_invalid" and any(i not in MEASURES for i in ids):
        status, body = 500, fault("Client", "Okänt measureId")
    elif mode == "fault_always":
        status, body = 500, fault("Server", "Internt fel")
    else:
        body = render(answer(mode, ids, period, include, alg=ALGS.get(mode, "sha256")), mode)
    if mode == "http_500":
        status = 500
    if mode == "soap_content_type":
        ctype = b"application/soap+xml; charset=UTF-8"
    if mode == "good_plain_content_type":
        ctype = b"text/xml"
    if mode == "empty_body":
        body = b""
    if mode == "html":
        status, ctype, body = 200, b"text/html", b"<html><body><h1>Service Unavailable</h1><br></body></html>"
    length = len(body) + (500 if mode == "truncated" else 0)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(length).encode())]})
    await send({"type": "http.response.body", "body": body})
