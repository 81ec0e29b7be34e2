"""``indikera certs csr`` and ``indikera certs check`` (the logic lives in certs.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

err = Console(stderr=True)


def register_cert_commands(certs_app: typer.Typer) -> None:
    @certs_app.command("csr")
    def csr(
        hsa_id: Annotated[str, typer.Option("--hsa-id", help="The system's HSA-id (subject serialNumber).")],
        cn: Annotated[str, typer.Option("--cn", help="Common name, e.g. the system's name.")],
        org: Annotated[str, typer.Option("--org", help="Organisation (subject O).")],
        key_out: Annotated[Path, typer.Option("--key-out", help="Private key file to create (mode 0600).")],
        csr_out: Annotated[Path, typer.Option("--csr-out", help="CSR file to create (PEM).")],
        country: Annotated[str, typer.Option("--country", help="Subject C.")] = "SE",
        ec: Annotated[bool, typer.Option("--ec", help="EC P-256 key instead of RSA 2048.")] = False,
        dns: Annotated[Optional[list[str]], typer.Option("--dns", help="DNS name for subjectAltName (repeatable).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing key file.")] = False,
    ) -> None:
        """Create a key pair and a CSR for a SITHS function certificate (serialNumber = HSA-id, CN, O, C=SE)."""
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

    @certs_app.command("check")
    def check(
        cert: Annotated[Path, typer.Argument(help="Certificate (PEM, leaf first; intermediates may follow).")],
        key: Annotated[Optional[Path], typer.Option("--key", help="Private key: check that it matches.")] = None,
        ca_bundle: Annotated[Optional[Path], typer.Option("--ca-bundle", help="CA bundle the chain must reach.")] = None,
        hsa_id: Annotated[Optional[str], typer.Option("--hsa-id", help="Expected HSA-id (subject serialNumber).")] = None,
        url: Annotated[Optional[str], typer.Option("--url", help="https URL for a TLS 1.2+ handshake with this certificate.")] = None,
        env: Annotated[Optional[str], typer.Option("--env", help="Take --ca-bundle/--hsa-id/--key from a connection profile.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Check a certificate: chain, expiry (60/30/7 days), HSA-id, key, TLS handshake. Exit 1 on any error."""
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
        try:
            findings = certs.check(cert, key_path=key, ca_bundle=ca_bundle, hsa_id=hsa_id, url=url)
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
