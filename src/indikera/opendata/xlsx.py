"""A streamed XLSX workbook of one table (header + rows), for the open-data API and the preview UI.

``xlsx_chunks(header, rows)`` writes with openpyxl's write-only mode (rows are not kept in memory) into a
spooled temporary file (in memory up to 8 MB, then on disk) and yields it in 64 kB chunks: a ZIP's central
directory comes last, so no byte can be sent before the last row is written, but memory stays bounded.
Every text cell goes through ``domain.spreadsheet.safe_cell`` (no formulas from names); numbers stay numbers
of the type given (counts as int). A sheet holds at most ``MAX_ROWS`` rows: more is the caller's 400, checked before.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook

from ..domain.spreadsheet import safe_cell

MAX_ROWS = 1_048_575  # Excel's 1 048 576 rows, less the header
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CHUNK = 65_536


def _cell(value: Any) -> Any:
    # Numbers are written as given: the caller makes counts int (visfile.typed); a rate of 1.0 stays a float.
    return safe_cell(value) if isinstance(value, str) else value


def xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "Resultat") -> Iterator[bytes]:
    """The workbook's bytes. ``rows`` hold str, int, float, date or None; at most MAX_ROWS of them."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append([safe_cell(h) for h in header])
    for n, row in enumerate(rows, 1):
        if n > MAX_ROWS:
            raise ValueError(f"more than {MAX_ROWS} rows do not fit in one sheet")
        ws.append([_cell(v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=8_000_000) as out:
        wb.save(out)
        out.seek(0)
        while block := out.read(_CHUNK):
            yield block
