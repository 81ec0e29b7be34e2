"""The preview UI's pure parts: number and period formatting, chart geometry, tolerant description reading."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indikera.catalog import jsonformat
from indikera.domain.periods import Period
from indikera.web import chart, description, views
from indikera.web.formatting import BadPeriod, interval, number, parse_period_param, percent, period_label, period_param
from indikera.web.i18n import TEXTS
from indikera.web.pages import clean_query, matches
from indikera.web.queries import IndicatorInfo, ResultRow


def test_every_text_exists_in_both_languages():
    assert set(TEXTS["sv"]) == set(TEXTS["en"])


@pytest.mark.parametrize(
    ("start", "end", "sv", "en"),
    [
        (date(2024, 1, 1), date(2024, 12, 31), "2024", "2024"),
        (date(2024, 7, 1), date(2024, 9, 30), "2024 kv 3", "2024 Q3"),
        (date(2024, 1, 1), date(2024, 6, 30), "2024 halvår 1", "2024 H1"),
        (date(2024, 2, 1), date(2024, 2, 29), "2024-02", "2024-02"),
        (date(2024, 2, 1), date(2024, 4, 30), "2024-02-01 – 2024-04-30", "2024-02-01 – 2024-04-30"),  # not a quarter
        (date(2023, 7, 1), date(2024, 6, 30), "2023-07-01 – 2024-06-30", "2023-07-01 – 2024-06-30"),  # rolling 12
    ],
)
def test_period_labels(start, end, sv, en):
    assert period_label(Period(start, end), "sv") == sv
    assert period_label(Period(start, end), "en") == en


@given(st.dates(date(1900, 1, 1), date(2099, 12, 31)), st.integers(0, 800))
def test_period_parameter_round_trips(start, days):
    end = min(start + timedelta(days=days), date(2099, 12, 31))
    p = Period(start, end)
    assert parse_period_param(period_param(p)) == p


@pytest.mark.parametrize("text", ["", "2024", "20240101", "20240101-", "20240230-20241231", "20241231-20240101",
                                  "18991231-19000101", "２０２４0101-20241231", "20240101-20241231\n", " 20240101-20241231"])
def test_bad_period_parameters(text):
    with pytest.raises(BadPeriod):
        parse_period_param(text)


def test_numbers_read_the_swedish_or_english_way():
    assert number(1234567.891, "sv") == "1\u00a0234\u00a0567,9"
    assert number(1234567.891, "en") == "1,234,567.9"
    assert percent(0.9151, "sv") == "91,5\u00a0%"
    assert interval(0.912, 0.918, "sv", True) == "91,2–91,8\u00a0%"
    assert interval(31.25, 33.0, "en", False) == "31.2–33.0"  # round half to even, as Python formats


@given(st.text(max_size=60))
def test_clean_query_leaves_no_control_characters(text):
    cleaned = clean_query(text)
    assert not any(unicodedata.category(ch).startswith("C") for ch in cleaned)
    assert cleaned == cleaned.strip()


def test_search_matches_every_word_case_insensitively():
    assert matches("hba1C typ", "HbA1c under 52 mmol/mol vid typ 1-diabetes")
    assert not matches("hba1c stroke", "HbA1c under 52 mmol/mol vid typ 1-diabetes")
    assert matches("VÅRD", "Vård på strokeenhet")
    assert matches("syfte", "titel", None, "Syftet är")


_points = st.lists(
    st.tuples(st.floats(0, 1000, allow_nan=False), st.floats(0, 50, allow_nan=False), st.floats(0, 50, allow_nan=False), st.booleans()),
    min_size=1, max_size=25,
)


@given(_points, st.booleans())
def test_chart_geometry_keeps_points_inside_their_whiskers_and_the_plot(raw, proportion):
    scale = 1000.0 if proportion else 1.0
    points = []
    for i, (v, lo, hi, masked) in enumerate(raw):
        v = v / scale
        low, high = max(0.0, v - lo / scale), v + hi / scale
        if proportion:
            high = min(1.0, high)
        points.append(chart.Point(f"org {i}", None if masked else v, None if masked else low, None if masked else high, reference=i == 0))
    c = chart.build(points, proportion)
    assert len(c.rows) == len(points)
    assert [r.y for r in c.rows] == sorted(r.y for r in c.rows)
    assert c.ticks and all(c.plot_left - 0.1 <= t.x <= c.plot_right + 0.1 for t in c.ticks)
    assert [t.value for t in c.ticks] == sorted(t.value for t in c.ticks)
    for r, p in zip(c.rows, points, strict=True):
        if p.value is None:
            assert r.x is None and r.x_low is None
            continue
        assert c.plot_left - 0.1 <= r.x_low <= r.x <= r.x_high <= c.plot_right + 0.1
    if points[0].value is not None:
        assert c.reference_x == c.rows[0].x
    assert c.height >= c.bottom


def test_proportion_axis_stays_within_zero_and_hundred_percent():
    c = chart.build([chart.Point("a", 0.98, 0.95, 1.0), chart.Point("b", 0.02, 0.0, 0.06)], proportion=True)
    assert c.ticks[0].value >= 0 and c.ticks[-1].value <= 1


def _read(doc):
    """A stored document as the page reads it: through the catalogue's one lenient reader (version 1.3)."""
    return description.read(None if doc is None else jsonformat.from_stored(doc, "10001", (1, 3))[0])


@pytest.mark.parametrize("doc", [None, {}, {"texts": []}, {"texts": {"coverage": 5}}, {"purpose": ["x"]}, {"targets": "x"},
                                 {"targets": [{"value": True}, {"value": "3"}, 7]}, {"direction": 3}, {"sources": [1, None, "ok"]}])
def test_description_reading_tolerates_odd_documents(doc):
    view = _read(doc)
    assert [t.key for t in view.texts][:5] == ["coverage", "dropout", "reporting", "interpretation", "sourcesOfError"]


def test_description_reads_the_catalogue_format():
    view = _read({"purpose": " Syfte ", "direction": "low", "indicatorType": "process", "sources": ["A", ""],
                  "texts": {"coverage": "T", "interpretationPublic": "P"}, "_version": "9.9",
                  "targets": [{"level": "målnivå", "organisation": "riket", "value": 0.9}]})
    assert view.present and view.purpose == "Syfte" and view.direction_key == "direction_low" and view.version == "1.3"
    assert view.indicator_type == "process" and view.sources == ("A",)
    assert {t.key: t.text for t in view.texts} == {"coverage": "T", "dropout": None, "reporting": None, "interpretation": None,
                                                    "sourcesOfError": None, "interpretationPublic": "P"}
    assert view.targets[0].value == 0.9


def _row(org_type, point, low=None, high=None, reason=None, name="x", coverage=None):
    return ResultRow(name, org_type, None, "", "proportion" if point is not None else "missing", point, None, None, None, None,
                     None, reason, low, high, coverage)


def test_versus_riket_needs_an_interval_that_excludes_the_national_value():
    rows = [_row("Land", 0.5, 0.49, 0.51), _row("Vardenhet", 0.7, 0.6, 0.8), _row("Vardenhet", 0.3, 0.2, 0.4),
            _row("Vardenhet", 0.52, 0.45, 0.6), _row("Vardenhet", None, reason="MSK"), _row("Vardenhet", None, reason="UNK")]
    ref = views.riket_point(rows)
    assert [views.versus(r, ref) for r in rows] == [None, "above", "below", None, None, None]
    c = views.completeness(rows, "sv")
    assert (c.units, c.reported, c.masked, c.unreported, c.above, c.below, c.comparable) == (5, 3, 1, 1, 1, 1, True)


def test_rows_are_ordered_riket_lan_then_smaller_units_in_swedish_order():
    rows = [_row("Vardenhet", 0.5, name="Ö"), _row("Lan", 0.5, name="Örebro län"), _row("Lan", 0.5, name="Ängelholm"),
            _row("Land", 0.5, name="Riket"), _row("Sjukhus", 0.5, name="A"), _row("Lan", 0.5, name="Åland")]
    assert [r.organisation for r in views.ordered(rows)] == ["Riket", "Åland", "Ängelholm", "Örebro län", "A", "Ö"]


def test_table_rows_for_each_kind():
    ind = IndicatorInfo(1, "1", 1, "t", "Andel", "proportion", "year", None, None)
    [r] = views.table_rows([ResultRow("Riket", "Land", None, "", "proportion", 0.25, 25, 100, None, None, None, None, 0.17, 0.35, 0.9)], ind, "sv")
    assert (r.value, r.ci, r.numden, r.coverage, r.reason_code) == ("25,0\u00a0%", "17,0–35,0\u00a0%", "25 / 100", "90,0\u00a0%", None)
    [m] = views.table_rows([_row("Vardenhet", None, reason=None)], ind, "en")
    assert m.value is None and m.reason_code == "NI"  # missing without a code still says why


def test_the_page_reads_the_texts_the_catalogue_requires():
    from indikera.catalog import model

    assert [k for k, _ in description.REQUIRED_TEXTS] == [k for k, _ in model.REQUIRED_TEXTS]
    assert {k for k, _ in description.OPTIONAL_TEXTS} <= {k for k, _ in model.OPTIONAL_TEXTS}


def test_a_subnormal_span_still_gets_a_step():
    """Found by the geometry property test: span / 5 underflowed to 0 and log10 raised (a 500 on the page)."""
    assert chart.nice_step(5e-324) == 5e-324
    c = chart.build([chart.Point("a", 5e-324, 0.0, 1e-323)], proportion=False)
    assert c.ticks and c.rows[0].x is not None
