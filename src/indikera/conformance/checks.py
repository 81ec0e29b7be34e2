"""Checks on answers: the wire (SOAP 1.1 envelope, no comments), and the content rules of the test protocol
(1.1–1.7), which include everything constraints.sch asserts plus what it only states as comments."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from datetime import date, datetime

from lxml import etree

from .soap import CORE_NS, KIK_ROOT, NSMAP, SOAP_ENV, Exchange

Q = f"{{{CORE_NS}}}"
MEASURE_TYPES = ("proportionMeasure", "continuousVariableMeasure", "cohortMeasure", "missingMeasure")
REASON_CODES = {"MSK", "INV", "UNK", "NI"}
OID = {"Land": "1.2.752.129.2.2.1.19", "Lan": "1.2.752.129.2.2.1.18", "Kommun": "1.2.752.129.2.2.1.17",
       "Sjukhus": "1.2.826.0.1.3680043.9.4672.5"}
PARENTS = {"Vardenhet": {"Lan", "Kommun", "Sjukhus"}, "Kommun": {"Lan"}, "Sjukhus": {"Lan"}, "Lan": {"Land"},
           "Sjukvardsregion": {"Land"}, "Land": set()}
SOURCE_ROOTS = {"1.2.752.129.2.1.2.1", "1.2.752.129.2.1.4.1"}
DATE = re.compile(r"^\d{8}$")


def wire(ex: Exchange) -> list[str]:
    """A well-formed, comment-free SOAP 1.1 GetQualityIndicatorsResponse with HTTP 200 and text/xml."""
    if ex.error:
        return [f"inget svar: {ex.error}"]
    out = []
    if ex.status != 200:
        out.append(f"HTTP-status {ex.status}, förväntat 200")
    if not ex.content_type.lower().startswith("text/xml"):
        out.append(f"Content-Type {ex.content_type!r}, förväntat text/xml (SOAP 1.1)")
    if ex.parse_error:
        return out + [ex.parse_error]
    root = ex.root
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        return out + [f"rotelementet är {root.tag}, inte ett SOAP 1.1-kuvert"]
    fault = root.find("soap:Body/soap:Fault", NSMAP)
    if fault is not None:
        return out + [f"SOAP-fel: {fault.findtext('faultcode')} {fault.findtext('faultstring')}"]
    if ex.report is None:
        out.append("svaret saknar GetQualityIndicatorsResponse/AggregatedQualityReport")
    comments = root.xpath("//comment()")
    if comments:
        out.append(f"svaret innehåller {len(comments)} XML-kommentar(er) (konsumenter som zeep klarar inte det)")
    if root.xpath("//processing-instruction()"):
        out.append("svaret innehåller processing instructions")
    if ex.checksum is not None and not ex.checksum.strip():
        out.append("measurementChecksum är tom")
    return out


def _f(el: etree._Element | None, name: str) -> float | None:
    if el is None:
        return None
    text = el.findtext(Q + name)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _org_key(org: etree._Element) -> tuple:
    return (org.findtext(Q + "organizationType"), org.findtext(Q + "hsaId"), org.findtext(Q + "organizationId/" + Q + "root"),
            org.findtext(Q + "organizationId/" + Q + "extension"))


def organisation(org: etree._Element, where: str) -> list[str]:
    """Testprotokoll 1.2 (and constraints.sch Verify_Organization) for one organisation and its parents."""
    out = []
    kind = org.findtext(Q + "organizationType")
    name = org.findtext(Q + "organizationName")
    hsa = org.findtext(Q + "hsaId")
    oid_root = org.findtext(f"{Q}organizationId/{Q}root")
    oid_ext = org.findtext(f"{Q}organizationId/{Q}extension")
    parent = org.find(Q + "asOrganizationPartOf")
    here = f"{where}: {kind} {name!r}"
    if kind not in PARENTS:
        return [f"{here}: okänd organizationType"]
    if not (name or "").strip():
        out.append(f"{here}: organizationName saknas (krävs när enheten identifieras med organizationId)")
    if kind in ("Land", "Lan", "Kommun", "Sjukvardsregion") and hsa:
        out.append(f"{here}: hsaId anges inte för {kind} (identifieras med organizationId, TKB 6.1.2)")
    if kind == "Land":
        if (oid_root, oid_ext) != (OID["Land"], "SE"):
            out.append(f"{here}: organizationId ska vara {OID['Land']}/SE (1.2.1), är {oid_root}/{oid_ext}")
        if name is not None and name.strip() != "Riket":
            out.append(f"{here}: riksmedelvärdet ska ha organizationName \"Riket\" (1.2.1)")
        if parent is not None:
            out.append(f"{here}: Land får inte ha asOrganizationPartOf (1.2.1)")
    elif kind in ("Lan", "Kommun"):
        digits = 2 if kind == "Lan" else 4
        if oid_root != OID[kind] or not oid_ext:
            out.append(f"{here}: organizationId root ska vara {OID[kind]} med extension (1.2.2/1.2.3), är {oid_root}/{oid_ext}")
        elif not (oid_ext.isdigit() and len(oid_ext) == digits):
            out.append(f"{here}: {'länskod' if kind == 'Lan' else 'kommunkod'} {oid_ext!r} ska vara {digits} siffror (SCB, 1.2.2/1.2.3)")
        if kind == "Kommun" and parent is not None and oid_ext:
            lan = parent.findtext(f"{Q}organizationId/{Q}extension")
            if parent.findtext(Q + "organizationType") == "Lan" and lan and not oid_ext.startswith(lan):
                out.append(f"{here}: kommunkod {oid_ext} ligger inte i län {lan} (kommunkodens två första siffror är länskoden, 1.2.3)")
    elif kind == "Sjukhus":
        if not hsa and not oid_root:
            out.append(f"{here}: hsaId eller organizationId krävs (1.2.4)")
        if oid_root and oid_root != OID["Sjukhus"]:
            out.append(f"{here}: organizationId root ska vara {OID['Sjukhus']} (1.2.4), är {oid_root}")
        if hsa and oid_root:
            out.append(f"{here}: sjukhus med hsaId ska inte ha organizationId (1.2.6)")
    elif kind == "Vardenhet":
        if not hsa:
            out.append(f"{here}: hsaId krävs för vårdenhet (1.2.5)")
        if oid_root:
            out.append(f"{here}: vårdenhet ska inte ha organizationId (1.2.5)")
    elif kind == "Sjukvardsregion" and not oid_root:
        out.append(f"{here}: organizationId krävs")
    if PARENTS[kind]:
        if parent is None:
            out.append(f"{here}: asOrganizationPartOf ({'/'.join(sorted(PARENTS[kind]))}) saknas")
        else:
            ptype = parent.findtext(Q + "organizationType")
            if ptype not in PARENTS[kind]:
                out.append(f"{here}: ingår i {ptype}, ska ingå i {'/'.join(sorted(PARENTS[kind]))}")
    if parent is not None:
        out += organisation(parent, where)
    return out


def content(ex: Exchange, requested: set[str], threshold: float | None = None) -> dict[str, list[str]]:
    """Testprotokoll 1.1–1.7 (plus sourceSystem OIDs and rate = numerator/denominator) → findings per case."""
    found: dict[str, list[str]] = {k: [] for k in ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")}
    seen: Counter = Counter()
    kind_of: dict[str, str] = {}  # measureId → its measure kind (one per indicator: the catalogue's definition)
    version_of: dict[str, str | None] = {}
    periods: dict[tuple, set[tuple[str, str]]] = {}  # (measureId, organisation) → measurePeriods
    for i, m in enumerate(ex.measurements, 1):
        mid_root = _t(m, "measureId/root")
        mid = _t(m, "measureId/extension")
        where = f"measurement {i} ({mid})"
        # 1.7 — measureId: the KIK OID, an extension, and one of the requested indicators; one major version
        if mid_root != KIK_ROOT:
            found["1.7"].append(f"{where}: measureId/root är {mid_root!r}, ska vara {KIK_ROOT}")
        if not mid:
            found["1.7"].append(f"{where}: measureId/extension saknas")
        elif mid not in requested:
            found["1.7"].append(f"{where}: measureId {mid} efterfrågades inte")
        version = _t(m, "measureIdVersionNumber")
        if version is not None and not (version.isdigit() and int(version) >= 1):
            found["1.7"].append(f"{where}: measureIdVersionNumber {version!r} ska vara ett huvudversionsnummer ≥ 1")
        if mid and version_of.setdefault(mid, version) != version:
            found["1.7"].append(f"{where}: measureIdVersionNumber {version} men {version_of[mid]} i ett tidigare measurement för samma indikator")
        # 1.1 — exactly one measure element, of the same kind for every value of one indicator
        kinds = [k for k in MEASURE_TYPES if m.find(Q + k) is not None]
        if len(kinds) != 1:
            found["1.1"].append(f"{where}: {len(kinds)} mått ({', '.join(kinds) or 'inget'}), ska vara exakt ett")
        elif kinds[0] != "missingMeasure" and mid:
            if kind_of.setdefault(mid, kinds[0]) != kinds[0]:
                found["1.1"].append(f"{where}: {kinds[0]} men {kind_of[mid]} i ett tidigare measurement för samma indikator "
                                    "(måttet ska vara den typ katalogen definierar)")
        # 1.2 — organisations
        org = m.find(Q + "performingOrganization")
        if org is None:
            found["1.2"].append(f"{where}: performingOrganization saknas")
        else:
            found["1.2"] += organisation(org, where)
            period = (_t(m, "measurePeriod/start"), _t(m, "measurePeriod/end"))
            key = (mid, period, _org_key(org))
            seen[key] += 1
            if seen[key] == 2:  # 1.3 — one value per organisation, measurePeriod and indicator
                found["1.3"].append(f"{where}: {org.findtext(Q + 'organizationName')!r} förekommer flera gånger för {mid} {period[0]}–{period[1]}")
            if all(_date(d) for d in period) and period[0] <= period[1]:
                found["1.3"] += _overlaps(periods.setdefault((mid, _org_key(org)), set()), period, where)
        src = m.findtext(f"{Q}sourceSystem/{Q}systemId/{Q}root")
        if src not in SOURCE_ROOTS:
            found["1.2"].append(f"{where}: sourceSystem/systemId/root {src!r} ska vara {' eller '.join(sorted(SOURCE_ROOTS))}")
        for kind in kinds:
            el = m.find(Q + kind)
            # 1.4 — coverage (and rate) within [0, 1]
            for name in ("coverage", "rate"):
                v = _f(el, name)
                if v is not None and not (0.0 <= v <= 1.0):
                    found["1.4"].append(f"{where}: {name} = {v} ligger utanför [0, 1]")
            value = {"proportionMeasure": _f(el, "rate"), "continuousVariableMeasure": _f(el, "value"),
                     "cohortMeasure": _f(el, "cohort")}.get(kind)
            # 1.4 — counts and spreads are never negative (TKB 6.1.2: "alltid ett positivt tal")
            for name in ("numerator", "denominator", "measurePopulation", "cohort", "exclusions", "standardDeviation"):
                v = _f(el, name)
                if v is not None and v < 0:
                    found["1.4"].append(f"{where}: {name} = {v} är negativt")
            # 1.5 — confidence interval: 0 ≤ low ≤ value ≤ high
            ci = el.find(Q + "confidenceInterval95percent")
            if ci is not None:
                low, high = _f(ci, "low"), _f(ci, "high")
                if low is None or high is None or low > high or low < 0:
                    found["1.5"].append(f"{where}: konfidensintervall [{low}, {high}]: lägre gräns ska vara ≥ 0 och ≤ övre")
                elif value is not None and not (low <= value + 1e-12 and value <= high + 1e-12):
                    found["1.5"].append(f"{where}: konfidensintervall [{low}, {high}] omsluter inte {value}")
            # 1.6 — missingMeasure instead of 0 (INV) or small (MSK) denominators/populations
            if kind == "missingMeasure":
                code = el.findtext(Q + "reasonCode")
                if code not in REASON_CODES:
                    found["1.6"].append(f"{where}: missingMeasure/reasonCode {code!r} ska vara MSK, INV, UNK eller NI")
            for name in ("denominator", "measurePopulation"):
                n = _f(el, name)
                if n is not None and n == 0:
                    found["1.6"].append(f"{where}: {name} = 0; ska vara missingMeasure med INV")
                elif n is not None and threshold is not None and n < threshold:
                    found["1.6"].append(f"{where}: {name} = {n} under visningsgränsen {threshold}; ska vara missingMeasure med MSK")
            if kind == "proportionMeasure":
                num, den, rate = _f(el, "numerator"), _f(el, "denominator"), _f(el, "rate")
                if num is not None and den and rate is not None and abs(num / den - rate) > 1e-6:
                    found["1.4"].append(f"{where}: rate {rate} ≠ numerator/denominator {num}/{den}")
    return found


def _t(el: etree._Element, path: str) -> str | None:
    """Text of a child path (core namespace), stripped: pretty-printed answers are as good as compact ones."""
    text = el.findtext("/".join(Q + part for part in path.split("/")))
    return None if text is None else text.strip()


def _date(text: str | None) -> date | None:
    try:
        return datetime.strptime(text or "", "%Y%m%d").date() if DATE.match(text or "") else None
    except ValueError:
        return None


def _overlaps(seen: set[tuple[str, str]], period: tuple[str, str], where: str) -> list[str]:
    """TKB 6.1.3: measurePeriods of the same length must not overlap (e.g. 20090101–20111231 and 20110101–20131231)."""
    out = []
    start, end = _date(period[0]), _date(period[1])
    for other in seen:
        o_start, o_end = _date(other[0]), _date(other[1])
        # "same length" with a few days' slack: a leap day or months of 28–31 days do not make periods different
        if other != period and abs((o_end - o_start).days - (end - start).days) <= 3 and o_start <= end and start <= o_end:
            out.append(f"{where}: measurePeriod {period[0]}–{period[1]} överlappar {other[0]}–{other[1]} (samma längd, samma organisation och indikator)")
    seen.add(period)
    return out


def report_rules(ex: Exchange, asked: tuple[str, str], include: bool | None) -> list[str]:
    """The rules on one answer that depend on the question (TKB 6.1.2–6.1.3): periods, dates, includeMeasurements.

    Checked on every answer; the findings belong to the case that asked."""
    if ex.report is None:
        return []
    out = []
    ask_start, ask_end = _date(asked[0]), _date(asked[1])
    rp = ex.period
    rp_start, rp_end = _date(rp[0]), _date(rp[1])
    if ex.checksum is None:
        out.append("[R1] measurementChecksum saknas")
    if rp_start is None or rp_end is None:
        out.append(f"[R2] reportingPeriod {rp[0]}–{rp[1]} är inte två giltiga datum ÅÅÅÅMMDD")
    elif rp_start > rp_end:
        out.append(f"[R2] reportingPeriod börjar {rp[0]}, efter sitt slut {rp[1]}")
    elif ask_start and ask_end and not (ask_start <= rp_start and rp_end <= ask_end):
        out.append(f"[R3] reportingPeriod {rp[0]}–{rp[1]} ligger utanför den efterfrågade perioden {asked[0]}–{asked[1]}")
    if include is False and ex.measurements:
        out.append(f"[R6] {len(ex.measurements)} measurement trots includeMeasurements=false")
    if ex.measurements and span(ex) != rp:
        out.append(f"[R4] reportingPeriod {rp[0]}–{rp[1]} ≠ mätvärdenas samlade period {span(ex)[0]}–{span(ex)[1]}")
    elif include is not False and not ex.measurements and rp != tuple(asked):
        out.append(f"[R5] inga measurement: reportingPeriod {rp[0]}–{rp[1]} ska vara den inskickade perioden {asked[0]}–{asked[1]}")
    for i, m in enumerate(ex.measurements, 1):
        where = f"measurement {i} ({_t(m, 'measureId/extension')})"
        mp = (_t(m, "measurePeriod/start"), _t(m, "measurePeriod/end"))
        start, end = _date(mp[0]), _date(mp[1])
        if start is None or end is None:
            out.append(f"[M1] {where}: measurePeriod {mp[0]}–{mp[1]} är inte två giltiga datum ÅÅÅÅMMDD")
            continue
        if start > end:
            out.append(f"[M1] {where}: measurePeriod börjar {mp[0]}, efter sitt slut {mp[1]}")
        if ask_start and ask_end and not (ask_start <= start and end <= ask_end):
            out.append(f"[M2] {where}: measurePeriod {mp[0]}–{mp[1]} ligger inte helt inom den efterfrågade perioden "
                       f"{asked[0]}–{asked[1]} (endast helt inneslutna mätperioder får returneras)")
        first, last = _t(m, "firstServiceEncounter"), _t(m, "lastServiceEncounter")
        for name, value in (("firstServiceEncounter", first), ("lastServiceEncounter", last)):
            if value is not None and _date(value) is None:
                out.append(f"[M3] {where}: {name} {value!r} är inget giltigt datum ÅÅÅÅMMDD")
        if _date(first) and _date(last) and _date(first) > _date(last):
            out.append(f"[M3] {where}: firstServiceEncounter {first} är efter lastServiceEncounter {last}")
    return out


# measurementChecksum of an answer without measurements: "beräknas på en tom sträng" (TKB 6.1.2). The algorithm is
# the producer's choice; a digest we recognise (hex or base64 of a common hash) must be the empty string's.
_EMPTY = {alg: hashlib.new(alg, b"").digest() for alg in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")}


def empty_checksum_finding(checksum: str | None) -> str | None:
    if not checksum:
        return None
    value = checksum.strip()
    for alg, digest in _EMPTY.items():
        if value.lower() == digest.hex() or value == base64.b64encode(digest).decode():
            return None
    if re.fullmatch(r"[0-9a-fA-F]+", value) and len(value) in {2 * len(d) for d in _EMPTY.values()}:
        algs = [a for a, d in _EMPTY.items() if 2 * len(d) == len(value)]
        return (f"[C4] measurementChecksum {value!r} i ett svar utan measurement är inte {'/'.join(algs)} av en tom sträng "
                "(TKB 6.1.2: checksumman beräknas på en tom sträng)")
    return None


def span(ex: Exchange) -> tuple[str | None, str | None]:
    starts = [_t(m, "measurePeriod/start") for m in ex.measurements]
    ends = [_t(m, "measurePeriod/end") for m in ex.measurements]
    return (min(filter(None, starts), default=None), max(filter(None, ends), default=None))


def measure_ids(ex: Exchange) -> set[str]:
    return {_t(m, "measureId/extension") for m in ex.measurements}
