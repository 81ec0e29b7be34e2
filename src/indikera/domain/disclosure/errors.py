"""The refusal when masking cannot protect every hidden value (import) or no longer does (approval)."""

from __future__ import annotations

from datetime import date

from ..errors import IndikeraError


class DisclosureError(IndikeraError):
    """Masking cannot protect every hidden value: the import or approval is refused, naming the cells."""

    def __init__(self, failures: list, *, approval: bool = False) -> None:
        shown = "; ".join(describe(i) for i in failures[:5])
        more = f" (+{len(failures) - 5})" if len(failures) > 5 else ""
        if approval:
            sv = (f"batchen kan inte godkännas: efter det som nu är publicerat kan maskade värden räknas fram för "
                  f"snävt: {shown}{more}. Importera om resultaten så att maskningen görs om mot det publicerade.")
            en = (f"the batch cannot be approved: given what is published now, masked values can be narrowed down "
                  f"too far: {shown}{more}. Re-import the results so that masking is redone against what is published.")
        else:
            sv = (f"maskningen kan inte skydda alla dolda värden (publicerade värden låser dem): {shown}{more}. "
                  "Ingenting har skrivits; kontrollera att delarna summerar till totalerna.")
            en = (f"masking cannot protect every hidden value (published values pin them down): {shown}{more}. "
                  "Nothing was written; check that the parts add up to the totals.")
        super().__init__("DISCLOSURE_AUDIT", sv, en)
        self.failures = failures


def describe(i) -> str:
    mid, start, end, stratum, org = i.key
    period = f"{date.fromordinal(start):%Y%m%d}–{date.fromordinal(end):%Y%m%d}"
    where = f"{mid} {period} {org.split(':', 1)[-1]}{' ' + stratum if stratum else ''}"
    if i.infeasible:
        return f"{where} {i.quantity}: motsägelsefulla värden (inconsistent values)"
    return f"{where} {i.quantity} [{i.low:g}, {i.high:g}] < {i.required}"
