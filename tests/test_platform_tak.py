"""TAK export loading and VP's lookup rules (case-insensitive keys, validity windows, the `*` and HSA fallbacks)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indikera.platform.tak import Tak, TakError, TakSource, export_document, load_export, load_file, parse_time

NS = "urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicatorsResponder:2"
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def tak(routes, permissions, **kw) -> Tak:
    return load_export(export_document(routes, permissions, **kw))


def route(la="SE1", url="https://p/x", comp="PROD"):
    return {"logiskAdress": la, "tjanstekontrakt": NS, "adress": url, "rivtaprofil": "RIVTABP21", "tjanstekomponent": comp}


def perm(la="SE1", consumer="CONS"):
    return {"logiskAdress": la, "tjanstekontrakt": NS, "tjanstekonsument": consumer}


# The older export format (skltp/tak tak-core test resource export.json): relationships by id.
OLD_EXPORT = {
    "formatVersion": "1", "version": "1", "tidpunkt": "2009-03-10T00:00:00+0100", "utforare": "Kalle", "kommentar": "k",
    "data": {
        "rivtaprofil": [{"id": 4, "namn": "rivtabp20"}, {"id": 5, "namn": "rivtabp21"}],
        "tjanstekontrakt": [{"id": 1, "namnrymd": "XXX", "majorVersion": 1, "minorVersion": 0}],
        "logiskadress": [{"id": 22, "hsaId": "test-hsa", "beskrivning": "Logisk adress HSAID TEST"}],
        "tjanstekomponent": [{"id": 2, "hsaId": "hsa2"}, {"id": 8, "hsaId": "hsa8"}],
        "anropsadress": [{"id": 2, "adress": "http://path/to/some/address/rivtabp21", "relationships": {"rivtaprofil": 5, "tjanstekomponent": 8}}],
        "anropsbehorighet": [{"id": 21, "integrationsavtal": "ia21", "fromTidpunkt": "2009-03-10T00:00:00+0100",
                              "tomTidpunkt": "2010-12-24T00:00:00+0100", "relationships": {"logiskAdress": 22, "tjanstekomponent": 2, "tjanstekontrakt": 1}}],
        "vagval": [{"id": 11, "fromTidpunkt": "2009-03-10T00:00:00+0100", "tomTidpunkt": "2010-12-24T00:00:00+0100",
                    "relationships": {"anropsadress": 2, "logiskadress": 22, "tjanstekontrakt": 1}}],
        "filter": [], "filtercategorization": [],
    },
}


def test_loads_the_id_based_export_format():
    t = load_export(OLD_EXPORT)
    when = datetime(2010, 1, 1, tzinfo=timezone.utc)
    [r] = t.routes_for("TEST-HSA", "xxx", when)
    assert (r.address, r.riv_profile, r.producer_hsa_id) == ("http://path/to/some/address/rivtabp21", "rivtabp21", "hsa8")
    assert t.is_authorised("HSA2", "test-hsa", "XXX", when)
    assert not t.routes_for("test-hsa", "XXX", datetime(2011, 1, 1, tzinfo=timezone.utc))  # outside the window


def test_loads_the_name_based_export_format():
    t = tak([route()], [perm()])
    assert [r.address for r in t.routes_for("SE1", NS, NOW)] == ["https://p/x"]
    assert t.is_authorised("CONS", "SE1", NS, NOW)


def test_validity_window_is_inclusive_and_date_only_tom_lasts_the_day():
    t = tak([route()], [perm()], valid_from="2026-06-01", valid_to="2026-06-01")
    assert t.routes_for("SE1", NS, datetime(2026, 6, 1, 0, 0, tzinfo=timezone.utc))
    assert t.routes_for("SE1", NS, datetime(2026, 6, 1, 23, 59, 59, tzinfo=timezone.utc))
    assert not t.routes_for("SE1", NS, datetime(2026, 6, 2, 0, 0, 1, tzinfo=timezone.utc))
    assert not t.routes_for("SE1", NS, datetime(2026, 5, 31, 23, 59, tzinfo=timezone.utc))


def test_star_fallbacks():
    t = tak([route("*", "https://default/x")], [perm("*", "CONS")])
    assert [r.address for r in t.routes_for("ANY-ADDRESS", NS, NOW)] == ["https://default/x"]
    assert t.is_authorised("cons", "ANY-ADDRESS", NS, NOW)  # permitted on * → any logical address
    assert not t.is_authorised("OTHER", "ANY-ADDRESS", NS, NOW)
    assert not t.routes_for("SE1", "urn:other:contract", NOW)


def test_exact_route_wins_over_star_and_two_exact_routes_are_both_returned():
    t = tak([route("*", "https://default/x"), route("SE1", "https://a/x"), route("SE1", "https://b/x", "OTHER")], [])
    assert sorted(r.address for r in t.routes_for("SE1", NS, NOW)) == ["https://a/x", "https://b/x"]  # → VP006


def test_hsa_tree_fallback_orders_differ_for_routes_and_permissions():
    parents = {"SE-UNIT": "SE-HOSPITAL", "SE-HOSPITAL": "SE-REGION"}
    doc = export_document([route("SE-REGION", "https://region/x"), route("*", "https://star/x")], [perm("SE-REGION", "CONS")])
    t = load_export(doc, parents)
    # vägval: exact → HSA parents → *
    assert [r.address for r in t.routes_for("SE-UNIT", NS, NOW)] == ["https://region/x"]
    assert [r.address for r in t.routes_for("SE-ELSEWHERE", NS, NOW)] == ["https://star/x"]
    assert t.is_authorised("CONS", "SE-UNIT", NS, NOW)
    # without an HSA map there is no climbing
    assert [r.address for r in load_export(doc).routes_for("SE-UNIT", NS, NOW)] == ["https://star/x"]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20), st.data())
def test_lookups_ignore_case(hsa, data):
    t = tak([route(hsa)], [perm(hsa, "CONS-" + hsa)])
    flip = "".join(c.lower() if data.draw(st.booleans()) else c for c in hsa)
    ns = "".join(c.upper() if data.draw(st.booleans()) else c for c in NS)
    assert len(t.routes_for(flip, ns, NOW)) == 1
    assert t.is_authorised(("cons-" + hsa).swapcase(), flip, ns, NOW)


def test_whitespace_in_the_logical_address_does_not_match():
    t = tak([route("SE1")], [perm()])
    assert not t.routes_for(" SE1", NS, NOW) and not t.routes_for("SE1\n", NS, NOW)


@pytest.mark.parametrize("text, expected", [
    ("2009-03-10T00:00:00+0100", datetime(2009, 3, 9, 23, tzinfo=timezone.utc)),
    ("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, tzinfo=timezone.utc)),
    ("2024-01-01", datetime(2024, 1, 1, tzinfo=timezone.utc)),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("doc, words", [
    ({}, "data"),
    ({"data": {"vagval": "x"}}, "data.vagval"),
    ({"data": {"vagval": [{"relationships": {"logiskAdress": "A", "anropsadress": "https://nowhere", "tjanstekontrakt": NS}}]}}, "vagval[0]"),
    ({"data": {"anropsbehorighet": [{"relationships": {"logiskAdress": 7, "tjanstekonsument": "C", "tjanstekontrakt": NS}}]}}, "anropsbehorighet[0]"),
    ({"data": {"anropsbehorighet": [{"fromTidpunkt": "igår", "relationships": {"logiskAdress": "A", "tjanstekonsument": "C", "tjanstekontrakt": NS}}]}}, "tidpunkt"),
])
def test_broken_exports_are_refused_saying_where(doc, words):
    with pytest.raises(TakError) as exc:
        load_export(doc)
    assert words in str(exc.value)


def test_load_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "tak.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(TakError, match="tak.json"):
        load_file(bad)


def test_source_reloads_on_change_and_keeps_the_last_good_copy(tmp_path):
    f = tmp_path / "tak.json"
    src = TakSource(f)
    assert src.current() is None  # never loaded: every call gets VP008
    f.write_text(json.dumps(export_document([route("SE1")], [perm()])), encoding="utf-8")
    assert src.current().routes_for("SE1", NS, NOW)
    f.write_text(json.dumps(export_document([route("SE1"), route("SE2")], [perm()])) + " ", encoding="utf-8")
    assert src.current().routes_for("SE2", NS, NOW)  # published change picked up
    f.write_text("{broken", encoding="utf-8")
    assert src.current().routes_for("SE2", NS, NOW) and "tak.json" in src.last_error
