"""The message catalogue: stable error codes and their Swedish and English templates.

One place for the texts people read, so that the CLI, the HTTP APIs and the SOAP faults say the same thing
in both languages. Templates use ``str.format`` placeholders, the same ones in both languages (a test checks
that). Errors whose text is built from a particular value (a SOAP request's element name, a domain rule's
numbers) may pass their own two texts instead; their type still derives from ``errors.IndikeraError``.
"""

from __future__ import annotations

import string

# code → (Swedish template, English template)
MESSAGES: dict[str, tuple[str, str]] = {
    # -- HTTP (admin API and open-data API) ------------------------------------------------------------
    "BAD_PARAMETER": ("Parametern {parameter} har ett ogiltigt värde: {problem}", "Parameter {parameter} has an invalid value: {problem}"),
    "INVALID_REQUEST": ("Anropet är ogiltigt ({field}): {problem}", "The request is invalid ({field}): {problem}"),
    "NOT_FOUND": ("Resursen finns inte.", "No such resource."),
    "METHOD_NOT_ALLOWED": ("Metoden {method} stöds inte här; tillåtna metoder: {allow}.",
                           "Method {method} is not supported here; allowed methods: {allow}."),
    "NOT_ACCEPTABLE": ("Resursen finns inte i det begärda formatet; tillgängliga: {available}.",
                       "The resource is not available in the requested format; available: {available}."),
    "TOO_LARGE": ("Anropet är större än {limit} byte.", "The request exceeds {limit} bytes."),
    "LENGTH_REQUIRED": ("Ange Content-Length.", "Content-Length is required."),
    "UNSUPPORTED_MEDIA_TYPE": ("Skicka JSON (Content-Type: application/json).", "Send JSON (Content-Type: application/json)."),
    "HTTP_ERROR": ("HTTP-fel {status}.", "HTTP error {status}."),
    "INTERNAL": ("Ett internt fel inträffade; försök igen senare.", "An internal error occurred; try again later."),
    "ADMIN_REQUIRED": ("Administratörsbehörighet krävs (admin-token eller admin-certifikat).",
                       "Admin authentication required (admin token or admin certificate)."),
    # -- description review (catalog.review_states; the raise gives the exact texts) ------------------
    "REVIEW_NOT_FOUND": ("Beskrivningen {key} finns inte.", "Description {key} does not exist."),
    "REVIEW_TRANSITION": ("{key}: ändringen är inte tillåten i denna status.", "{key}: the change is not allowed in this status."),
    "REVIEW_SELF_APPROVAL": ("{key}: författaren kan inte själv godkänna versionen.", "{key}: the author cannot approve the version."),
    "REVIEW_OLDER": ("{key}: en nyare version är redan publicerad.", "{key}: a newer version is published already."),
    "REVIEW_REASON": ("Ange ett skäl (minst {n} tecken).", "Give a reason (at least {n} characters)."),
    "REVIEW_VERSION": ("Versionen ska skrivas huvud.del, t.ex. 1.2.", "The version must be major.minor, e.g. 1.2."),
    "REVIEW_DATE": ("Datumet ska skrivas ÅÅÅÅ-MM-DD.", "The date must be YYYY-MM-DD."),
    "REVIEW_WITHIN": ("Ange ett antal dagar, t.ex. 30d.", "Give a number of days, e.g. 30d."),
    # -- publication control (publish.states) --------------------------------------------------------
    "INDICATOR_NOT_FOUND": ("Indikatorn {key} finns inte.", "Indicator {key} does not exist."),
    "BATCH_NOT_FOUND": ("Batchen {key} finns inte.", "Batch {key} does not exist."),
    "BATCH_DISCLOSURE": ("Batchen {key} kan inte godkännas: mot det som nu är publicerat kan maskade värden räknas fram "
                         "för snävt ({cells}). Importera om resultaten så att maskningen görs om.",
                         "Batch {key} cannot be approved: given what is published now, masked values can be narrowed "
                         "down too far ({cells}). Re-import the results so that masking is redone."),
    "REASON": ("Ange ett skäl (minst {n} tecken); varje ändring sparas med vem, när och varför.",
               "Give a reason (at least {n} characters); every change is recorded with who, when and why."),
    "NO_DESCRIPTION": ("Indikatorn {key} har ingen beskrivning och kan inte publiceras.",
                       "Indicator {key} has no description and cannot be published."),
    "DESCRIPTION_ERRORS": ("Beskrivningen av {key} har {n} fel och kan inte publiceras; kör 'indikera catalog validate'.",
                           "The description of {key} has {n} errors and cannot be published; run 'indikera catalog validate'."),
    "PERIOD": ("Perioden är ogiltig: {detail}.", "The period is invalid: {detail}."),
    "TRANSITION": ("Ändringen från {before} till {after} är inte tillåten.", "The change from {before} to {after} is not allowed."),
    "CATALOGUE_INVALID": ("Katalogfilen har {n} fel och importerades inte; inget ändrades.",
                          "The catalogue file has {n} errors and was not imported; nothing was changed."),
    # -- import (ingest)
    "IMPORT_UNREADABLE": ("Filen kan inte läsas vidare; se felen ovan. Inget har importerats.",
                          "The file cannot be read any further; see the problems above. Nothing was imported."),
    "IMPORT_WRITE": ("Databasen avvisade skrivningen: {detail}. Inget har skrivits.",
                     "The database refused the write: {detail}. Nothing was written."),
    # -- CPUA agreements (access.agreements) ------------------------------------------------------------
    "AGREEMENT_CONSUMER": ("Ogiltigt HSA-id för konsumenten: {consumer}.", "Not a valid consumer HSA-id: {consumer}."),
    "AGREEMENT_REFERENCE": ("Avtalsreferensen måste anges (högst 200 tecken).", "An agreement reference is required (at most 200 characters)."),
    "AGREEMENT_DATES": ("Slutdatum {valid_to} ligger före startdatum {valid_from}.", "The end date {valid_to} is before the start date {valid_from}."),
    "AGREEMENT_NO_MEASURES": ("Ange minst en indikator, eller alla begränsade.", "Name at least one indicator, or all restricted ones."),
    "AGREEMENT_UNKNOWN_MEASURES": ("Okända indikatorer (KIK-id): {ids}.", "Unknown indicators (KIK measure ids): {ids}."),
    "AGREEMENT_NOT_FOUND": ("Avtal {id} finns inte.", "Agreement {id} does not exist."),
    "AGREEMENT_ENDED": ("Avtal {id} avslutades redan {ended_at} av {ended_by}.", "Agreement {id} was already ended at {ended_at} by {ended_by}."),
}


class _Keep(dict):
    """A missing parameter shows as its placeholder rather than raising: a message never hides the error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(code: str, params: dict[str, object]) -> tuple[str, str]:
    """(Swedish, English) text of ``code`` with ``params`` filled in. An unknown code is a programming error."""
    sv, en = MESSAGES[code]
    values = _Keep({k: str(v) for k, v in params.items()})
    return sv.format_map(values), en.format_map(values)


def placeholders(template: str) -> set[str]:
    """The names a template fills in (``{n}`` → ``{"n"}``)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


__all__ = ["MESSAGES", "placeholders", "render"]
