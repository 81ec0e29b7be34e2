"""The one rule for text written to a CSV or XLSX export (OWASP "CSV injection").

A spreadsheet program opening an export runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab
or carriage return before one) as a formula: an organisation name such as ``=cmd|' /C calc'!A0`` would run
on the reader's machine. Every CSV/XLSX writer passes each *text* cell (names, ids, codes) through
:func:`safe_cell`, which prefixes such a cell with ``'`` so that it is shown as text. Number cells are written
by the writers' own number formatting and never pass through here: ``-0.5`` stays a number. The stored
value is unchanged; JSON and SOAP answers carry it as it is.
"""

from __future__ import annotations

FORMULA_STARTS = frozenset("=+-@\t\r")


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it literally: ``'`` before a leading formula character."""
    return "'" + text if text and text[0] in FORMULA_STARTS else text
