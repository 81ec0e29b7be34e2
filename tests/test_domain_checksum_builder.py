"""One checksum implementation: ``ChecksumBuilder`` equals README's definition, however it is fed.

README "Checksum": SHA-256 (hex) over the content hashes in canonical order joined with "\\n"; no match gives
SHA-256 of the empty string. The answer writer, the checksum-only path and the tests all use the builder.
"""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from indikera.config import Settings
from indikera.contracts.qualityreporting_v2 import answer
from indikera.contracts.qualityreporting_v2.store_query import AnswerRow, ChecksumRow
from indikera.domain import checksum
from indikera.domain.checksum import EMPTY_CHECKSUM, ChecksumBuilder, combine

HASHES = st.lists(st.text("0123456789abcdef", min_size=64, max_size=64), max_size=60)


def documented(hashes: list[str]) -> str:
    """The definition, literally."""
    return hashlib.sha256("\n".join(hashes).encode("utf-8")).hexdigest()


def test_known_values():
    a, b = "a" * 64, "b" * 64
    assert ChecksumBuilder().hexdigest() == EMPTY_CHECKSUM == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert ChecksumBuilder().extend([a]).hexdigest() == hashlib.sha256(a.encode()).hexdigest()
    assert ChecksumBuilder().extend([a, b]).hexdigest() == hashlib.sha256(f"{a}\n{b}".encode()).hexdigest()


@given(HASHES, st.lists(st.integers(0, 60), max_size=6), st.lists(st.booleans(), min_size=8, max_size=8))
def test_builder_equals_the_definition_at_every_split(hashes, cuts, use_add):
    """Fed in pieces (``add`` one by one or ``extend`` a run), read in between: always the definition."""
    points = sorted({min(c, len(hashes)) for c in cuts} | {0, len(hashes)})
    builder = ChecksumBuilder()
    for n, (lo, hi) in enumerate(zip(points, points[1:])):
        if use_add[n % len(use_add)]:
            for item in hashes[lo:hi]:
                builder.add(item)
        else:
            builder.extend(iter(hashes[lo:hi]))
        assert builder.hexdigest() == documented(hashes[:hi])  # reading does not end the builder
        assert builder.count == hi
    assert builder.hexdigest() == documented(hashes) == combine(hashes)


def test_extend_across_its_internal_chunks():
    hashes = [f"{n:064x}" for n in range(checksum._CHUNK * 2 + 7)]
    builder = ChecksumBuilder().extend(hashes[:5])
    builder.extend(hashes[5:])
    assert builder.hexdigest() == documented(hashes) and builder.count == len(hashes)


DATES = st.dates().map(lambda d: d.isoformat())


@settings(max_examples=40)
@given(st.lists(st.tuples(st.text("0123456789abcdef", min_size=64, max_size=64), DATES, DATES), max_size=700))
def test_the_answer_writer_uses_the_definition(rows):
    """Checksum-only and full answers (whose checksum is fed per flushed run of rows) agree with it."""
    hashes = [h for h, _, _ in rows]
    only = answer.summarise((ChecksumRow(*r) for r in rows), "20000101", "20001231")
    assert only.checksum == documented(hashes) and only.count == len(rows)
    if rows:
        assert only.start == min(s for _, s, _ in rows).replace("-", "")
        assert only.end == max(e for _, _, e in rows).replace("-", "")
    else:
        assert (only.checksum, only.start, only.end) == (EMPTY_CHECKSUM, "20000101", "20001231")

    class Directory:
        def organisation(self, _id):
            return ""

        def source(self, _id):
            return ""

    full_rows = (AnswerRow(h, 1, 1, "1001", 1, s, e, None, None, "missing", *([None] * 6), "NI", *([None] * 6))
                 for h, s, e in rows)
    full = answer.full(Settings(), full_rows, Directory(), "20000101", "20001231", 10**9)
    try:
        assert full.summary == only
    finally:
        full.close()
