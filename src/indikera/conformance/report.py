"""The conformance report (JSON, Markdown, HTML): underlag för självdeklarationen.

Each case with pass/fail, what failed, and evidence (request, answer excerpt, status, timing); the environment
and the certificates used. The JSON is the source; Markdown and HTML are renderings of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from lxml import etree

from .cases import CaseResult

EXCERPT_CHARS = 3000


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + f"\n… ({len(text)} tecken totalt)"


# The steps of Testprotokoll v2 no runner can do; the report lists them with their state (``--manual ID=NOTE``
# records one as done, with its evidence, e.g. Inera's ticket number).
MANUAL_STEPS = (
    ("3.1", "Infrastrukturtest: Ineras kundtjänst gör testanrop mot producenten via tjänsteplattformen",
     "Inera svarar att tjänsten fungerar och anropen kommer fram till producenten."),
    ("1.7-katalog", "measureId finns i Kvalitetsindikatorkatalogen",
     "Varje measureId (och version) som svaren innehåller går att hitta i katalogen."),
    ("E2E", "End to end-tester", "Form för testerna ej fastställd (Testprotokoll v2); görs enligt Ineras anvisning."),
)


def manual_steps(done: dict[str, str] | None = None) -> list[dict[str, Any]]:
    done = done or {}
    unknown = set(done) - {sid for sid, _, _ in MANUAL_STEPS}
    if unknown:
        raise ValueError(f"okänt manuellt steg: {', '.join(sorted(unknown))} (unknown manual step; known: "
                         f"{', '.join(sid for sid, _, _ in MANUAL_STEPS)})")
    return [{"id": sid, "title": title, "expected": expected, "done": sid in done,
             "state": "genomfört" if sid in done else "ej genomfört", "note": done.get(sid, "")}
            for sid, title, expected in MANUAL_STEPS]


def to_dict(results: list[CaseResult], meta: dict[str, Any]) -> dict[str, Any]:
    from .cases import ORDER

    cases = []
    for r in results:
        cases.append({
            "id": r.id, "title": r.title, "expected": r.expected, "passed": r.passed,
            "failures": r.failures, "notes": r.notes,
            "evidence": [{
                "request": ex.request.decode("utf-8"),
                "measures": list(ex.query.measures), "period": [ex.query.start, ex.query.end],
                "includeMeasurements": ex.query.include,
                "status": ex.status, "contentType": ex.content_type, "elapsedMs": ex.elapsed_ms,
                "error": ex.error, "measurements": len(ex.measurements), "checksum": ex.checksum,
                "answerExcerpt": _excerpt(ex.body),
            } for ex in r.exchanges],
        })
    passed = sum(1 for r in results if r.passed)
    timings = sorted(ex.elapsed_ms for r in results for ex in r.exchanges)
    manual = meta.pop("manual", None) or manual_steps()
    # Approved only when every automatable case of the suite ran and passed: a short or empty result never is.
    approved = [r.id for r in results] == list(ORDER) and passed == len(ORDER)
    return {
        **meta,
        "manualSteps": manual,
        "summary": {"cases": len(results), "passed": passed, "failed": len(results) - passed,
                    "approved": approved, "verdict": "GODKÄND" if approved else "UNDERKÄND",
                    "manualPending": [m["id"] for m in manual if not m["done"]],
                    "failedCases": [r.id for r in results if not r.passed],
                    "slowestMs": timings[-1] if timings else None,
                    "medianMs": timings[len(timings) // 2] if timings else None},
        "cases": cases,
    }


def markdown(doc: dict[str, Any]) -> str:
    s, env = doc["summary"], doc["environment"]
    lines = [
        "# Konformitetsrapport: GetQualityIndicators v2",
        "",
        f"**Resultat:** {s['verdict']} — {s['passed']} av {s['cases']} automatiska testfall godkända"
        + (f"; underkända: {', '.join(s['failedCases'])}" if s["failedCases"] else "")
        + (f". Manuella steg kvar: {', '.join(s['manualPending'])}" if s["manualPending"] else "") + ".",
        "",
        "## Miljö",
        "",
        "| | |", "|---|---|",
    ]
    for key, label in (("url", "Adress"), ("logicalAddress", "Logisk adress"), ("measures", "Indikatorer"),
                       ("period", "Period"), ("emptyPeriod", "Period utan värden"), ("invalidMeasure", "Ogiltigt measureId"),
                       ("schemas", "Validering"), ("runner", "Körd med")):
        value = env.get(key)
        lines.append(f"| {label} | {', '.join(map(str, value)) if isinstance(value, list) else value} |")
    lines += [f"| Start / slut | {doc['started']} / {doc['finished']} |",
              f"| Svarstider | median {s['medianMs']} ms, längst {s['slowestMs']} ms |", ""]
    for title, cert in (("Klientcertifikat", doc.get("clientCertificate")), ("Serverns certifikat", doc.get("serverCertificate"))):
        if cert:
            lines += [f"## {title}", "", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in cert.items()] + [""]
    lines += ["## Manuella steg", "", "| Nr | Steg | Förväntat utfall | Status |", "|---|---|---|---|"]
    lines += [f"| {m['id']} | {m['title']} | {m['expected']} | {m['state']}{': ' + m['note'] if m['note'] else ''} |"
              for m in doc["manualSteps"]] + [""]
    lines += ["## Testfall", "", "| Nr | Testfall | Resultat |", "|---|---|---|"]
    lines += [f"| {c['id']} | {c['title']} | {'godkänt' if c['passed'] else '**underkänt**'} |" for c in doc["cases"]]
    lines.append("")
    for c in doc["cases"]:
        lines += [f"### {c['id']} {c['title']} — {'godkänt' if c['passed'] else 'UNDERKÄNT'}", "",
                  f"Förväntat utfall: {c['expected']}", ""]
        lines += [f"- ✗ {f}" for f in c["failures"]] + [f"- {n}" for n in c["notes"]]
        for i, ev in enumerate(c["evidence"], 1):
            lines += ["", f"<details><summary>Anrop {i}: {', '.join(ev['measures'])} {ev['period'][0]}–{ev['period'][1]}, "
                          f"includeMeasurements={ev['includeMeasurements']}: HTTP {ev['status']}, {ev['elapsedMs']} ms, "
                          f"{ev['measurements']} measurement</summary>", "", "```xml", ev["request"], "```", "", "```xml",
                      ev["answerExcerpt"] or (ev["error"] or ""), "```", "", "</details>"]
        lines.append("")
    return "\n".join(lines)


_HTML = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Konformitetsrapport GetQualityIndicators v2</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
.ok{color:#0a6b2b;font-weight:600}.fail{color:#b00020;font-weight:600}pre{background:#f5f5f5;padding:.5rem;overflow:auto;white-space:pre-wrap}
</style></head><body>
<h1>Konformitetsrapport: GetQualityIndicators v2</h1>
<p class="{{ 'ok' if s.approved else 'fail' }}">{{ s.verdict }}: {{ s.passed }} av {{ s.cases }} automatiska testfall godkända{% if s.failedCases %} (underkända: {{ s.failedCases|join(', ') }}){% endif %}{% if s.manualPending %}. Manuella steg kvar: {{ s.manualPending|join(', ') }}{% endif %}.</p>
<h2>Manuella steg</h2><table><tr><th>Nr</th><th>Steg</th><th>Förväntat utfall</th><th>Status</th></tr>
{% for m in doc.manualSteps %}<tr><td>{{ m.id }}</td><td>{{ m.title }}</td><td>{{ m.expected }}</td><td>{{ m.state }}{% if m.note %}: {{ m.note }}{% endif %}</td></tr>{% endfor %}</table>
<h2>Miljö</h2><table>
{% for k, v in env.items() %}<tr><th>{{ k }}</th><td>{{ v|join(', ') if v is sequence and v is not string else v }}</td></tr>{% endfor %}
<tr><th>start / slut</th><td>{{ doc.started }} / {{ doc.finished }}</td></tr>
<tr><th>svarstider</th><td>median {{ s.medianMs }} ms, längst {{ s.slowestMs }} ms</td></tr></table>
{% for title, cert in [('Klientcertifikat', doc.clientCertificate), ('Serverns certifikat', doc.serverCertificate)] %}{% if cert %}
<h2>{{ title }}</h2><table>{% for k, v in cert.items() %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>{% endif %}{% endfor %}
<h2>Testfall</h2><table><tr><th>Nr</th><th>Testfall</th><th>Förväntat utfall</th><th>Resultat</th></tr>
{% for c in doc.cases %}<tr><td><a href="#c{{ loop.index }}">{{ c.id }}</a></td><td>{{ c.title }}</td><td>{{ c.expected }}</td>
<td class="{{ 'ok' if c.passed else 'fail' }}">{{ 'godkänt' if c.passed else 'underkänt' }}</td></tr>{% endfor %}</table>
{% for c in doc.cases %}<h3 id="c{{ loop.index }}">{{ c.id }} {{ c.title }} — <span class="{{ 'ok' if c.passed else 'fail' }}">{{ 'godkänt' if c.passed else 'underkänt' }}</span></h3>
<ul>{% for f in c.failures %}<li class="fail">{{ f }}</li>{% endfor %}{% for n in c.notes %}<li>{{ n }}</li>{% endfor %}</ul>
{% for ev in c.evidence %}<details><summary>Anrop {{ loop.index }}: {{ ev.measures|join(', ') }} {{ ev.period[0] }}–{{ ev.period[1] }}, includeMeasurements={{ ev.includeMeasurements }}: HTTP {{ ev.status }}, {{ ev.elapsedMs }} ms, {{ ev.measurements }} measurement</summary>
<pre>{{ ev.request }}</pre><pre>{{ ev.answerExcerpt or ev.error or '' }}</pre></details>{% endfor %}{% endfor %}
</body></html>
"""


def html(doc: dict[str, Any]) -> str:
    template = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string(_HTML)
    return template.render(doc=doc, s=doc["summary"], env=doc["environment"])


def junit(doc: dict[str, Any]) -> bytes:
    """JUnit XML (the common CI format): one testcase per case, failures as <failure>, manual steps as <skipped>."""
    s = doc["summary"]
    pending = s["manualPending"]
    suite = etree.Element("testsuite", name="GetQualityIndicators v2 (Testprotokoll v2)", tests=str(s["cases"] + len(doc["manualSteps"])),
                          failures=str(s["failed"]), errors="0", skipped=str(len(pending)), timestamp=doc["started"],
                          time=f"{sum(ev['elapsedMs'] for c in doc['cases'] for ev in c['evidence']) / 1000:.3f}")
    props = etree.SubElement(suite, "properties")
    for key in ("url", "logicalAddress", "period"):
        etree.SubElement(props, "property", name=key, value=str(doc["environment"].get(key)))
    etree.SubElement(props, "property", name="verdict", value=s["verdict"])
    for c in doc["cases"]:
        case = etree.SubElement(suite, "testcase", classname="conformance.testprotokoll", name=f"{c['id']} {c['title']}",
                                time=f"{sum(ev['elapsedMs'] for ev in c['evidence']) / 1000:.3f}")
        if not c["passed"]:
            failure = etree.SubElement(case, "failure", message=c["failures"][0][:500], type="conformance")
            failure.text = "\n".join(c["failures"])
    for m in doc["manualSteps"]:
        case = etree.SubElement(suite, "testcase", classname="conformance.manual", name=f"{m['id']} {m['title']}", time="0")
        if not m["done"]:
            etree.SubElement(case, "skipped", message=f"manuellt steg, {m['state']}: {m['expected']}")
        elif m["note"]:
            etree.SubElement(case, "system-out").text = m["note"]
    return etree.tostring(etree.ElementTree(suite), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write(doc: dict[str, Any], directory: Path, *, junit_file: Path | None = None) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "conformance-report.json", "md": directory / "conformance-report.md",
             "html": directory / "conformance-report.html", "junit": directory / "conformance-junit.xml"}
    paths["json"].write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["md"].write_text(markdown(doc), encoding="utf-8")
    paths["html"].write_text(html(doc), encoding="utf-8")
    paths["junit"].write_bytes(junit(doc))
    if junit_file is not None:
        junit_file.parent.mkdir(parents=True, exist_ok=True)
        junit_file.write_bytes(paths["junit"].read_bytes())
        paths["junit_file"] = junit_file
    return paths
