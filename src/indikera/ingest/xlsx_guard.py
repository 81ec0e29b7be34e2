"""Zip-bomb checks for an XLSX file, made before openpyxl inflates any part of it.

The 300 MB memory bound of an import must hold for hostile workbooks too: a 260 KB file can hold a 256 MB
cell, which openpyxl would build in memory whole (even ``load_workbook`` in read-only mode reads the
sheet). See ``docs/import.md`` (XLSX) for the limits and why they are where they are.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .problems import Problems

XLSX_MAX_PART_BYTES = 32 * 1024 * 1024  # any part but a worksheet (openpyxl holds e.g. sharedStrings whole)
XLSX_MIN_RATIO_BYTES = 1024 * 1024  # parts smaller than this are never refused for their ratio


def check_zip(path: Path, problems: Problems, max_bytes: int, max_ratio: float, max_line_bytes: int) -> None:
    """Refuse a zip bomb from the central directory, before anything is inflated: the sizes it declares
    bound what ``zipfile`` will inflate (it stops at ``file_size`` and then fails the CRC). Then stream
    each part once looking for a cell far longer than any accepted one: openpyxl (even ``load_workbook`` in
    read-only mode) would build it in memory whole."""
    try:
        zf = zipfile.ZipFile(path)
    except Exception:  # noqa: BLE001 - not a zip at all: openpyxl says so below
        return
    with zf:
        entries = zf.infolist()
        _zip_sizes(entries, problems, max_bytes, max_ratio)
        # A cell is at most max_line_bytes characters; in XML at most 6 bytes each (&quot;), plus its tag.
        limit = 6 * max_line_bytes + 4096
        for e in entries:
            if e.file_size > limit:
                try:
                    with zf.open(e) as part:
                        too_long = _overlong_run(part, limit)
                except Exception:  # noqa: BLE001 - a broken part: openpyxl reports the workbook below
                    return
                if too_long:
                    raise problems.fatal(None, None, "LINE_TOO_LONG",
                                         f"{e.filename} har en cell längre än {max_line_bytes} tecken",
                                         f"{e.filename} has a cell longer than {max_line_bytes} characters")


def _zip_sizes(entries: list, problems: Problems, max_bytes: int, max_ratio: float) -> None:
    total = 0
    for e in entries:
        total += e.file_size
        ratio = e.file_size / max(e.compress_size, 1)
        worksheet = e.filename.startswith("xl/worksheets/")
        if total > max_bytes or (not worksheet and e.file_size > XLSX_MAX_PART_BYTES):
            limit = max_bytes if total > max_bytes else XLSX_MAX_PART_BYTES
            raise problems.fatal(None, None, "XLSX_TOO_LARGE",
                                 f"arbetsboken packas upp till mer än {limit} byte ({e.filename}) – dela upp filen",
                                 f"the workbook inflates to more than {limit} bytes ({e.filename}); split the file")
        if e.file_size > XLSX_MIN_RATIO_BYTES and ratio > max_ratio:
            raise problems.fatal(None, None, "XLSX_RATIO",
                                 f"{e.filename} packas upp {ratio:.0f} gånger (högst {max_ratio:g}) – en zip-bomb?",
                                 f"{e.filename} inflates {ratio:.0f} times (at most {max_ratio:g}): a zip bomb?")


def _overlong_run(fh, limit: int) -> bool:
    """True when the XML stream has more than ``limit`` bytes between two ``<``: a cell (or tag) far longer
    than any accepted cell, which openpyxl would otherwise build in memory whole."""
    carry = b""
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            return len(carry) > limit
        data = carry + chunk
        cut = data.rfind(b"<")
        if cut < 0:
            if len(data) > limit:
                return True
            carry = data
            continue
        if cut > limit and max(map(len, data[:cut].split(b"<"))) > limit:
            return True
        carry = data[cut + 1:]
