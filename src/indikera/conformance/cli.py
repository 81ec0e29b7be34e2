"""``indikera conformance run URL --logical-address HSAID --measure ID …``: the contract's tests, with a report."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..rivta import QUALITYREPORTING_DEFAULT_BASE, SERVICE_CONSUMER_HEADER, soap_path

conformance_app = typer.Typer(help="Kontraktets tester mot valfri GetQualityIndicators v2-producent, med rapport. "
                                   "(The contract's tests against any producer, with a report.)", no_args_is_help=True)
err = Console(stderr=True)
DATE = re.compile(r"^(19|20)\d\d(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])$")


def _date(value: str, option: str) -> str:
    value = value.replace("-", "")
    if not DATE.match(value):
        err.print(f"[red]{option}: {value!r} är inget datum ÅÅÅÅMMDD.[/red] (Not a YYYYMMDD date.)")
        raise typer.Exit(2)
    return value


@conformance_app.command("run")
def run(
    url: Annotated[str, typer.Argument(help=f"Tjänsteadressen, t.ex. https://host{soap_path(QUALITYREPORTING_DEFAULT_BASE)} (eller VP:s adress). "
                                            "(The endpoint, or the VP address.)")],
    logical_address: Annotated[str, typer.Option("--logical-address", help="LogicalAddress (producentsystemets HSA-id). "
                                                                           "(LogicalAddress, the producer system's HSA-id.)")],
    measure: Annotated[list[str], typer.Option("--measure", help="Ett giltigt indikator-id (KIK-extension); upprepa för flera. "
                                                                 "(A valid indicator id; repeat for several.)")],
    start: Annotated[Optional[str], typer.Option("--start", help="Period med värden, start (ÅÅÅÅMMDD; standard 1 jan för fem år sedan). "
                                                                "(Period with values, start; YYYYMMDD.)")] = None,
    end: Annotated[Optional[str], typer.Option("--end", help="Period med värden, slut (standard 31 dec förra året). "
                                                            "(Period with values, end; default 31 Dec last year.)")] = None,
    empty_start: Annotated[str, typer.Option("--empty-start", help="Period utan värden, start. (Period without values, start.)")] = "19000101",
    empty_end: Annotated[str, typer.Option("--empty-end", help="Period utan värden, slut. (Period without values, end.)")] = "19001231",
    invalid_measure: Annotated[str, typer.Option("--invalid-measure", help="Ett id som inte är någon indikator (2.6, 2.7). "
                                                                           "(An id that is no indicator.)")] = "0-INDIKERA-OGILTIG",
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Visningsgräns för fall 1.6 (MSK). (Display threshold for case 1.6.)")] = None,
    reporting_system: Annotated[Optional[str], typer.Option("--reporting-system", help="Förväntat reportingSystem/hsaId (standard: den logiska "
                                                                                      "adressen). (Expected reportingSystem/hsaId.)")] = None,
    reporting_organization: Annotated[Optional[str], typer.Option("--reporting-organization", help="Förväntat reportingOrganization/hsaId. "
                                                                                                  "(Expected reportingOrganization/hsaId.)")] = None,
    contract_dir: Annotated[Optional[Path], typer.Option("--contract-dir", help="Det officiella kontraktspaketet: validera även mot dess XSD och "
                                                                                "constraints.sch. (Official contract package: also validate with it.)")] = None,
    cert: Annotated[Optional[Path], typer.Option("--cert", help="Klientcertifikat (PEM). (Client certificate, PEM.)")] = None,
    key: Annotated[Optional[Path], typer.Option("--key", help="Dess privata nyckel. (Its private key.)")] = None,
    ca: Annotated[Optional[Path], typer.Option("--ca", help="CA-fil för serverns certifikat. (CA bundle for the server's certificate.)")] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="Kontrollera inte serverns certifikat (bara egen testmaskin). "
                                                              "(Do not verify the server's certificate; own test machine only.)")] = False,
    consumer_hsa_id: Annotated[Optional[str], typer.Option("--consumer-hsa-id", help=f"Skicka {SERVICE_CONSUMER_HEADER} som SoapUI-sviten gör. "
                                                                                     "(Send that header, as the SoapUI suite does.)")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Sekunder per anrop (VP:s standard mot producenter är 29). "
                                                             "(Seconds per call; VP's default is 29.)")] = 29.0,
    out: Annotated[Path, typer.Option("--out", help="Katalog för rapporten (HTML, JSON, Markdown, JUnit XML). "
                                                    "(Directory for the report.)")] = Path("conformance-report"),
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Skriv även JUnit XML hit, för egen CI. (Also write JUnit XML to this file, for your own CI.)")] = None,
    manual: Annotated[Optional[list[str]], typer.Option("--manual", help="Manuellt steg som är gjort: ID=underlag, t.ex. 3.1=\"Inera ärende 123\". "
                                                       "(A manual step that is done: ID=evidence.)")] = None,
) -> None:
    """Kör Testprotokoll 1.1–1.7, 2.1–2.7 och SoapUI TestCase1/2; skriv rapporten; slutkod 1 vid fel. (Run the contract's tests.)"""
    from .cases import ORDER, Plan
    from .report import write
    from .runner import run as run_suite

    today = date.today()
    done: dict[str, str] = {}
    for item in manual or []:
        step, sep, note = item.partition("=")
        if not sep or not note.strip():
            err.print(f"[red]--manual {item!r}: skriv ID=underlag.[/red] (Write ID=evidence.)")
            raise typer.Exit(2)
        done[step.strip()] = note.strip()
    if (cert is None) != (key is None):
        err.print("[red]--cert och --key anges tillsammans.[/red]")
        raise typer.Exit(2)
    plan = Plan(
        logical_address=logical_address, measures=tuple(dict.fromkeys(measure)),
        start=_date(start or f"{today.year - 5}0101", "--start"), end=_date(end or f"{today.year - 1}1231", "--end"),
        empty_start=_date(empty_start, "--empty-start"), empty_end=_date(empty_end, "--empty-end"),
        invalid_measure=invalid_measure, threshold=threshold, reporting_system=reporting_system,
        reporting_organization=reporting_organization,
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    steps = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "TestCase1", "TestCase2", "1.x"]
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True) as bar:
            task = bar.add_task("Testfall", total=len(steps))

            def progress(case: str) -> None:
                bar.update(task, description=f"Testfall {case}", completed=steps.index(case))

            results, doc = run_suite(url, plan, cert=cert, key=key, ca=ca, verify=not insecure, contract_dir=contract_dir,
                                     timeout=timeout, consumer_hsa_id=consumer_hsa_id, progress=progress, manual=done)
    except (ValueError, OSError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    paths = write(doc, out, junit_file=junit)
    table = Table(title=f"GetQualityIndicators v2 – {url}")
    for col in ("Nr", "Testfall", "Resultat", "Första felet"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.id, r.title, "[green]godkänt[/green]" if r.passed else "[red]underkänt[/red]", r.failures[0] if r.failures else "")
    err.print(table)
    s = doc["summary"]
    err.print(f"{s['passed']} av {len(ORDER)} godkända. Rapport: {paths['html']}, {paths['md']}, {paths['json']}, {paths['junit']}")
    if s["manualPending"]:
        err.print(f"Manuella steg kvar: {', '.join(s['manualPending'])} (se rapporten).")
    if not s["approved"]:
        err.print(f"[red]Underkända testfall: {', '.join(s['failedCases'])}[/red]")
        raise typer.Exit(1)
