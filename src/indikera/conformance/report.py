"""The conformance report (JSON, Markdown, HTML): underlag för självdeklarationen.

Each case with pass/fail, what failed, and evidence (request, answer excerpt, status, timing); the environment
and the certificates used. The JSON is the source; Markdown and HTML are renderings of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from .cases import CaseResult

EXCERPT_CHARS = 3000


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + f"\n… ({len(text)} tecken totalt)"


def to_dict(results: list[CaseResult], meta: dict[str, Any]) -> dict[str, Any]:
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
    return {
        **meta,
        "summary": {"cases": len(results), "passed": passed, "failed": len(results) - passed,
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
        f"**Resultat:** {'GODKÄND' if s['failed'] == 0 else 'UNDERKÄND'} — {s['passed']} av {s['cases']} testfall godkända"
        + (f"; underkända: {', '.join(s['failedCases'])}" if s["failedCases"] else "") + ".",
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
<p class="{{ 'ok' if s.failed == 0 else 'fail' }}">{{ 'GODKÄND' if s.failed == 0 else 'UNDERKÄND' }}: {{ s.passed }} av {{ s.cases }} testfall godkända{% if s.failedCases %} (underkända: {{ s.failedCases|join(', ') }}){% endif %}.</p>
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


def write(doc: dict[str, Any], directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "conformance-report.json", "md": directory / "conformance-report.md",
             "html": directory / "conformance-report.html"}
    paths["json"].write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["md"].write_text(markdown(doc), encoding="utf-8")
    paths["html"].write_text(html(doc), encoding="utf-8")
    return paths
