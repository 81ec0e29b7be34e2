"""The staff area's texts, Swedish and English (the public page's texts come from ``web.i18n``)."""

from __future__ import annotations

from collections.abc import Callable

from ..i18n import translator

TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "login_title": "Logga in som personal",
        "login_intro": "Förhandsgranskningen och godkännanden är till för registrets personal. Logga in med en administratörsnyckel (indikera admin token create) eller ett administratörscertifikat.",
        "login_token": "Administratörsnyckel",
        "login_button": "Logga in",
        "login_cert": "Logga in med certifikatet {name}",
        "login_failed": "Inloggningen misslyckades: nyckeln är okänd, har gått ut eller är återkallad.",
        "login_throttled": "För många misslyckade inloggningar från din adress. Försök igen om en stund.",
        "logout": "Logga ut",
        "logged_in_as": "Inloggad som {name}",
        "preview_banner": "FÖRHANDSGRANSKNING – så här ser {audience} sidan när det som väntar har godkänts. Sidan är inte publicerad.",
        "audience_public": "allmänheten (1177, öppna data)",
        "audience_consumer": "konsumenten {hsa} enligt dess avtal",
        "preview_title": "Förhandsgranska",
        "audience_label": "Publik",
        "audience_public_option": "Allmänheten (1177, öppna data)",
        "audience_consumer_label": "eller konsumentens HSA-id (t.ex. Vården i siffror)",
        "show": "Visa",
        "waiting_heading": "Batcher som väntar på godkännande",
        "waiting_none": "Inga batcher väntar på godkännande.",
        "col_batch": "Batch",
        "col_file": "Fil",
        "col_created": "Inläst av",
        "col_changes": "Nya / ändrade / borttagna",
        "col_action": "Åtgärd",
        "approve": "Godkänn",
        "approve_label": "Godkänn batch {id}",
        "would_refuse": "Godkännandet skulle vägras: {why}",
        "visible_heading": "Det här ser publiken efter godkännande ({n} indikatorer)",
        "hidden_heading": "Syns inte för den här publiken ({n} indikatorer)",
        "hidden_intro": "Opublicerade indikatorer, och begränsade som publiken saknar avtal för. Öppna dem för att se hur de skulle se ut.",
        "state_unpublished": "opublicerad",
        "state_restricted": "begränsad",
        "state_depublished": "avpublicerad",
        "state_open": "öppen",
        "draft_mark": "beskrivning: {status}",
        "pending_values": "{n} väntande värden",
        "pending_mark": "väntar på godkännande",
        "hidden_page": "Den här indikatorn syns inte för vald publik ({state}). Så här skulle den se ut om den publicerades.",
        "draft_page": "Beskrivningen är version {version}, status {status}: den är inte publicerad.",
        "pending_page": "Värden markerade ”väntar på godkännande” kommer från batcher som ännu inte är godkända.",
        "back_to_preview": "Tillbaka till förhandsgranskningen",
        "approved_ok": "Batch {id} är godkänd.",
        "error_403_title": "Åtgärden nekades",
        "error_csrf": "Formuläret saknar giltig kontrollkod (CSRF) eller kom från en annan webbplats. Inget har ändrats. Ladda om sidan och försök igen.",
        "error_bad_audience": "Publiken ”{value}” finns inte: ange allman eller konsument:<HSA-id>.",
        "error_429_title": "För många försök",
        "review_draft": "utkast",
        "review_in_review": "under granskning",
        "review_approved": "godkänd, ej publicerad",
        "review_published": "publicerad",
    },
    "en": {
        "login_title": "Staff login",
        "login_intro": "The preview and approvals are for the registry's staff. Log in with an admin token (indikera admin token create) or an admin certificate.",
        "login_token": "Admin token",
        "login_button": "Log in",
        "login_cert": "Log in with the certificate {name}",
        "login_failed": "Login failed: the token is unknown, expired or revoked.",
        "login_throttled": "Too many failed logins from your address. Try again in a while.",
        "logout": "Log out",
        "logged_in_as": "Logged in as {name}",
        "preview_banner": "PREVIEW – this is what {audience} will see once what is waiting has been approved. This page is not published.",
        "audience_public": "the public (1177, open data)",
        "audience_consumer": "the consumer {hsa} under its agreement",
        "preview_title": "Preview",
        "audience_label": "Audience",
        "audience_public_option": "The public (1177, open data)",
        "audience_consumer_label": "or the consumer's HSA-id (e.g. Vården i siffror)",
        "show": "Show",
        "waiting_heading": "Batches waiting for approval",
        "waiting_none": "No batch is waiting for approval.",
        "col_batch": "Batch",
        "col_file": "File",
        "col_created": "Loaded by",
        "col_changes": "Added / changed / removed",
        "col_action": "Action",
        "approve": "Approve",
        "approve_label": "Approve batch {id}",
        "would_refuse": "Approval would be refused: {why}",
        "visible_heading": "What the audience sees after approval ({n} indicators)",
        "hidden_heading": "Not visible to this audience ({n} indicators)",
        "hidden_intro": "Unpublished indicators, and restricted ones the audience has no agreement for. Open them to see how they would look.",
        "state_unpublished": "unpublished",
        "state_restricted": "restricted",
        "state_depublished": "de-published",
        "state_open": "open",
        "draft_mark": "description: {status}",
        "pending_values": "{n} waiting values",
        "pending_mark": "waiting for approval",
        "hidden_page": "This indicator is not visible to the chosen audience ({state}). This is how it would look if published.",
        "draft_page": "The description is version {version}, status {status}: it is not published.",
        "pending_page": "Values marked “waiting for approval” come from batches not yet approved.",
        "back_to_preview": "Back to the preview",
        "approved_ok": "Batch {id} is approved.",
        "error_403_title": "Action refused",
        "error_csrf": "The form has no valid check code (CSRF) or came from another site. Nothing was changed. Reload the page and try again.",
        "error_bad_audience": "The audience “{value}” does not exist: give allman or konsument:<HSA-id>.",
        "error_429_title": "Too many attempts",
        "review_draft": "draft",
        "review_in_review": "in review",
        "review_approved": "approved, not published",
        "review_published": "published",
    },
}


def staff_translator(lang: str) -> Callable[..., str]:
    """The staff texts, falling back to the public page's (``web.i18n``) for everything else."""
    table = TEXTS.get(lang, TEXTS["sv"])
    public = translator(lang)

    def t(key: str, **values: object) -> str:
        if key in table:
            return table[key].format(**values) if values else table[key]
        return public(key, **values)

    return t


__all__ = ["TEXTS", "staff_translator"]
