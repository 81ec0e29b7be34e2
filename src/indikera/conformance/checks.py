"""Checks on answers: the wire (SOAP 1.1 envelope, no comments), and the content rules of the test protocol
(1.1–1.7), which include everything constraints.sch asserts plus what it only states as comments."""

from __future__ import annotations

from collections import Counter

from lxml import etree

from .soap import KIK_ROOT, NSMAP, SOAP_ENV, Exchange

Q = "{urn:riv:followup:groupoutcomes:qualityreporting:2}"
MEASURE_TYPES = ("proportionMeasure", "continuousVariableMeasure", "cohortMeasure", "missingMeasure")
REASON_CODES = {"MSK", "INV", "UNK", "NI"}
OID = {"Land": "1.2.752.129.2.2.1.19", "Lan": "1.2.752.129.2.2.1.18", "Kommun": "1.2.752.129.2.2.1.17",
       "Sjukhus": "1.2.826.0.1.3680043.9.4672.5"}
PARENTS = {"Vardenhet": {"Lan", "Kommun", "Sjukhus"}, "Kommun": {"Lan"}, "Sjukhus": {"Lan"}, "Lan": {"Land"},
           "Sjukvardsregion": {"Land"}, "Land": set()}
SOURCE_ROOTS = {"1.2.752.129.2.1.2.1", "1.2.752.129.2.1.4.1"}


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
    if not name:
        out.append(f"{here}: organizationName saknas")
    if kind == "Land":
        if (oid_root, oid_ext) != (OID["Land"], "SE"):
            out.append(f"{here}: organizationId ska vara {OID['Land']}/SE (1.2.1), är {oid_root}/{oid_ext}")
        if parent is not None:
            out.append(f"{here}: Land får inte ha asOrganizationPartOf (1.2.1)")
    elif kind in ("Lan", "Kommun"):
        if oid_root != OID[kind] or not oid_ext:
            out.append(f"{here}: organizationId root ska vara {OID[kind]} med extension (1.2.2/1.2.3), är {oid_root}/{oid_ext}")
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
    for i, m in enumerate(ex.measurements, 1):
        mid_root = m.findtext(f"{Q}measureId/{Q}root")
        mid = m.findtext(f"{Q}measureId/{Q}extension")
        where = f"measurement {i} ({mid})"
        # 1.7 — measureId: the KIK OID, an extension, and one of the requested indicators
        if mid_root != KIK_ROOT:
            found["1.7"].append(f"{where}: measureId/root är {mid_root!r}, ska vara {KIK_ROOT}")
        if not mid:
            found["1.7"].append(f"{where}: measureId/extension saknas")
        elif mid not in requested:
            found["1.7"].append(f"{where}: measureId {mid} efterfrågades inte")
        # 1.1 — exactly one measure element
        kinds = [k for k in MEASURE_TYPES if m.find(Q + k) is not None]
        if len(kinds) != 1:
            found["1.1"].append(f"{where}: {len(kinds)} mått ({', '.join(kinds) or 'inget'}), ska vara exakt ett")
        # 1.2 — organisations
        org = m.find(Q + "performingOrganization")
        if org is None:
            found["1.2"].append(f"{where}: performingOrganization saknas")
        else:
            found["1.2"] += organisation(org, where)
            period = (m.findtext(f"{Q}measurePeriod/{Q}start"), m.findtext(f"{Q}measurePeriod/{Q}end"))
            key = (mid, period, _org_key(org))
            seen[key] += 1
            if seen[key] == 2:  # 1.3 — one value per organisation, measurePeriod and indicator
                found["1.3"].append(f"{where}: {org.findtext(Q + 'organizationName')!r} förekommer flera gånger för {mid} {period[0]}–{period[1]}")
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
            # 1.5 — confidence interval: 0 ≤ low ≤ value ≤ high
            ci = el.find(Q + "confidenceInterval95percent")
            if ci is not None and value is not None:
                low, high = _f(ci, "low"), _f(ci, "high")
                if low is None or high is None or not (0.0 <= low <= value + 1e-12 and value <= high + 1e-12):
                    found["1.5"].append(f"{where}: konfidensintervall [{low}, {high}] omsluter inte {value} eller understiger 0")
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


def span(ex: Exchange) -> tuple[str | None, str | None]:
    starts = [m.findtext(f"{Q}measurePeriod/{Q}start") for m in ex.measurements]
    ends = [m.findtext(f"{Q}measurePeriod/{Q}end") for m in ex.measurements]
    return (min(filter(None, starts), default=None), max(filter(None, ends), default=None))


def measure_ids(ex: Exchange) -> set[str]:
    return {m.findtext(f"{Q}measureId/{Q}extension") for m in ex.measurements}
