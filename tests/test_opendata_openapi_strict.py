"""The OpenAPI document's parameter constraints agree with the server's checks (issue #15): a date the
document's pattern allows is one the server takes, and the other way round; a timestamp the document allows
is one the server takes. Property tests over generated strings (the server's parser is the oracle)."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from indikera.opendata.openapi_strict import DATE_PATTERN, NOT_BLANK, TIMESTAMP_PATTERN
from indikera.opendata.params import parse_date, parse_timestamp
from indikera.opendata.problems import ProblemError


def _server_takes(parse, name: str, text: str) -> bool:
    try:
        parse(name, text)
        return True
    except ProblemError:
        return False


dates = st.one_of(
    st.from_regex(r"\A[0-9]{4}-?[0-9]{2}-?[0-9]{2}\Z"),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%Y%m%d") if d.year >= 1000 else d.isoformat()),
)


@settings(max_examples=600, deadline=None)
@given(dates)
def test_date_pattern_is_exactly_what_the_server_takes(text: str) -> None:
    assert bool(re.fullmatch(DATE_PATTERN, text)) == _server_takes(parse_date, "periodFrom", text), text


def test_edges() -> None:
    for ok in ("2024-02-29", "20000229", "1900-01-01", "2099-12-31", "1904-02-29"):
        assert re.fullmatch(DATE_PATTERN, ok) and _server_takes(parse_date, "p", ok)
    for bad in ("00000000", "1900-02-29", "2100-01-01", "1899-12-31", "2023-02-29", "2024-04-31", "2024-13-01"):
        assert not re.fullmatch(DATE_PATTERN, bad) and not _server_takes(parse_date, "p", bad)


@settings(max_examples=400, deadline=None)
@given(st.from_regex(TIMESTAMP_PATTERN, fullmatch=True))
def test_every_timestamp_the_document_allows_is_taken(text: str) -> None:
    assert _server_takes(parse_timestamp, "updatedSince", text), text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=5))
def test_not_blank_is_what_strip_keeps(text: str) -> None:
    assert bool(re.search(NOT_BLANK, text)) == bool(text.strip()), repr(text)
