"""The contract's test cases: Testprotokoll v2 1.1–1.7 and 2.1–2.7, and the SoapUI suite's TestCase1/TestCase2.

Every answer in every case is also checked on the wire, against the project's schema (and the official XSD
and Schematron when a contract package is given) and against every rule one answer can show (checks.py; listed
in docs/connection.md): a content rule fails both its own case (1.1–1.7) and the case that asked, so a producer
cannot pass by being right only in the answer a case was written for. A case passes only when all of it holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from . import checks
from .schemas import OfficialPackage, project_xsd, schematron_errors, xsd_errors
from .soap import SOAP_ENV, Client, Exchange, Query


@dataclass
class Plan:
    logical_address: str
    measures: tuple[str, ...]
    start: str
    end: str
    empty_start: str = "19000101"
    empty_end: str = "19001231"
    invalid_measure: str = "0-INDIKERA-OGILTIG"
    threshold: float | None = None
    reporting_system: str | None = None  # expected reportingSystem/hsaId (default: the logical address)
    reporting_organization: str | None = None


@dataclass
class CaseResult:
    id: str
    title: str
    expected: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


TITLES = {
    "1.1": ("Ett och endast ett mått per measurement",
            "proportionMeasure, continuousVariableMeasure, cohortMeasure eller missingMeasure – exakt ett"),
    "1.2": ("PerformingOrganization korrekt ifyllt",
            "Land/Län/Kommun/Sjukhus/Vårdenhet med rätt id, OID och asOrganizationPartOf (1.2.1–1.2.6); sourceSystem-OID"),
    "1.3": ("En organisation en gång per measurePeriod och indikator", "Inga dubbletter av (measureId, measurePeriod, organisation)"),
    "1.4": ("Täckningsgrad mellan 0 och 1", "coverage (och rate) i [0, 1]; rate = numerator/denominator"),
    "1.5": ("Konfidensintervall", "0 ≤ lägre ≤ värdet ≤ övre"),
    "1.6": ("missingMeasure för värden under tröskel eller noll fall", "MSK/INV/UNK/NI; ingen nämnare eller mätpopulation = 0"),
    "1.7": ("measureId är en indikator i katalogen", "root = 1.2.826.0.1.3680043.9.4672.7, extension satt, en efterfrågad indikator"),
    "2.1": ("1 giltig measureId, period med värden, includeMeasurements=true",
            "measurementChecksum satt; measurement för 1 indikator; reportingPeriod = perioden för mätvärdena; reportingSystem och reportingOrganization"),
    "2.2": ("Flera giltiga measureId, period med värden, includeMeasurements=true",
            "measurementChecksum = samma som 2.5; measurement för flera indikatorer; reportingPeriod = perioden för mätvärdena"),
    "2.3": ("Flera giltiga measureId, period utan värden, includeMeasurements=true",
            "measurementChecksum = samma som 2.4; inga measurement; reportingPeriod = den inskickade perioden"),
    "2.4": ("Flera giltiga measureId, period utan värden, includeMeasurements=false",
            "measurementChecksum = samma som 2.3; inga measurement; reportingPeriod = den inskickade perioden"),
    "2.5": ("Samma som 2.2 utan mätvärden",
            "measurementChecksum = samma som 2.2; inga measurement (includeMeasurements=false); utelämnat element ger mätvärden (standard true)"),
    "2.6": ("1 ogiltigt measureId", "measurementChecksum = samma som 2.3; inga measurement; inget SOAP-fel"),
    "2.7": ("Giltiga measureId från 2.2 och 1 ogiltigt", "Samma resultat som 2.2"),
    "TestCase1": ("SoapUI TestCase1: svar med mätvärden", "Giltigt SOAP-svar, schemaenligt, inget SOAP-fel, Schematron godkänd"),
    "TestCase2": ("SoapUI TestCase2: endast measurementChecksum", "Giltigt SOAP-svar, schemaenligt, inget SOAP-fel, inga measurement"),
}
ORDER = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "TestCase1", "TestCase2")


CONTENT_CASES = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")


class Runner:
    def __init__(self, client: Client, plan: Plan, official: OfficialPackage | None = None,
                 progress: Callable[[str], None] | None = None):
        self.client, self.plan, self.official = client, plan, official
        self.progress = progress or (lambda _case: None)
        # identical question + answer (2.2/2.7, 2.1/TestCase1) is judged once
        self._verdicts: dict[bytes, tuple[list[str], dict[str, list[str]]]] = {}
        # content rules (1.1–1.7) found in any answer: finding → the cases whose answers showed it
        self._content: dict[str, dict[str, list[str]]] = {k: {} for k in CONTENT_CASES}
        self.answers_with_measurements = 0

    # --- one answer: wire, schemas and every rule an answer can show -------------------------------------
    def answer_errors(self, ex: Exchange) -> list[str]:
        return list(self._verdict(ex)[0])

    def _verdict(self, ex: Exchange) -> tuple[list[str], dict[str, list[str]]]:
        q = ex.query
        key = hashlib.sha256(f"{q}|{ex.status}|{ex.content_type}|{ex.error}|".encode() + ex.body).digest()
        if key not in self._verdicts:
            content = checks.content(ex, set(q.measures), self.plan.threshold) if ex.report is not None else {}
            self._verdicts[key] = (self._judge(ex), content)
        return self._verdicts[key]

    def _judge(self, ex: Exchange) -> list[str]:
        out = checks.wire(ex)
        if ex.report is None:
            return out
        # the first element of Body: a comment or processing instruction before it is a finding, not the payload
        payload = next(ex.root.find(f"{{{SOAP_ENV}}}Body").iterchildren(etree.Element))
        schema = project_xsd()
        if schema is not None:
            out += [f"projektets XSD: {e}" for e in xsd_errors(schema, payload)]
        if self.official is not None:
            out += [f"officiell XSD: {e}" for e in xsd_errors(self.official.xsd, payload)]
            if self.official.schematron is not None:
                out += [f"constraints.sch: {e}" for e in schematron_errors(self.official.schematron, ex.root)]
        out += checks.report_rules(ex, (ex.query.start, ex.query.end), ex.query.include)
        return out + self._identity(ex)

    def _ask(self, result: CaseResult, q: Query) -> Exchange:
        ex = self.client.call(q)
        result.exchanges.append(ex)
        tag = f"svar {len(result.exchanges)}: " if len(result.exchanges) > 1 else ""
        own, content = self._verdict(ex)
        result.failures += [tag + e for e in own]
        self.answers_with_measurements += bool(ex.measurements)
        for case, found in content.items():  # a content rule fails its own case (1.x) and the case that asked
            result.failures += [f"{tag}regel {case}: {e}" for e in found]
            for e in found:
                self._content[case].setdefault(e, []).append(result.id)
        return ex

    def _identity(self, ex: Exchange) -> list[str]:
        out = []
        expected = (self.plan.reporting_system or self.plan.logical_address).upper()
        actual = ex.text("qr:reportingSystem/qr:hsaId")
        if (actual or "").upper() != expected:
            out.append(f"[R7] reportingSystem/hsaId är {actual!r}, förväntat {expected} (systemet som adresserades)")
        org = ex.text("qr:reportingOrganization/qr:hsaId")
        if not org:
            out.append("[R8] reportingOrganization/hsaId saknas")
        elif self.plan.reporting_organization and org.upper() != self.plan.reporting_organization.upper():
            out.append(f"[R8] reportingOrganization/hsaId är {org!r}, förväntat {self.plan.reporting_organization}")
        return out

    def _expect(self, result: CaseResult, ok: bool, message: str) -> None:
        if not ok:
            result.failures.append(message)

    # --- the suite --------------------------------------------------------------------------------------
    def run(self) -> list[CaseResult]:
        p = self.plan
        all_ids, first = p.measures, p.measures[:1]
        full, empty = (p.start, p.end), (p.empty_start, p.empty_end)
        r: dict[str, CaseResult] = {k: CaseResult(k, *TITLES[k]) for k in ORDER}

        self.progress("2.1")
        ex21 = self._ask(r["2.1"], Query(first, *full, True))
        self._expect(r["2.1"], bool(ex21.checksum), "measurementChecksum saknas")
        self._expect(r["2.1"], bool(ex21.measurements), f"inga measurement för {first[0]} {p.start}–{p.end} (välj en period med värden)")

        self.progress("2.2")
        ex22 = self._ask(r["2.2"], Query(all_ids, *full, True))
        self._expect(r["2.2"], bool(ex22.checksum), "measurementChecksum saknas")
        self._expect(r["2.2"], bool(ex22.measurements), "inga measurement")
        returned = checks.measure_ids(ex22)
        if len(all_ids) > 1:
            self._expect(r["2.2"], len(returned) > 1, f"measurement för bara {sorted(returned)} av {list(all_ids)}")
        else:
            r["2.2"].notes.append("Bara en indikator angavs (--measure); flera indikatorer prövades inte.")
        n21, n22 = len(ex21.measurements), sum(1 for m in ex22.measurements if m.findtext(checks.Q + "measureId/" + checks.Q + "extension") == first[0])
        self._expect(r["2.2"], n21 == n22, f"[X1] {n22} measurement för {first[0]} här, {n21} i 2.1 (samma indikator och period)")
        if ex22.measurements and len(ex22.measurements) != n21:
            self._expect(r["2.2"], ex22.checksum != ex21.checksum,
                         f"[C5] measurementChecksum {ex22.checksum!r} är samma som i 2.1 fast svaren har olika measurement")

        self.progress("2.3")
        ex23 = self._ask(r["2.3"], Query(all_ids, *empty, True))
        self.progress("2.4")
        ex24 = self._ask(r["2.4"], Query(all_ids, *empty, False))
        for case, ex, other in (("2.3", ex23, ex24), ("2.4", ex24, ex23)):
            self._expect(r[case], not ex.measurements, f"{len(ex.measurements)} measurement för en period utan värden ({empty[0]}–{empty[1]})")
            self._expect(r[case], ex.period == empty, f"reportingPeriod {ex.period} ≠ den inskickade perioden {empty}")
            self._expect(r[case], bool(ex.checksum) and ex.checksum == other.checksum,
                         f"[C3] measurementChecksum {ex.checksum!r} ≠ {other.checksum!r} i {'2.4' if case == '2.3' else '2.3'}")
        if not ex23.measurements:
            finding = checks.empty_checksum_finding(ex23.checksum)
            self._expect(r["2.3"], finding is None, finding or "")
        if ex22.measurements:
            self._expect(r["2.2"], ex22.checksum != ex23.checksum,
                         f"[C5] measurementChecksum {ex22.checksum!r} är samma som för svaret utan measurement i 2.3")

        self.progress("2.5")
        ex25 = self._ask(r["2.5"], Query(all_ids, *full, False))
        self._expect(r["2.5"], bool(ex25.checksum) and ex25.checksum == ex22.checksum,
                     f"[C2] measurementChecksum {ex25.checksum!r} ≠ {ex22.checksum!r} i 2.2 (kontrollsumman får inte bero på includeMeasurements)")
        self._expect(r["2.5"], ex25.period == ex22.period, f"reportingPeriod {ex25.period} ≠ {ex22.period} i 2.2")
        ex25b = self._ask(r["2.5"], Query(all_ids, *full, None))
        self._expect(r["2.5"], len(ex25b.measurements) == len(ex22.measurements),
                     f"utelämnat includeMeasurements gav {len(ex25b.measurements)} measurement, 2.2 gav {len(ex22.measurements)} (standard är true)")
        self._expect(r["2.5"], ex25b.checksum == ex22.checksum, f"[C1] utelämnat includeMeasurements: checksum {ex25b.checksum!r} ≠ 2.2")

        self.progress("2.6")
        ex26 = self._ask(r["2.6"], Query((p.invalid_measure,), *full, None))
        self._expect(r["2.6"], not ex26.measurements, f"{len(ex26.measurements)} measurement för ett ogiltigt measureId")
        self._expect(r["2.6"], bool(ex26.checksum) and ex26.checksum == ex23.checksum, f"[C3] measurementChecksum {ex26.checksum!r} ≠ {ex23.checksum!r} i 2.3")

        self.progress("2.7")
        ex27 = self._ask(r["2.7"], Query(all_ids + (p.invalid_measure,), *full, None))
        self._expect(r["2.7"], ex27.checksum == ex22.checksum, f"[C1] measurementChecksum {ex27.checksum!r} ≠ {ex22.checksum!r} i 2.2")
        self._expect(r["2.7"], len(ex27.measurements) == len(ex22.measurements) and checks.measure_ids(ex27) == returned,
                     f"{len(ex27.measurements)} measurement ({sorted(checks.measure_ids(ex27))}), 2.2 gav {len(ex22.measurements)} ({sorted(returned)})")
        self._expect(r["2.7"], ex27.period == ex22.period, f"reportingPeriod {ex27.period} ≠ {ex22.period} i 2.2")

        self.progress("TestCase1")
        tc1 = self._ask(r["TestCase1"], Query(first, *full, True))
        self._expect(r["TestCase1"], bool(tc1.measurements), "inga measurement (TestCase1 kräver en period med värden)")
        self._expect(r["TestCase1"], tc1.checksum == ex21.checksum, f"[C1] measurementChecksum {tc1.checksum!r} ≠ {ex21.checksum!r} för samma fråga i 2.1")
        if self.official is None or self.official.schematron is None:
            r["TestCase1"].notes.append("constraints.sch: ersatt av projektets regler (ange --contract-dir för den officiella).")
        self.progress("TestCase2")
        tc2 = self._ask(r["TestCase2"], Query(first, *full, False))
        self._expect(r["TestCase2"], not tc2.measurements, f"exists(//urn1:measurement) är sant ({len(tc2.measurements)} st)")
        self._expect(r["TestCase2"], tc2.checksum == ex21.checksum, f"[C2] measurementChecksum {tc2.checksum!r} ≠ {ex21.checksum!r} i 2.1 (samma fråga med mätvärden)")

        # 1.1–1.7: the content rules, over every answer received (evidence: the complete report of 2.2)
        self.progress("1.x")
        for case in CONTENT_CASES:
            res = r[case]
            res.exchanges.append(ex22)
            res.notes.append(f"Granskat: alla {self.answers_with_measurements} svar med measurement (2.2 gav {len(ex22.measurements)}).")
            if not self.answers_with_measurements:
                res.failures.append("inget att granska: inget svar innehöll measurement")
            res.failures += [f"{e} (svar i {', '.join(dict.fromkeys(asked))})" for e, asked in self._content[case].items()]
        r["1.6"].notes.append("Visningströskel: " + (f"{p.threshold}" if p.threshold is not None else "okänd (ange --threshold); bara noll-fall (INV) prövades"))
        r["1.7"].notes.append("Att indikatorn finns i Kvalitetsindikatorkatalogen prövas inte här (kräver katalogen); OID, extension, version och att den efterfrågades prövas.")
        return [r[k] for k in ORDER]
