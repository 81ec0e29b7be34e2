"""``indikera certs csr`` and ``indikera certs check`` (the logic lives in certs.py; ``cli.py`` adds them to ``certs``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

err = Console(stderr=True)


def csr(
    hsa_id: Annotated[str, typer.Option("--hsa-id", help="Systemets HSA-id (subject serialNumber). (The system's HSA-id.)")],
    cn: Annotated[str, typer.Option("--cn", help="Common name, t.ex. systemets namn. (Common name, e.g. the system's name.)")],
    org: Annotated[str, typer.Option("--org", help="Organisation (subject O). (Organisation, subject O.)")],
    key_out: Annotated[Path, typer.Option("--key-out", help="Nyckelfil att skapa (läsbar bara för ägaren). "
                                                            "(Private key file to create, mode 0600.)")],
    csr_out: Annotated[Path, typer.Option("--csr-out", help="CSR-fil att skapa (PEM). (CSR file to create, PEM.)")],
    country: Annotated[str, typer.Option("--country", help="Land (subject C). (Country, subject C.)")] = "SE",
    ec: Annotated[bool, typer.Option("--ec", help="EC P-256-nyckel i stället för RSA 2048. (EC P-256 key instead of RSA 2048.)")] = False,
    dns: Annotated[Optional[list[str]], typer.Option("--dns", help="DNS-namn i subjectAltName (kan upprepas). "
                                                                   "(DNS name for subjectAltName; repeatable.)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Skriv över en befintlig nyckelfil. (Overwrite an existing key file.)")] = False,
) -> None:
    """Skapa nyckelpar och CSR för ett SITHS-funktionscertifikat (serialNumber = HSA-id). (Create a key pair and a CSR.)"""
    from . import certs

    try:
        key_pem, csr_pem = certs.make_csr(hsa_id, cn, org, country=country, key_type="ec" if ec else "rsa",
                                          dns_names=tuple(dns or ()))
        certs.write_private(key_out, key_pem, force=force)
    except (ValueError, FileExistsError, OSError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    csr_out.write_bytes(csr_pem)
    err.print(f"Nyckel: {key_out} (endast ägaren kan läsa den). CSR: {csr_out} — skicka CSR:en till er "
              f"SITHS-utfärdare/ombud. Subject: serialNumber={hsa_id.upper()}, CN={cn}, O={org}, C={country}.")


def check(
    cert: Annotated[Path, typer.Argument(help="Certifikat (PEM, slutcertifikatet först, sedan ev. mellanliggande). "
                                              "(Certificate, PEM, leaf first; intermediates may follow.)")],
    key: Annotated[Optional[Path], typer.Option("--key", help="Privat nyckel: kontrollera att den passar. (Private key: check that it matches.)")] = None,
    ca_bundle: Annotated[Optional[Path], typer.Option("--ca-bundle", help="CA-fil som kedjan måste nå. (CA bundle the chain must reach.)")] = None,
    hsa_id: Annotated[Optional[str], typer.Option("--hsa-id", help="Förväntat HSA-id (subject serialNumber). (Expected HSA-id.)")] = None,
    url: Annotated[Optional[str], typer.Option("--url", help="https-URL för en TLS 1.2+-handskakning med certifikatet. "
                                                             "(https URL for a TLS 1.2+ handshake with this certificate.)")] = None,
    env: Annotated[Optional[str], typer.Option("--env", help="Ta --ca-bundle/--hsa-id/--key från en anslutningsprofil. "
                                                             "(Take --ca-bundle/--hsa-id/--key from a connection profile.)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata (JSON). (Machine-readable output.)")] = False,
) -> None:
    """Kontrollera ett certifikat: kedja, giltighet (60/30/7 dagar), HSA-id, nyckel, TLS; slutkod 1 vid fel. (Check a certificate.)"""
    from . import certs, environments

    if env is not None:
        try:
            e = environments.get(env)
        except (KeyError, ValueError, OSError) as exc:
            err.print(f"[red]{exc.args[0] if isinstance(exc, KeyError) else exc}[/red]")
            raise typer.Exit(2) from None
        ca_bundle = ca_bundle or e.ca_bundle
        hsa_id = hsa_id or e.producer_hsa_id or None
        key = key or e.key
        ca_names = e.ca_names  # the environment's SITHS root and function CA must be in the bundle
        if ca_bundle is None and ca_names:
            err.print(f"[red]Ingen CA-fil för {e.name}: ange --ca-bundle eller ca_bundle i profilen.[/red] "
                      f"(No CA bundle; needed: {', '.join(ca_names)}.)")
            raise typer.Exit(1)
    else:
        ca_names = ()
    try:
        findings = certs.check(cert, key_path=key, ca_bundle=ca_bundle, hsa_id=hsa_id, url=url, ca_names=ca_names)
    except (ValueError, OSError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps([f.__dict__ for f in findings], ensure_ascii=False, indent=2))
    else:
        colour = {"ok": "green", "warning": "yellow", "error": "red"}
        for f in findings:
            err.print(f"[{colour[f.level]}]{f.level.upper():8}[/{colour[f.level]}] {f.check:7} {f.text}")
    if any(f.failed for f in findings):
        raise typer.Exit(1)
