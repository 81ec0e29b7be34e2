"""``indikera conformance run URL --logical-address HSAID --measure ID …``: the contract's tests, with a report."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

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
    url: Annotated[str, typer.Argument(help="The endpoint, e.g. https://host/qualityreporting/GetQualityIndicators/2/rivtabp21 (or the VP address).")],
    logical_address: Annotated[str, typer.Option("--logical-address", help="LogicalAddress (the producer system's HSA-id).")],
    measure: Annotated[list[str], typer.Option("--measure", help="A valid indicator id (KIK extension); repeat for several.")],
    start: Annotated[Optional[str], typer.Option("--start", help="Period with values, start (YYYYMMDD; default 1 Jan five years ago).")] = None,
    end: Annotated[Optional[str], typer.Option("--end", help="Period with values, end (default 31 Dec last year).")] = None,
    empty_start: Annotated[str, typer.Option("--empty-start", help="Period without values, start.")] = "19000101",
    empty_end: Annotated[str, typer.Option("--empty-end", help="Period without values, end.")] = "19001231",
    invalid_measure: Annotated[str, typer.Option("--invalid-measure", help="An id that is no indicator (2.6, 2.7).")] = "0-INDIKERA-OGILTIG",
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Display threshold for case 1.6 (MSK).")] = None,
    reporting_system: Annotated[Optional[str], typer.Option("--reporting-system", help="Expected reportingSystem/hsaId (default: the logical address).")] = None,
    reporting_organization: Annotated[Optional[str], typer.Option("--reporting-organization", help="Expected reportingOrganization/hsaId.")] = None,
    contract_dir: Annotated[Optional[Path], typer.Option("--contract-dir", help="Official contract package: also validate with its XSD and constraints.sch.")] = None,
    cert: Annotated[Optional[Path], typer.Option("--cert", help="Client certificate (PEM).")] = None,
    key: Annotated[Optional[Path], typer.Option("--key", help="Its private key.")] = None,
    ca: Annotated[Optional[Path], typer.Option("--ca", help="CA bundle for the server's certificate.")] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="Do not verify the server's certificate (own test machine only).")] = False,
    consumer_hsa_id: Annotated[Optional[str], typer.Option("--consumer-hsa-id", help="Send x-rivta-serviceconsumer-hsaid, as the SoapUI suite does.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per call (VP's default producer timeout is 29).")] = 29.0,
    out: Annotated[Path, typer.Option("--out", help="Directory for the report (HTML, JSON, Markdown).")] = Path("conformance-report"),
) -> None:
    """Run Testprotokoll 1.1–1.7, 2.1–2.7 and SoapUI TestCase1/2; write the report; exit 1 on any failure."""
    from .cases import ORDER, Plan
    from .report import write
    from .runner import run as run_suite

    today = date.today()
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

    steps = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "1.x", "TestCase1", "TestCase2"]
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True) as bar:
            task = bar.add_task("Testfall", total=len(steps))

            def progress(case: str) -> None:
                bar.update(task, description=f"Testfall {case}", completed=steps.index(case))

            results, doc = run_suite(url, plan, cert=cert, key=key, ca=ca, verify=not insecure, contract_dir=contract_dir,
                                     timeout=timeout, consumer_hsa_id=consumer_hsa_id, progress=progress)
    except (ValueError, OSError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    paths = write(doc, out)
    table = Table(title=f"GetQualityIndicators v2 – {url}")
    for col in ("Nr", "Testfall", "Resultat", "Första felet"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.id, r.title, "[green]godkänt[/green]" if r.passed else "[red]underkänt[/red]", r.failures[0] if r.failures else "")
    err.print(table)
    s = doc["summary"]
    err.print(f"{s['passed']} av {len(ORDER)} godkända. Rapport: {paths['html']}, {paths['md']}, {paths['json']}")
    if s["failed"]:
        err.print(f"[red]Underkända testfall: {', '.join(s['failedCases'])}[/red]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's command group(s) to the main ``indikera`` app."""
    app.add_typer(conformance_app, name="conformance")
